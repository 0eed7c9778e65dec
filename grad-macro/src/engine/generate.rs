//! The generated items: signatures, docs and attributes around the emitted bodies.

use super::emit::Emitter;
use super::forward::Jvp;
use super::graph::Recording;
use super::ir::VarId;
use super::jacobian::Rows;
use super::reverse::Adjoint;
use super::signature::{Column, Offset, ParamKind, Signature};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use std::collections::HashSet;

/// What every generated item shares.
pub struct Context<'a> {
    /// The user's function.
    pub item: &'a syn::ItemFn,
    /// Its analysed signature.
    pub sig: &'a Signature,
    /// Path of the `grad` crate.
    pub krate: &'a TokenStream,
    /// Every identifier of the user's function.
    pub reserved: &'a HashSet<String>,
    /// For each parameter, whether `_grad` returns its gradient.
    pub wrt: &'a [bool],
    /// Whether `_jvp` is wanted.
    pub jvp: bool,
    /// Whether `_hessian` is wanted.
    pub hessian: bool,
    /// Whether `_graph` is wanted.
    pub graph: bool,
    /// The columns of `f_jacobian`, for a function returning `[f64; M]`.
    pub layout: Option<&'a Layout>,
}

/// The columns of a Jacobian.
pub struct Layout {
    /// One block per active parameter.
    pub columns: Vec<Column>,
    /// Their number, `N`.
    pub width: Offset,
}

impl Layout {
    /// Forward sweeps (one per column) when the function has more outputs than inputs, both
    /// numbers being literals; otherwise reverse sweeps (one per output).
    pub fn forward(&self, outputs: &syn::Expr) -> bool {
        let m = match outputs {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(m),
                ..
            }) => m.base10_parse::<u64>().ok(),
            _ => None,
        };
        self.width.named.is_empty() && m.is_some_and(|m| m > self.width.known)
    }
}

impl Context<'_> {
    pub fn name(&self, suffix: &str) -> syn::Ident {
        let ident = &self.item.sig.ident;
        format_ident!("{}_{}", ident, suffix, span = ident.span())
    }

    /// The user's parameters, without `mut` (generated bodies never reassign them).
    fn params(&self) -> Vec<TokenStream> {
        self.sig
            .params
            .iter()
            .map(|p| {
                let (ident, ty) = (&p.ident, &p.ty);
                quote!(#ident: #ty)
            })
            .collect()
    }

    /// `#vis fn name<generics>`, after the user's own `#[allow(…)]` and `#[cfg(…)]`, which
    /// apply to the generated functions as to theirs.
    fn head(&self, suffix: &str) -> TokenStream {
        let inherited = self.item.attrs.iter().filter(|a| {
            let path = a.path();
            path.is_ident("allow") || path.is_ident("cfg") || path.is_ident("cfg_attr")
        });
        let vis = &self.item.vis;
        let name = self.name(suffix);
        let generics = &self.item.sig.generics;
        quote!(#(#inherited)* #vis fn #name #generics)
    }

    /// The gradient's type in `_grad`: bare for one parameter, a tuple otherwise; each in the
    /// shape of its parameter.
    fn grad_type(&self) -> TokenStream {
        let tys: Vec<syn::Type> = self
            .sig
            .params
            .iter()
            .zip(self.wrt)
            .filter(|(_, w)| **w)
            .map(|(p, _)| p.kind.grad_type(&p.ty))
            .collect();
        if tys.len() == 1 {
            let ty = &tys[0];
            quote!(#ty)
        } else {
            quote!((#(#tys),*))
        }
    }

    /// `fn f_grad(params…) -> (Out, Gradient)`.
    fn grad_sig(&self) -> TokenStream {
        let head = self.head("grad");
        let params = self.params();
        let ret_ty = &self.sig.ret_ty;
        let grad_ty = self.grad_type();
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) -> (#ret_ty, #grad_ty) #bounds)
    }

    /// `fn f_pullback(params…, d_out: Out, d_p: &mut P…)`, with the buffers of the float
    /// parameters named `buffers`, in declaration order.
    fn pullback_sig(&self, seed: &Ident, buffers: &[Ident]) -> TokenStream {
        let head = self.head("pullback");
        let mut params = self.params();
        let ret_ty = &self.sig.ret_ty;
        params.push(quote!(#seed: #ret_ty));
        for ((_, p), name) in self.sig.floats().zip(buffers) {
            let ty = p.kind.buffer_type(&p.ty);
            params.push(quote!(#name: #ty));
        }
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) #bounds)
    }

    /// `fn f_jvp(params…, t_p: P…) -> (Out, Out)`, with the tangents of the float parameters
    /// named `tangents`, in declaration order.
    fn jvp_sig(&self, tangents: &[TokenStream]) -> TokenStream {
        let head = self.head("jvp");
        let mut params = self.params();
        for ((_, p), name) in self.sig.floats().zip(tangents) {
            let ty = p.kind.tangent_type(&p.ty);
            params.push(quote!(#name: #ty));
        }
        let ret_ty = &self.sig.ret_ty;
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) -> (#ret_ty, #ret_ty) #bounds)
    }

    /// The start of `f_pullback`: an infinite `d_out` (a caller's `√` at 0) is split, by
    /// linearity, into its finite part and ∞ times its direction, with `0 · ∞ = 0` — what
    /// the caller's own strong zeros would give if this body were inlined there
    /// (`grad_runtime::Unbounded`).
    fn unbounded_pullback(&self, seed: &Ident, buffers: &[Ident]) -> TokenStream {
        let (krate, name) = (self.krate, self.name("pullback"));
        let args: Vec<&Ident> = self.sig.params.iter().map(|p| &p.ident).collect();
        let (values, temps): (Vec<TokenStream>, Vec<Ident>) = self
            .sig
            .floats()
            .zip(buffers)
            .map(|((_, p), b)| (by_ref(&p.ident, &p.ty), format_ident!("unbounded_{}", b)))
            .unzip();
        // A scalar `d_out` that is infinite has no finite part.
        let finite =
            self.sig.outputs.as_ref().map(
                |_| quote!(#name(#(#args,)* #krate::finite_part(&#seed), #(&mut *#buffers),*);),
            );
        quote! {
            if #krate::has_infinity(&#seed) {
                #(let mut #temps = #krate::unbounded_zeros(#values);)*
                #finite
                #name(#(#args,)* #krate::direction(&#seed), #(&mut #temps),*);
                #(#krate::add_unbounded(#buffers, &#temps);)*
                return;
            }
        }
    }

    /// The start of `f_jvp`: infinite tangents are split as in
    /// [`Context::unbounded_pullback`].
    fn unbounded_jvp(&self, tangents: &[TokenStream]) -> TokenStream {
        let (krate, name) = (self.krate, self.name("jvp"));
        let args: Vec<&Ident> = self.sig.params.iter().map(|p| &p.ident).collect();
        let mut any = Vec::new();
        let (mut finite, mut direction) = (Vec::new(), Vec::new());
        for ((_, p), t) in self.sig.floats().zip(tangents) {
            let ty = p.kind.tangent_type(&p.ty);
            let t = by_ref(t, &ty);
            let again = if matches!(ty, syn::Type::Reference(_)) {
                quote!(&)
            } else {
                TokenStream::new()
            };
            any.push(quote!(#krate::has_infinity(#t)));
            finite.push(quote!(#again #krate::finite_part(#t)));
            direction.push(quote!(#again #krate::direction(#t)));
        }
        if any.is_empty() {
            return TokenStream::new();
        }
        quote! {
            if #(#any)||* {
                let ((value, mut tangent), (_, unbounded)) = (
                    #name(#(#args,)* #(#finite),*),
                    #name(#(#args,)* #(#direction),*),
                );
                #krate::add_unbounded(&mut tangent, &unbounded);
                return (value, tangent);
            }
        }
    }

    /// `fn f_jacobian(params…) -> ([f64; M], [[f64; N]; M])`.
    fn jacobian_sig(&self, layout: &Layout) -> TokenStream {
        let head = self.head("jacobian");
        let params = self.params();
        let ret_ty = &self.sig.ret_ty;
        let elem = self.elem_ty();
        let (n, m) = (layout.width.expr(), &self.sig.outputs);
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) -> (#ret_ty, [[#elem; #n]; #m]) #bounds)
    }

    /// `fn f_graph(params…) -> grad::Graph`.
    fn graph_sig(&self) -> TokenStream {
        let head = self.head("graph");
        let params = self.params();
        let krate = self.krate;
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) -> #krate::Graph #bounds)
    }

    /// `fn f_hessian(params…) -> (f64, [f64; N], [[f64; N]; N])`.
    fn hessian_sig(&self, n: usize) -> TokenStream {
        let n = proc_macro2::Literal::usize_unsuffixed(n);
        let head = self.head("hessian");
        let params = self.params();
        let elem = self.elem_ty();
        let bounds = &self.item.sig.generics.where_clause;
        quote!(#head(#(#params),*) -> (#elem, [#elem; #n], [[#elem; #n]; #n]) #bounds)
    }

    /// A float constant of the function's float type.
    fn literal(&self, value: f64) -> TokenStream {
        let lit = proc_macro2::Literal::f64_unsuffixed(value);
        let krate = self.krate;
        self.sig.float.as_ref().map_or_else(
            || quote!(#lit),
            |t| quote!(<#t as #krate::Real>::from_f64(#lit)),
        )
    }

    /// The float type returned, or of each returned element.
    fn elem_ty(&self) -> &syn::Type {
        match &self.sig.ret_ty {
            syn::Type::Array(a) => &a.elem,
            other => other,
        }
    }

    fn user_name(&self) -> String {
        self.item.sig.ident.to_string()
    }

    fn grad_doc(&self) -> String {
        let f = self.user_name();
        let active: Vec<String> = self
            .sig
            .params
            .iter()
            .zip(self.wrt)
            .filter(|(_, w)| **w)
            .map(|(p, _)| format!("∂{f}/∂{}", p.ident))
            .collect();
        let args: Vec<String> = self
            .sig
            .params
            .iter()
            .map(|p| p.ident.to_string())
            .collect();
        let grads = if active.len() == 1 {
            active[0].clone()
        } else {
            format!("({})", active.join(", "))
        };
        format!(
            " Value and gradient of `{f}`: `({f}({}), {grads})`.\n\n Generated by \
             `#[derive_grad]`: the forward sweep computes `{f}` exactly, then the reverse sweep \
             propagates adjoints.",
            args.join(", ")
        )
    }

    fn pullback_doc(&self) -> String {
        let f = self.user_name();
        format!(
            " Reverse mode of `{f}`: adds `d_out · ∂{f}/∂p` into the buffer `d_p` of every \
             float parameter `p`.\n\n It accumulates (`+=`), so callers zero their buffers. \
             Generated by `#[derive_grad]`."
        )
    }
}

/// `value` as a reference: itself when its type is one, else `&value`.
fn by_ref(value: &impl ToTokens, ty: &syn::Type) -> TokenStream {
    if matches!(ty, syn::Type::Reference(_)) {
        value.to_token_stream()
    } else {
        quote!(&#value)
    }
}

/// Lints generated code cannot always avoid: a parameter only code the gradient does not
/// need used, a `let mut` whose writes the derivative does not need (dead code removed),
/// a copy of an array written `a.clone()` (right for a reference and a value alike), a
/// conversion written as a cast, exact float comparisons that decide kinks (and the range test of `atan2`'s
/// rule), a pullback's buffers pushing its argument count past clippy's limit, index loops
/// (the form loops are differentiated in), and a parameter named `_x` passed on when an
/// infinite tangent or adjoint is split.
fn allows() -> TokenStream {
    quote!(#[allow(
        unused_variables,
        unused_mut,
        clippy::clone_on_copy,
        clippy::unnecessary_cast,
        clippy::float_cmp,
        clippy::manual_range_contains,
        clippy::too_many_arguments,
        clippy::needless_range_loop,
        clippy::used_underscore_binding
    )])
}

/// `f_grad`.
pub fn grad(cx: &Context<'_>, adjoint: &Adjoint, graph: &[bool]) -> TokenStream {
    let emitter = Emitter::new(
        &adjoint.f,
        graph,
        cx.reserved,
        cx.krate.clone(),
        adjoint.value,
    );
    let body = emitter.body();
    let value = adjoint.value.map(|r| emitter.expr(r)).unwrap_or_default();
    let grads: Vec<TokenStream> = cx
        .sig
        .params
        .iter()
        .enumerate()
        .filter(|(i, _)| cx.wrt[*i])
        .map(|(i, p)| match adjoint.grads[i] {
            Some(var) => {
                let name = emitter.var_name(var);
                quote!(#name)
            }
            None => match p.kind {
                ParamKind::Array { .. } => {
                    let (krate, name) = (cx.krate, &p.ident);
                    quote!(#krate::zeros_like(&#name))
                }
                ref kind => emitter.default_value(kind.ty()),
            },
        })
        .collect();
    let grads = if grads.len() == 1 {
        grads[0].clone()
    } else {
        quote!((#(#grads),*))
    };
    let sig = cx.grad_sig();
    let doc = cx.grad_doc();
    let allows = allows();
    quote! {
        #[doc = #doc]
        #[must_use]
        #allows
        #sig {
            #body
            (#value, #grads)
        }
    }
}

/// `f_pullback`.
pub fn pullback(cx: &Context<'_>, adjoint: &Adjoint, graph: &[bool]) -> TokenStream {
    let emitter = Emitter::new(
        &adjoint.f,
        graph,
        cx.reserved,
        cx.krate.clone(),
        adjoint.value,
    );
    let body = emitter.body();
    let seed = emitter.var_name(adjoint.seed);
    let buffers: Vec<Ident> = adjoint
        .grads
        .iter()
        .flatten()
        .map(|&var| emitter.var_name(var))
        .collect();
    let sig = cx.pullback_sig(&seed, &buffers);
    let doc = cx.pullback_doc();
    let allows = allows();
    let unbounded = cx.unbounded_pullback(&seed, &buffers);
    quote! {
        #[doc = #doc]
        #allows
        #sig {
            #unbounded
            #body
        }
    }
}

/// `f_jvp`: the value and the directional derivative along `t_p` for every float parameter.
pub fn jvp(cx: &Context<'_>, tangent: &Jvp, graph: &[bool]) -> TokenStream {
    let f = cx.user_name();
    let doc = format!(
        " Forward mode of `{f}`: `({f}(…), d{f})`, the value and its directional derivative \
         along the tangents `t_p` of the float parameters.\n\n Generated by \
         `#[derive_grad(jvp)]`."
    );
    jvp_item(cx, tangent, graph, &quote!(#[doc = #doc] #[must_use]))
}

/// `f_jvp` with the attributes `attrs`.
fn jvp_item(cx: &Context<'_>, tangent: &Jvp, graph: &[bool], attrs: &TokenStream) -> TokenStream {
    let emitter = Emitter::new(
        &tangent.f,
        graph,
        cx.reserved,
        cx.krate.clone(),
        tangent.value,
    );
    let body = emitter.body();
    let value = tangent.value.map(|v| emitter.expr(v)).unwrap_or_default();
    let derivative = match (tangent.tangent, &cx.sig.outputs) {
        (Some(t), _) => emitter.expr(t),
        (None, Some(m)) => quote!([0.0; #m]),
        (None, None) => emitter.default_value(cx.sig.ret_kind()),
    };
    let tangents: Vec<TokenStream> = tangent
        .tangent_params
        .iter()
        .flatten()
        .map(|&t| emitter.expr(t))
        .collect();
    let sig = cx.jvp_sig(&tangents);
    let allows = allows();
    let unbounded = cx.unbounded_jvp(&tangents);
    quote! {
        #attrs
        #allows
        #sig {
            #unbounded
            #body
            (#value, #derivative)
        }
    }
}

fn jacobian_doc(cx: &Context<'_>, how: &str) -> String {
    let f = cx.user_name();
    format!(
        " Value and Jacobian of `{f}`: row `i` holds the derivatives of output `i`, column `j` \
         the derivatives with respect to the `j`-th float input (parameters in declaration \
         order, arrays flattened row-major).\n\n Generated by `#[derive_grad]`: {how}."
    )
}

/// `f_jacobian` by reverse sweeps: one forward sweep, then one reverse sweep per output.
pub fn jacobian_by_rows(
    cx: &Context<'_>,
    layout: &Layout,
    rows: &Rows,
    graph: &[bool],
) -> TokenStream {
    let emitter = Emitter::new(&rows.f, graph, cx.reserved, cx.krate.clone(), rows.value);
    let body = emitter.body();
    let value = rows.value.map(|r| emitter.expr(r)).unwrap_or_default();
    let matrix = emitter.var_name(rows.matrix);
    let sig = cx.jacobian_sig(layout);
    let doc = jacobian_doc(cx, "one forward sweep, then one reverse sweep per output");
    let allows = allows();
    quote! {
        #[doc = #doc]
        #[must_use]
        #allows
        #sig {
            #body
            (#value, #matrix)
        }
    }
}

/// `f_jacobian` by forward sweeps: the function's `_jvp` (nested) along each unit direction.
pub fn jacobian_by_columns(
    cx: &Context<'_>,
    layout: &Layout,
    tangent: &Jvp,
    graph: &[bool],
) -> TokenStream {
    let jvp_item = jvp_item(cx, tangent, graph, &TokenStream::new());
    let jvp_name = cx.name("jvp");
    // Names of our own, hygienic: they can never capture or shadow the user's.
    let local = |name: &str| Ident::new(name, Span::mixed_site());
    let (matrix, value, j, i, column) = (
        local("jacobian"),
        local("value"),
        local("j"),
        local("i"),
        local("column"),
    );
    let elem = cx.elem_ty();
    let mut tangents = Vec::new();
    let mut args: Vec<TokenStream> = cx
        .sig
        .params
        .iter()
        .map(|p| p.ident.to_token_stream())
        .collect();
    for (index, p) in cx.sig.floats() {
        let t = local(&format!("t_{}", p.ident));
        let ident = &p.ident;
        let init = match layout.columns.iter().find(|c| c.param == index) {
            None => {
                let krate = cx.krate;
                quote!(#krate::zeros_like(&#ident))
            }
            Some(c) => {
                let offset = c.offset.expr();
                match c.dims.as_slice() {
                    [] => quote!(if #j == #offset { 1.0 } else { 0.0 }),
                    [len] => quote! {{
                        let mut #t: [#elem; #len] = [0.0; #len];
                        if (#offset..#offset + #len).contains(&#j) {
                            #t[#j - #offset] = 1.0;
                        }
                        #t
                    }},
                    [rows, cols] => quote! {{
                        let mut #t: [[#elem; #cols]; #rows] = [[0.0; #cols]; #rows];
                        if (#offset..#offset + #rows * #cols).contains(&#j) {
                            #t[(#j - #offset) / #cols][(#j - #offset) % #cols] = 1.0;
                        }
                        #t
                    }},
                    _ => quote!(),
                }
            }
        };
        tangents.push(quote!(let #t = #init;));
        // A slice's tangent is passed by reference, as the slice is.
        let by_ref = matches!(p.kind, ParamKind::Array { dims: None, .. });
        args.push(if by_ref { quote!(&#t) } else { quote!(#t) });
    }
    let (n, m) = (layout.width.expr(), &cx.sig.outputs);
    let sig = cx.jacobian_sig(layout);
    let doc = jacobian_doc(cx, "one forward sweep per input (more outputs than inputs)");
    let allows = allows();
    quote! {
        #[doc = #doc]
        #[must_use]
        #allows
        #sig {
            #jvp_item
            let mut #matrix = [[0.0; #n]; #m];
            let mut #value = [0.0; #m];
            for #j in 0..#n {
                #(#tangents)*
                let #column;
                (#value, #column) = #jvp_name(#(#args),*);
                for #i in 0..#m {
                    #matrix[#i][#j] = #column[#i];
                }
            }
            (#value, #matrix)
        }
    }
}

/// `f_hessian`: the value, the gradient and the Hessian, by forward mode over the gradient's
/// own IR (one Hessian-vector product per parameter, nested), made exactly symmetric by
/// mirroring the lower triangle.
pub fn hessian(cx: &Context<'_>, grads: &[Option<VarId>], hvp: &Jvp) -> TokenStream {
    let emitter = Emitter::new(&hvp.f, &hvp.graph, cx.reserved, cx.krate.clone(), hvp.value);
    let body = emitter.body();
    let value = hvp.value.map(|v| emitter.expr(v)).unwrap_or_default();
    let zero = cx.literal(0.0);
    let (mut gradient, mut column) = (Vec::new(), Vec::new());
    for (i, _) in cx.sig.params.iter().enumerate().filter(|(i, _)| cx.wrt[*i]) {
        let name = |v: Option<VarId>| {
            v.map_or_else(|| zero.clone(), |v| emitter.var_name(v).into_token_stream())
        };
        gradient.push(name(grads[i]));
        column.push(name(
            grads[i].and_then(|g| hvp.var_tangents.get(&g).copied()),
        ));
    }
    let tangents: Vec<TokenStream> = hvp
        .tangent_params
        .iter()
        .flatten()
        .map(|&t| emitter.expr(t))
        .collect();
    let n = proc_macro2::Literal::usize_unsuffixed(gradient.len());
    let elem = cx.elem_ty();
    let hvp_name = cx.name("hvp");
    let (generics, bounds) = (&cx.item.sig.generics, &cx.item.sig.generics.where_clause);
    let mut params = cx.params();
    params.extend(tangents.iter().map(|t| quote!(#t: #elem)));
    let allows = allows();

    let local = |name: &str| Ident::new(name, Span::mixed_site());
    let (h, g, v, j, i, c) = (
        local("hessian"),
        local("gradient"),
        local("value"),
        local("j"),
        local("i"),
        local("column"),
    );
    let one = cx.literal(1.0);
    let units = (0..gradient.len()).map(|k| {
        let k = proc_macro2::Literal::usize_unsuffixed(k);
        quote!(if #j == #k { #one } else { #zero })
    });
    let args = cx.sig.params.iter().map(|p| &p.ident);
    let sig = cx.hessian_sig(gradient.len());
    let f = cx.user_name();
    let doc = format!(
        " Value, gradient and Hessian of `{f}`.\n\n Generated by `#[derive_grad(hessian)]`: \
         column `j` of the Hessian is the derivative of the gradient along the `j`-th \
         parameter, by forward mode over the gradient's own code (one sweep per parameter); \
         the lower triangle is mirrored so that the matrix is exactly symmetric."
    );
    quote! {
        #[doc = #doc]
        #[must_use]
        #allows
        #sig {
            #allows
            fn #hvp_name #generics (#(#params),*) -> (#elem, [#elem; #n], [#elem; #n]) #bounds {
                #body
                (#value, [#(#gradient),*], [#(#column),*])
            }
            let mut #v = #zero;
            let mut #g = [#zero; #n];
            let mut #h = [[#zero; #n]; #n];
            for #j in 0..#n {
                let #c;
                (#v, #g, #c) = #hvp_name(#(#args,)* #(#units),*);
                for #i in 0..#n {
                    #h[#i][#j] = #c[#i];
                }
            }
            for #i in 0..#n {
                for #j in #i + 1..#n {
                    #h[#i][#j] = #h[#j][#i];
                }
            }
            (#v, #g, #h)
        }
    }
}

/// `f_graph`: the function, recording its computation graph into a `grad::Graph`.
pub fn graph(cx: &Context<'_>, recording: &Recording, graph: &Ident) -> TokenStream {
    let emitter = Emitter::new(
        &recording.f,
        &recording.graph,
        cx.reserved,
        cx.krate.clone(),
        recording.f.ret,
    );
    let body = emitter.body();
    let sig = cx.graph_sig();
    let (krate, f) = (cx.krate, cx.user_name());
    let doc = format!(
        " The computation graph of `{f}` for these arguments: every value with its forward value \
         and its adjoint, every edge with its local derivative and the gradient it carries \
         back. Draw it with `to_svg()` or `to_dot()`, or print it.\n\n Generated by \
         `#[derive_grad(graph)]`."
    );
    let allows = allows();
    quote! {
        #[doc = #doc]
        #[must_use]
        #allows
        #sig {
            let mut #graph = #krate::Graph::new(#f);
            #body
            #graph
        }
    }
}

/// The generated items with `unreachable!()` bodies, emitted beside the errors so that the
/// rest of the user's crate still type-checks and reports only the real error.
pub fn stubs(cx: &Context<'_>) -> TokenStream {
    let named = |prefix: &str| -> Vec<Ident> {
        cx.sig
            .floats()
            .map(|(_, p)| format_ident!("{prefix}{}", p.ident))
            .collect()
    };
    let mut sigs = vec![cx.pullback_sig(&format_ident!("d_out"), &named("d_"))];
    match (&cx.sig.outputs, cx.layout) {
        (None, _) => sigs.push(cx.grad_sig()),
        (Some(_), Some(layout)) => sigs.push(cx.jacobian_sig(layout)),
        (Some(_), None) => {}
    }
    if cx.jvp {
        let tangents: Vec<TokenStream> = named("t_").iter().map(|t| quote!(#t)).collect();
        sigs.push(cx.jvp_sig(&tangents));
    }
    if cx.hessian {
        sigs.push(cx.hessian_sig(cx.wrt.iter().filter(|w| **w).count()));
    }
    if cx.graph {
        sigs.push(cx.graph_sig());
    }
    quote! {
        #(
            #[allow(unused_variables, clippy::all)]
            #sigs {
                ::core::unreachable!("`#[derive_grad]` reported an error for this function")
            }
        )*
    }
}
