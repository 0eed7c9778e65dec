//! The pipeline: parse → check → lower → differentiate → optimise → verify → emit.

use super::activity::Activity;
use super::errors::Errors;
use super::forward::{Jvp, forward};
use super::generate::{self, Context, Layout};
use super::ir::verify::verify;
use super::ir::{Function, Op, Stmt, VarId};
use super::optimize::dce::dce;
use super::optimize::fuse::fuse;
use super::reverse::{Mode, reverse};
use super::signature::{ParamKind, Signature};
use super::{args, graph, jacobian, lower, signature};
use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::quote;
use std::collections::HashSet;

/// Expands `#[derive_grad(attr)] item`: the item unchanged, and beside it the generated
/// functions, or, if anything is outside the subset, every error with stubs of the generated
/// functions.
pub fn derive_grad(attr: TokenStream, item: &TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = args::parse(attr, &mut errors);
    let Ok(func) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        errors.spanned(item, "`#[derive_grad]` applies to functions (`fn`)");
        let errors = errors.to_compile_errors();
        return quote!(#item #errors);
    };
    let Some(sig) = signature::analyze(&func, &mut errors) else {
        let errors = errors.to_compile_errors();
        return quote!(#item #errors);
    };
    let wrt = wrt_mask(&options, &sig, &func, &mut errors);
    let layout = match sig.outputs {
        Some(_) => match sig.columns(&wrt) {
            Ok((columns, width)) => Some(Layout { columns, width }),
            Err((ty, message)) => {
                errors.spanned(&ty, message);
                None
            }
        },
        None => None,
    };
    if let Some(option) = &options.hessian {
        hessian_supported(option, &sig, &wrt, &mut errors);
    }
    let primal = lower::lower(&func, &sig, &mut errors);
    if let (Some(primal), Some(_)) = (&primal, &options.hessian) {
        hessian_without_calls(primal, &mut errors);
    }
    if let (Some(primal), Some(option)) = (&primal, &options.graph) {
        graph_supported(primal, option, &sig, &mut errors);
    }
    let reserved = identifiers(item);
    let cx = Context {
        item: &func,
        sig: &sig,
        krate: &options.krate,
        reserved: &reserved,
        wrt: &wrt,
        jvp: options.jvp.is_some(),
        hessian: options.hessian.is_some(),
        graph: options.graph.is_some(),
        layout: layout.as_ref(),
    };
    let primal = match primal {
        Some(primal) if errors.is_empty() => primal,
        _ => {
            let stubs = generate::stubs(&cx);
            let errors = errors.to_compile_errors();
            return quote!(#item #stubs #errors);
        }
    };
    match differentiate(&cx, &primal) {
        Ok(generated) => quote!(#item #generated),
        Err(internal) => {
            let stubs = generate::stubs(&cx);
            let message = format!(
                "internal error in `#[derive_grad]`: {internal}; please report this with the \
                 function"
            );
            quote!(#item #stubs ::core::compile_error!(#message);)
        }
    }
}

/// The generated functions, the IR of each checked by the verifier before it is printed.
fn differentiate(cx: &Context<'_>, primal: &Function) -> Result<TokenStream, String> {
    verify(primal).map_err(|e| format!("lowered IR: {e}"))?;
    let floats: Vec<bool> = cx
        .sig
        .params
        .iter()
        .map(|p| p.kind.differentiable())
        .collect();
    let graph = Activity::analyze(primal, &floats);
    let graph: Vec<bool> = (0..primal.nodes.len())
        .map(|i| graph.active(super::ir::NodeId(u32::try_from(i).unwrap_or(u32::MAX))))
        .collect();

    debug_ir("primal", primal);
    let mut pullback = reverse(primal, &floats, Mode::Pullback);
    // A pullback returns nothing: only its buffer writes are results.
    pullback.f.ret = None;
    optimize(&mut pullback.f, &[], "pullback")?;
    let mut items = Vec::new();
    match (&cx.sig.outputs, cx.layout) {
        (Some(outputs), Some(layout)) if layout.forward(outputs) => {
            let tangent = jvp(primal, &floats)?;
            items.push(generate::jacobian_by_columns(
                cx,
                layout,
                &tangent,
                &tangent.graph,
            ));
        }
        (Some(outputs), Some(layout)) => {
            let adjoint = reverse(primal, cx.wrt, Mode::Jacobian);
            let mut rows = jacobian::rows(adjoint, &layout.columns, &layout.width, outputs);
            optimize(&mut rows.f, &[rows.matrix], "jacobian")?;
            items.push(generate::jacobian_by_rows(cx, layout, &rows, &graph));
        }
        (Some(_), None) => {}
        (None, _) => {
            let mut grad = reverse(primal, cx.wrt, Mode::Grad);
            let roots: Vec<_> = grad.grads.iter().flatten().copied().collect();
            optimize(&mut grad.f, &roots, "grad")?;
            items.push(generate::grad(cx, &grad, &graph));
        }
    }
    items.push(generate::pullback(cx, &pullback, &graph));
    if cx.hessian {
        // Forward over reverse: the tangent of the gradient along eⱼ is column j.
        let mut grad = reverse(primal, cx.wrt, Mode::Grad);
        let roots: Vec<VarId> = grad.grads.iter().flatten().copied().collect();
        optimize(&mut grad.f, &roots, "grad for hessian")?;
        let mut hvp = forward(&grad.f, cx.wrt)?;
        let mut roots = roots;
        roots.extend(roots.clone().iter().filter_map(|g| hvp.var_tangents.get(g)));
        optimize(&mut hvp.f, &roots, "hessian-vector product")?;
        items.push(generate::hessian(cx, &grad.grads, &hvp));
    }
    if cx.graph {
        let name = Ident::new("graph", proc_macro2::Span::mixed_site());
        let mut recording = graph::record(primal, &floats, &name);
        optimize(&mut recording.f, &[], "graph")?;
        items.push(generate::graph(cx, &recording, &name));
    }
    if cx.jvp {
        let tangent = jvp(primal, &floats)?;
        items.push(generate::jvp(cx, &tangent, &tangent.graph));
    }
    Ok(quote!(#(#items)*))
}

/// Removes what does not reach the result or the variables `roots`, fuses zero-initialised
/// accumulators, and checks the IR.
fn optimize(f: &mut Function, roots: &[VarId], what: &str) -> Result<(), String> {
    dce(f, &[], roots);
    fuse(f);
    debug_ir(what, f);
    verify(f).map_err(|e| format!("{what} IR: {e}"))
}

/// The forward-mode IR, checked.
fn jvp(primal: &Function, floats: &[bool]) -> Result<Jvp, String> {
    let mut tangent = forward(primal, floats)?;
    let roots: Vec<_> = tangent.tangent.into_iter().collect();
    dce(&mut tangent.f, &roots, &[]);
    verify(&tangent.f).map_err(|e| format!("jvp IR: {e}"))?;
    debug_ir("jvp", &tangent.f);
    Ok(tangent)
}

/// With `GRAD_DEBUG_IR` set, prints the IR of each generated function while it expands.
fn debug_ir(what: &str, f: &Function) {
    if std::env::var_os("GRAD_DEBUG_IR").is_some() {
        eprintln!("--- {what} ---\n{f}");
    }
}

/// `hessian` is for a scalar function of scalar parameters.
fn hessian_supported(option: &Ident, sig: &Signature, wrt: &[bool], errors: &mut Errors) {
    if sig.outputs.is_some() {
        errors.spanned(
            option,
            "`hessian` needs a function returning one float; a function returning an array gets \
             `_jacobian`",
        );
    }
    for (p, _) in sig.params.iter().zip(wrt).filter(|(_, w)| **w) {
        if !matches!(p.kind, ParamKind::Float(_)) {
            errors.spanned(
                &p.ty,
                format_args!(
                    "`hessian` needs scalar float parameters; exclude `{}` with `wrt(...)`",
                    p.ident
                ),
            );
        }
    }
}

/// Graph mode records one node per value, so it needs code without loops and arrays (the
/// trace of a loop would be a graph per call, which is not implemented yet).
fn graph_supported(primal: &Function, option: &Ident, sig: &Signature, errors: &mut Errors) {
    let message = "`graph` does not support loops, arrays or vector outputs yet: it draws scalar \
                   code with branches and calls; remove `graph` to differentiate this function";
    let mut at: Option<proc_macro2::Span> = None;
    let mut refused = sig.outputs.is_some()
        || primal
            .params
            .iter()
            .any(|p| primal.node(p.node).ty.is_array());
    primal.body.walk(&mut |stmt| match stmt {
        Stmt::Loop(l) => {
            refused = true;
            // The loop's variable, or else its first value, says where it is.
            let inside = l.body.stmts.iter().find_map(|s| match s {
                Stmt::Let(n) => Some(*n),
                _ => None,
            });
            at = at.or(l.index.or(inside).map(|n| primal.node(n).span));
        }
        Stmt::Let(n) if primal.node(*n).ty.is_array() => {
            refused = true;
            at = at.or(Some(primal.node(*n).span));
        }
        Stmt::Store(_) => refused = true,
        _ => {}
    });
    match (refused, at) {
        (true, Some(span)) => errors.at(span, message),
        (true, None) => errors.spanned(option, message),
        (false, _) => {}
    }
}

/// Forward mode over a call's pullback would need the callee's second derivatives.
fn hessian_without_calls(primal: &Function, errors: &mut Errors) {
    primal.body.walk(&mut |stmt| {
        if let Stmt::Let(n) = stmt
            && let node = primal.node(*n)
            && let Op::Call(callee) = node.op
        {
            errors.at(
                node.span,
                format!(
                    "`hessian` cannot differentiate through the call to `{}` yet; write its body \
                     inline, or use `_grad` of this function with dual numbers (see the manual)",
                    primal.sym(callee)
                ),
            );
        }
    });
}

/// `wrt(...)` as a mask over the parameters; by default every float parameter.
fn wrt_mask(
    options: &args::Options,
    sig: &Signature,
    func: &syn::ItemFn,
    errors: &mut Errors,
) -> Vec<bool> {
    let floats = sig.params.iter().map(|p| p.kind.differentiable());
    let Some(names) = &options.wrt else {
        for p in sig
            .params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Opaque))
        {
            let listed: Vec<String> = sig.floats().map(|(_, p)| p.ident.to_string()).collect();
            errors.spanned(
                &p.ty,
                format_args!(
                    "`#[derive_grad]` cannot differentiate with respect to `{}`: its type is \
                     not a float, nor an array, slice or `Vec` of floats; to keep it as a \
                     constant, name the parameters to differentiate: \
                     `#[derive_grad(wrt({}))]`",
                    p.ident,
                    listed.join(", ")
                ),
            );
        }
        return floats.collect();
    };
    let mut mask = vec![false; sig.params.len()];
    for name in names {
        match sig.params.iter().position(|p| p.ident == *name) {
            Some(i) if sig.params[i].kind.differentiable() => mask[i] = true,
            Some(_) => errors.spanned(
                name,
                format_args!(
                    "`{name}` is not a float parameter; `wrt` lists the float (or float array) \
                     parameters to differentiate with respect to"
                ),
            ),
            None => errors.spanned(
                name,
                format_args!("`{name}` is not a parameter of `{}`", func.sig.ident),
            ),
        }
    }
    mask
}

/// Every identifier in `tokens`: the names generated code must not take.
fn identifiers(tokens: &TokenStream) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut stack = vec![tokens.clone()];
    while let Some(stream) = stack.pop() {
        for tree in stream {
            match tree {
                TokenTree::Ident(ident) => {
                    out.insert(ident.to_string());
                }
                TokenTree::Group(group) => stack.push(group.stream()),
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// Regression (found by the panic fuzzer): a `match` with no arms indexed its first arm.
    #[test]
    fn an_empty_match_is_an_error_not_a_panic() {
        let out = super::derive_grad(
            proc_macro2::TokenStream::new(),
            &quote::quote! {
                fn f(x: f64, n: usize) -> f64 { match n % 3 {} x }
            },
        );
        let text = out.to_string();
        assert!(text.contains("no arms"), "{text}");
    }

    fn expand(item: &proc_macro2::TokenStream) -> String {
        super::derive_grad(proc_macro2::TokenStream::new(), item).to_string()
    }

    /// Regression: a float literal that is infinite, or whose `f32` image is, reached
    /// `Literal::f64_suffixed`, which panics on infinite values.
    #[test]
    fn infinite_literals_do_not_panic() {
        let text = expand(&quote::quote! {
            #[allow(overflowing_literals)]
            fn f(x: f64) -> f64 { x * 1e400_f64.sin() + 1e400 * x }
        });
        assert!(
            text.contains("f_grad") && !text.contains("compile_error"),
            "{text}"
        );
        let text = expand(&quote::quote! {
            fn g(x: f32) -> f32 { x * f32::sqrt(1e39) }
        });
        assert!(
            text.contains("g_grad") && !text.contains("compile_error"),
            "{text}"
        );
    }

    /// Regression: literal loop bounds near `i128::MAX` overflowed while sizing tapes.
    #[test]
    fn huge_literal_bounds_do_not_overflow() {
        let text = expand(&quote::quote! {
            fn f(x: f64) -> f64 {
                let mut s = x;
                for i in 0..=170141183460469231731687303715884105727i128 { s = s.sin(); if i > 3 { break; } }
                for _ in (-170141183460469231731687303715884105727i128..170141183460469231731687303715884105727).step_by(9) { s = s * x; break; }
                s
            }
        });
        assert!(
            text.contains("f_grad") && !text.contains("internal error"),
            "{text}"
        );
    }

    /// Regression: raw identifiers (`r#type`) made the macro panic while naming values.
    #[test]
    fn raw_identifiers_do_not_panic() {
        let out = super::derive_grad(
            proc_macro2::TokenStream::new(),
            &quote::quote! {
                fn r#match(r#type: f64, _: f64) -> f64 { let r#loop = r#type * 2.0; r#loop.sin() }
            },
        );
        let text = out.to_string();
        assert!(text.contains("match_grad"), "{text}");
        assert!(!text.contains("compile_error"), "{text}");
    }
}
