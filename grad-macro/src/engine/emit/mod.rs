//! IR → plain Rust statements.
//!
//! Every node of the computation graph gets a `let` with the user's name or `t<N>`;
//! derivative temporaries used once, conditions, literals and adjoint reads are printed inline
//! where they are used, so that the reverse sweep reads as one statement per local derivative
//! (`d_a += d_out * b;`). Tokens carry the span of the user expression they come from, so a
//! type error in derivative code points at the user's line.

mod expr;
mod names;

use crate::engine::ir::{
    AssignOp, Block, Branch, BufferArg, Function, NodeId, Op, Selector, Stmt, VarId, VarKind,
};
use names::Names;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::HashSet;

/// Prints one function's IR.
pub struct Emitter<'f> {
    f: &'f Function,
    names: Names,
    inline: Vec<bool>,
    krate: TokenStream,
    mutated: HashSet<VarId>,
}

impl<'f> Emitter<'f> {
    /// Prepares to print `f`. `graph[n]` marks the nodes of the computation graph, which get a
    /// `let` of their own even when used once; `reserved` holds every identifier of the user's
    /// function, which generated names avoid.
    /// `out` is the function's result, named `out` when the user gave it no name.
    pub fn new(
        f: &'f Function,
        graph: &[bool],
        reserved: &HashSet<String>,
        krate: TokenStream,
        out: Option<NodeId>,
    ) -> Emitter<'f> {
        let inline = decide_inline(f, graph);
        let names = Names::assign(f, &|n| !inline[n.index()], reserved, out);
        let mut mutated = HashSet::new();
        f.body.walk(&mut |stmt| match stmt {
            Stmt::Assign(v, _, _) => {
                mutated.insert(*v);
            }
            Stmt::Pullback(call) => {
                for buffer in &call.buffers {
                    if let BufferArg::Var(v) = buffer {
                        mutated.insert(*v);
                    }
                }
            }
            _ => {}
        });
        Emitter {
            f,
            names,
            inline,
            krate,
            mutated,
        }
    }

    /// The statements of the whole body.
    pub fn body(&self) -> TokenStream {
        self.block(&self.f.body, true)
    }

    /// The name of a variable.
    pub fn var_name(&self, v: VarId) -> Ident {
        self.names.of_var(v)
    }

    fn node_name(&self, n: NodeId) -> Ident {
        self.names
            .of_node(n)
            .cloned()
            .unwrap_or_else(|| format_ident!("__grad_unbound_{}", n.0))
    }

    fn block(&self, block: &Block, top: bool) -> TokenStream {
        let mut out = TokenStream::new();
        for stmt in &block.stmts {
            if top {
                out.extend(self.hoisted_decls(stmt));
            }
            out.extend(self.stmt(stmt));
        }
        out
    }

    /// `let mut v = 0.0;` for each value the statement computes inside an arm that the
    /// reverse sweep reads after it.
    fn hoisted_decls(&self, stmt: &Stmt) -> TokenStream {
        let Stmt::Branch(_) = stmt else {
            return TokenStream::new();
        };
        let mut out = TokenStream::new();
        let mut visit = |n: NodeId| {
            if self.f.hoisted.contains(&n) {
                let name = self.node_name(n);
                let value = self.default_value(self.f.node(n).ty);
                out.extend(quote!(let mut #name = #value;));
            }
        };
        let mut visit_stmt = |s: &Stmt| match s {
            Stmt::Let(n) => visit(*n),
            Stmt::Branch(b) => b.outputs.iter().for_each(|&o| visit(o)),
            _ => {}
        };
        if let Stmt::Branch(branch) = stmt {
            for arm in &branch.arms {
                arm.block.walk(&mut visit_stmt);
            }
        }
        out
    }

    fn stmt(&self, stmt: &Stmt) -> TokenStream {
        match stmt {
            Stmt::Let(n) => {
                if self.inline[n.index()] {
                    return TokenStream::new();
                }
                let name = self.node_name(*n);
                let value = self.inline_value(*n);
                let span = self.f.node(*n).span;
                if self.f.hoisted.contains(n) {
                    quote_spanned!(span=> #name = #value;)
                } else {
                    quote_spanned!(span=> let #name = #value;)
                }
            }
            Stmt::Branch(branch) => self.branch(branch),
            Stmt::Decl(v, init) => {
                let name = self.var_name(*v);
                let value = match init {
                    Some(x) => self.expr(*x),
                    None => self.default_value(self.f.var(*v).ty),
                };
                if self.mutated.contains(v) {
                    quote!(let mut #name = #value;)
                } else {
                    quote!(let #name = #value;)
                }
            }
            Stmt::Assign(v, op, x) => {
                let name = self.var_name(*v);
                let value = self.expr(*x);
                let target = if self.f.var(*v).kind == VarKind::Buffer {
                    quote!(*#name)
                } else {
                    quote!(#name)
                };
                match op {
                    AssignOp::Add => quote!(#target += #value;),
                    AssignOp::Set => quote!(#target = #value;),
                }
            }
            Stmt::Pullback(call) => {
                let path = self.suffixed(call.callee, "_pullback", call.span);
                let args: Vec<TokenStream> = call.args.iter().map(|&a| self.expr(a)).collect();
                let d = self.expr(call.d_out);
                let buffers: Vec<TokenStream> = call
                    .buffers
                    .iter()
                    .map(|b| match b {
                        BufferArg::Var(v) if self.f.var(*v).kind == VarKind::Buffer => {
                            let name = self.var_name(*v);
                            quote!(#name)
                        }
                        BufferArg::Var(v) => {
                            let name = self.var_name(*v);
                            quote!(&mut #name)
                        }
                        BufferArg::Discard(ty) => {
                            let zero = self.default_value(*ty);
                            quote!(&mut #zero)
                        }
                    })
                    .collect();
                let span = call.span;
                quote_spanned!(span=> #path(#(#args,)* #d, #(#buffers),*);)
            }
            Stmt::Effect(effect) => {
                // The user's tokens name the user's variables (format strings included); a
                // variable whose current version is printed under another name is rebound.
                let text = effect.tokens.to_string();
                let mentioned = |name: &str| {
                    text.match_indices(name).any(|(i, _)| {
                        let word = |c: char| c.is_alphanumeric() || c == '_';
                        !text[..i].ends_with(word) && !text[i + name.len()..].starts_with(word)
                    })
                };
                let rebinds: Vec<TokenStream> = effect
                    .scope
                    .iter()
                    .filter(|(name, n)| mentioned(name) && self.expr(*n).to_string() != *name)
                    .map(|(name, n)| {
                        let ident = names::ident(name, self.f.node(*n).span);
                        let value = self.expr(*n);
                        quote!(#[allow(unused_variables)] let #ident = #value;)
                    })
                    .collect();
                let tokens = &effect.tokens;
                if rebinds.is_empty() {
                    tokens.clone()
                } else {
                    quote!({ #(#rebinds)* #tokens })
                }
            }
        }
    }

    /// The right side of a node's `let`.
    fn inline_value(&self, n: NodeId) -> TokenStream {
        let node = self.f.node(n);
        if node.op.is_leaf() || matches!(node.op, Op::Phi(_)) {
            return self.expr(n);
        }
        self.inline_expr(n).0
    }

    fn branch(&self, branch: &Branch) -> TokenStream {
        let outputs: Vec<Ident> = branch.outputs.iter().map(|&o| self.node_name(o)).collect();
        let assigned = branch.outputs.iter().any(|o| self.f.hoisted.contains(o));
        let arms: Vec<TokenStream> = branch
            .arms
            .iter()
            .map(|arm| {
                let body = self.block(&arm.block, false);
                let values: Vec<TokenStream> = arm.yields.iter().map(|&y| self.expr(y)).collect();
                let tail = if assigned {
                    quote!(#(#outputs = #values;)*)
                } else if values.len() == 1 {
                    values[0].clone()
                } else if values.is_empty() {
                    TokenStream::new()
                } else {
                    quote!((#(#values),*))
                };
                quote!(#body #tail)
            })
            .collect();
        let head = match &branch.selector {
            Selector::If(c) => {
                let cond = self.expr(*c);
                let then = &arms[0];
                let els = &arms[1];
                let else_if = else_if_chain(&branch.arms[1].block, branch.outputs.is_empty());
                if els.is_empty() && branch.outputs.is_empty() {
                    quote!(if #cond { #then })
                } else if let Some(nested) = else_if {
                    let nested = self.branch(nested);
                    quote!(if #cond { #then } else #nested)
                } else {
                    quote!(if #cond { #then } else { #els })
                }
            }
            Selector::Match(s, patterns) => {
                let scrutinee = self.expr(*s);
                let patterns = patterns.iter().map(|&p| self.f.sym(p));
                quote!(match #scrutinee { #(#patterns => { #arms })* })
            }
        };
        if branch.outputs.is_empty() {
            head
        } else if assigned {
            let fresh: Vec<&Ident> = branch
                .outputs
                .iter()
                .zip(&outputs)
                .filter(|(o, _)| !self.f.hoisted.contains(o))
                .map(|(_, name)| name)
                .collect();
            quote!(#(let #fresh;)* #head)
        } else if outputs.len() == 1 {
            let name = &outputs[0];
            quote!(let #name = #head;)
        } else {
            quote!(let (#(#outputs),*) = #head;)
        }
    }

    /// The callee's path with `suffix` on its last segment (`g` → `g_pullback`), spanned at
    /// the user's call so that a missing or mistyped pullback is reported there.
    fn suffixed(
        &self,
        callee: crate::engine::ir::SymId,
        suffix: &str,
        span: proc_macro2::Span,
    ) -> TokenStream {
        let tokens = self.f.sym(callee).clone();
        match syn::parse2::<syn::Path>(tokens.clone()) {
            Ok(mut path) => {
                if let Some(last) = path.segments.last_mut() {
                    last.ident = format_ident!("{}{}", last.ident, suffix, span = span);
                }
                quote!(#path)
            }
            Err(_) => tokens,
        }
    }
}

/// The nested branch of an `else` arm that holds nothing else, printed as `else if`.
fn else_if_chain(block: &Block, no_outputs: bool) -> Option<&Branch> {
    match &block.stmts[..] {
        [Stmt::Branch(b)]
            if no_outputs && b.outputs.is_empty() && matches!(b.selector, Selector::If(_)) =>
        {
            Some(b)
        }
        _ => None,
    }
}

/// Which nodes are printed inline rather than let-bound.
fn decide_inline(f: &Function, graph: &[bool]) -> Vec<bool> {
    let n = f.nodes.len();
    let mut bound = vec![false; n];
    let mut home = vec![usize::MAX; n];
    let mut uses = vec![0_usize; n];
    let mut site = vec![usize::MAX; n];
    let mut next_block = 0;
    count(
        f,
        &f.body,
        &mut next_block,
        &mut bound,
        &mut home,
        &mut uses,
        &mut site,
    );
    if let Some(ret) = f.ret {
        reference(f, ret, 0, &bound, &mut uses, &mut site, false);
    }
    (0..n)
        .map(|i| {
            let node = &f.nodes[i];
            let id = NodeId(u32::try_from(i).unwrap_or(u32::MAX));
            node.op.is_leaf()
                || matches!(node.op, Op::ReadVar(_))
                || node.op.is_condition()
                || (!bound[i] && !matches!(node.op, Op::Phi(_)))
                || (uses[i] == 1
                    && site[i] == home[i]
                    && !f.hoisted.contains(&id)
                    && node.name.is_none()
                    && !matches!(node.op, Op::Phi(_))
                    && !graph.get(i).copied().unwrap_or(false))
        })
        .collect()
}

#[allow(clippy::too_many_arguments, reason = "the tables of one walk")]
fn count(
    f: &Function,
    block: &Block,
    next_block: &mut usize,
    bound: &mut [bool],
    home: &mut [usize],
    uses: &mut [usize],
    site: &mut [usize],
) {
    let here = *next_block;
    *next_block += 1;
    // Bind first, so references can tell floating nodes apart.
    for stmt in &block.stmts {
        if let Stmt::Let(n) = stmt {
            bound[n.index()] = true;
            home[n.index()] = here;
        }
        if let Stmt::Branch(b) = stmt {
            for &o in &b.outputs {
                bound[o.index()] = true;
                home[o.index()] = here;
            }
        }
    }
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let(n) => {
                let node = f.node(*n);
                let condition = node.op.is_condition();
                for &a in &node.args {
                    reference(f, a, here, bound, uses, site, condition);
                }
            }
            Stmt::Decl(_, Some(x)) | Stmt::Assign(_, _, x) => {
                reference(f, *x, here, bound, uses, site, false);
            }
            Stmt::Branch(b) => {
                let (Selector::If(c) | Selector::Match(c, _)) = &b.selector;
                reference(f, *c, here, bound, uses, site, true);
                for arm in &b.arms {
                    let arm_block = *next_block;
                    count(f, &arm.block, next_block, bound, home, uses, site);
                    for &y in &arm.yields {
                        reference(f, y, arm_block, bound, uses, site, false);
                    }
                }
            }
            Stmt::Pullback(call) => {
                for &a in call.args.iter().chain([&call.d_out]) {
                    reference(f, a, here, bound, uses, site, false);
                }
            }
            Stmt::Effect(e) => {
                for (_, node) in &e.scope {
                    reference(f, *node, here, bound, uses, site, true);
                }
            }
            Stmt::Decl(_, None) => {}
        }
    }
}

/// Counts one use of `n` printed in block `block`. A use inside a condition counts twice:
/// conditions are printed again wherever they are used, so what they read is bound once.
fn reference(
    f: &Function,
    n: NodeId,
    block: usize,
    bound: &[bool],
    uses: &mut [usize],
    site: &mut [usize],
    condition: bool,
) {
    uses[n.index()] += if condition { 2 } else { 1 };
    site[n.index()] = block;
    let node = f.node(n);
    if !bound[n.index()] && !node.op.is_leaf() {
        for &a in &node.args {
            reference(
                f,
                a,
                block,
                bound,
                uses,
                site,
                condition || node.op.is_condition(),
            );
        }
    }
}
