//! IR → plain Rust statements.
//!
//! Every node of the computation graph gets a `let` with the user's name or `t<N>`;
//! derivative temporaries used once, conditions, literals and variable reads are printed
//! inline where they are used, so that the reverse sweep reads as one statement per local
//! derivative (`d_a += d_out * b;`). A read of a variable is printed inline only if nothing
//! writes the variable between the read and its use. Tokens carry the span of the user
//! expression they come from, so a type error in derivative code points at the user's line.

mod expr;
mod names;

use crate::engine::ir::{
    Adapter, AssignOp, Block, Branch, BufferArg, FloatTy, Function, LoopKind, NodeId, Op, Selector,
    Stmt, Ty, VarId, VarKind,
};
use names::Names;
use proc_macro2::{Ident, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use std::collections::{HashMap, HashSet};

/// Prints one function's IR.
pub struct Emitter<'f> {
    f: &'f Function,
    names: Names,
    inline: Vec<bool>,
    krate: TokenStream,
    mutated: HashSet<VarId>,
    /// Nodes something reads.
    used: HashSet<NodeId>,
    /// The `.0` and `.1` of each call that returns a pair, bound at once by `let (a, b) = …`.
    pairs: HashMap<NodeId, [Option<NodeId>; 2]>,
}

impl<'f> Emitter<'f> {
    /// Prepares to print `f`. `graph[n]` marks the nodes of the computation graph, which get a
    /// `let` of their own even when used once; `reserved` holds every identifier of the user's
    /// function, which generated names avoid. `out` is the function's result, named `out`
    /// when the user gave it no name.
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
        let mut used = Vec::new();
        f.body.walk(&mut |stmt| {
            if !matches!(stmt, Stmt::Decl(..)) {
                mutated.extend(stmt.writes());
            }
            used.extend(stmt.operands());
            if let Stmt::Let(n) = stmt {
                used.extend(f.node(*n).args.iter().copied());
            }
        });
        used.extend(f.ret);
        // Through the nodes printed inline at their uses, down to the loop indices they read.
        let mut seen = HashSet::new();
        while let Some(n) = used.pop() {
            if seen.insert(n) {
                used.extend(f.node(n).args.iter().copied());
            }
        }
        let used = seen;
        let pairs = pairs(f, &inline);
        Emitter {
            f,
            names,
            inline,
            krate,
            mutated,
            used,
            pairs,
        }
    }

    /// The statements of the whole body.
    pub fn body(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for &i in &self.f.float_refs {
            if let Some(p) = usize::try_from(i).ok().and_then(|i| self.f.params.get(i)) {
                let name = self.node_name(p.node);
                out.extend(quote!(let #name = *#name;));
            }
        }
        out.extend(self.block(&self.f.body, true));
        out
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
        let mut out = TokenStream::new();
        for nested in stmt.blocks() {
            nested.walk(&mut |s| {
                for n in s.defines() {
                    if self.f.hoisted.contains(&n) {
                        let name = self.node_name(n);
                        let value = self.default_value(self.f.node(n).ty);
                        out.extend(quote!(let mut #name = #value;));
                    }
                }
            });
        }
        out
    }

    fn stmt(&self, stmt: &Stmt) -> TokenStream {
        match stmt {
            Stmt::Let(n) => {
                if self.inline[n.index()] || self.destructured(*n) {
                    return TokenStream::new();
                }
                let span = self.f.node(*n).span;
                if let Some(fields) = self.pairs.get(n) {
                    let [a, b] = fields.map(|field| {
                        field.map_or_else(|| quote!(_), |f| self.node_name(f).into_token_stream())
                    });
                    let value = self.inline_value(*n);
                    return quote_spanned!(span=> let (#a, #b) = #value;);
                }
                let name = self.node_name(*n);
                let mut value = self.inline_value(*n);
                // A row of a `&[Vec<f64>]` parameter is borrowed, not moved (`&xs[i]`); an
                // array variable kept as it was, or a row of one, is copied.
                let node = self.f.node(*n);
                let row = node.op == Op::Index && node.ty.is_array();
                if row
                    && self
                        .f
                        .param_root(node.args[0])
                        .is_some_and(|p| self.f.vec_rows.contains(&p))
                {
                    value = quote!(&#value);
                } else if (row || matches!(node.op, Op::ReadVar(_)))
                    && node.ty.is_array()
                    && self.f.read_root(*n).is_some()
                {
                    value = quote!(#value.clone());
                }
                if self.f.hoisted.contains(n) {
                    quote_spanned!(span=> #name = #value;)
                } else {
                    quote_spanned!(span=> let #name = #value;)
                }
            }
            Stmt::Branch(branch) => self.branch(branch),
            Stmt::Decl(v, init) => self.decl(*v, *init),
            Stmt::Assign(v, op, x) => self.assign(*v, *op, *x),
            Stmt::Store(store) => {
                let target = self.place(store.var, &store.path);
                let value = self.expr(store.value);
                match store.op {
                    // A row's adjoint added into a row of an array's.
                    AssignOp::Add if self.f.node(store.value).ty.is_array() => {
                        let krate = &self.krate;
                        quote!(#krate::accumulate(&mut #target, &#value);)
                    }
                    AssignOp::Add => quote!(#target += #value;),
                    AssignOp::Set => quote!(#target = #value;),
                }
            }
            Stmt::Push(tape, value) => {
                let name = self.var_name(*tape);
                let value = self.expr(*value);
                if self.f.var(*tape).ty.is_array() {
                    quote!(#name.push(#value.clone());)
                } else {
                    quote!(#name.push(#value);)
                }
            }
            Stmt::Rewind(tape) => {
                let name = self.var_name(*tape);
                quote!(#name.rewind();)
            }
            Stmt::Loop(l) => self.looped(l),
            Stmt::Pullback(call) => {
                let path = self.suffixed(call.callee, "_pullback", call.span);
                let args: Vec<TokenStream> = call.args.iter().map(|&a| self.expr(a)).collect();
                let d = self.expr(call.d_out);
                let buffers: Vec<TokenStream> = call
                    .buffers
                    .iter()
                    .map(|b| match b {
                        BufferArg::Var(v, path)
                            if path.is_empty() && self.f.var(*v).kind == VarKind::Buffer =>
                        {
                            let name = self.var_name(*v);
                            quote!(#name)
                        }
                        BufferArg::Var(v, path) => {
                            let place = self.place(*v, path);
                            quote!(&mut #place)
                        }
                        BufferArg::Discard(arg) if self.f.node(*arg).ty.is_array() => {
                            let (krate, value) = (&self.krate, self.expr(*arg));
                            quote!(&mut #krate::zeros_like(&#value))
                        }
                        BufferArg::Discard(arg) => {
                            let zero = self.default_value(self.f.node(*arg).ty);
                            quote!(&mut #zero)
                        }
                    })
                    .collect();
                let span = call.span;
                quote_spanned!(span=> #path(#(#args,)* #d, #(#buffers),*);)
            }
            Stmt::Effect(effect) if effect.substitute => {
                let values: HashMap<&str, TokenStream> = effect
                    .scope
                    .iter()
                    .map(|(name, n)| (name.as_str(), self.expr(*n)))
                    .collect();
                substitute(effect.tokens.clone(), &values)
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

    /// `true` for `.0` or `.1` of a pair bound by `let (a, b) = …`.
    fn destructured(&self, n: NodeId) -> bool {
        let node = self.f.node(n);
        matches!(node.op, Op::Field(_)) && self.pairs.contains_key(&node.args[0])
    }

    fn decl(&self, v: VarId, init: Option<NodeId>) -> TokenStream {
        let var = self.f.var(v);
        let name = self.var_name(v);
        let krate = &self.krate;
        let value = match (var.kind, init) {
            (VarKind::Tape(Some(size)), _) if !var.ty.is_array() => {
                let size = proc_macro2::Literal::u64_unsuffixed(size);
                quote!(#krate::StackTape::<_, #size>::new())
            }
            (VarKind::Tape(_), Some(capacity)) => {
                let capacity = self.expr(capacity);
                quote!(#krate::Tape::with_capacity(#capacity))
            }
            (VarKind::Tape(_), None) => quote!(#krate::Tape::with_capacity(0)),
            // From a parameter (maybe a reference) or another variable: a copy of its own.
            (_, Some(x)) if var.ty.is_array() && self.borrowed(x) => {
                let value = self.expr(x);
                quote!(#value.clone())
            }
            (_, Some(x)) => self.expr(x),
            (_, None) => self.default_value(var.ty),
        };
        if self.mutated.contains(&v) || matches!(var.kind, VarKind::Tape(_)) {
            quote!(let mut #name = #value;)
        } else {
            quote!(let #name = #value;)
        }
    }

    /// Whether the array `x` is storage of something else: a parameter, a variable, or a row
    /// of one (not a literal or constructor that makes its own).
    fn borrowed(&self, x: NodeId) -> bool {
        self.f.param_root(x).is_some() || self.f.read_root(x).is_some()
    }

    fn assign(&self, v: VarId, op: AssignOp, x: NodeId) -> TokenStream {
        let var = self.f.var(v);
        let name = self.var_name(v);
        let buffer = var.kind == VarKind::Buffer;
        let value = self.expr(x);
        if var.ty.is_array() && op == AssignOp::Add {
            let krate = &self.krate;
            let target = if buffer {
                quote!(#name)
            } else {
                quote!(&mut #name)
            };
            return quote!(#krate::accumulate(#target, &#value););
        }
        let target = if buffer {
            quote!(*#name)
        } else {
            quote!(#name)
        };
        match op {
            AssignOp::Add => quote!(#target += #value;),
            AssignOp::Set => self.set(v, &target, x),
        }
    }

    /// `v = e`, printed `v op= b` when `e` is `v op b` read just now.
    fn set(&self, v: VarId, target: &TokenStream, x: NodeId) -> TokenStream {
        let node = self.f.node(x);
        let compound = match node.op {
            Op::Sub => Some(quote!(-=)),
            Op::Mul => Some(quote!(*=)),
            Op::Div => Some(quote!(/=)),
            Op::Add => Some(quote!(+=)),
            _ => None,
        };
        let reads_v = |i: usize| {
            self.inline[node.args[i].index()] && self.f.node(node.args[i]).op == Op::ReadVar(v)
        };
        if let Some(op) = &compound
            && self.inline[x.index()]
            && reads_v(0)
        {
            let rhs = self.expr(node.args[1]);
            return quote!(#target #op #rhs;);
        }
        // `v = b * v` is `v *= b` bit for bit for `f64`/`f32`, whose `+` and `*` commute
        // exactly (a generic float need not).
        let concrete = matches!(
            node.ty,
            Ty::Float(FloatTy::F64 | FloatTy::F32 | FloatTy::Lit)
        );
        if matches!(node.op, Op::Add | Op::Mul)
            && let Some(op) = &compound
            && concrete
            && self.inline[x.index()]
            && reads_v(1)
        {
            let rhs = self.expr(node.args[0]);
            return quote!(#target #op #rhs;);
        }
        let value = self.expr(x);
        quote!(#target = #value;)
    }

    /// `v[i][j]`
    fn place(&self, v: VarId, path: &[NodeId]) -> TokenStream {
        let name = self.var_name(v);
        let indices = path.iter().map(|&i| self.expr(i));
        quote!(#name #([#indices])*)
    }

    fn looped(&self, l: &crate::engine::ir::Loop) -> TokenStream {
        let body = self.block(&l.body, false);
        let exit = l.exit.map(|e| {
            let e = self.expr(e);
            quote!(if #e { break; })
        });
        let index = if let Some(i) = l.index.filter(|i| self.used.contains(i)) {
            let name = self.node_name(i);
            quote!(#name)
        } else {
            quote!(_)
        };
        match &l.kind {
            LoopKind::Range {
                start,
                end,
                inclusive,
                adapters,
                ..
            } => {
                let (start, mut end_tokens) =
                    (self.expr(*start), self.operand(*end, expr::Prec::Add));
                let sized = adapters
                    .iter()
                    .any(|a| matches!(a, Adapter::Take(_) | Adapter::StepBy(_)));
                // `.step_by(k).rev()` and `.take(n).rev()` need an exact-size iterator, which
                // `a..=b` is not: write it `a..b + 1`.
                let range = if *inclusive && sized {
                    end_tokens = quote!(#end_tokens + 1);
                    quote!(#start..#end_tokens)
                } else if *inclusive {
                    quote!(#start..=#end_tokens)
                } else {
                    quote!(#start..#end_tokens)
                };
                let iter = if adapters.is_empty() {
                    range
                } else {
                    let chain = adapters.iter().map(|a| match a {
                        Adapter::StepBy(k) => {
                            let k = self.expr(*k);
                            quote!(.step_by(#k))
                        }
                        Adapter::Rev => quote!(.rev()),
                        Adapter::Take(n) => {
                            let n = self.expr(*n);
                            quote!(.take(#n))
                        }
                    });
                    quote!((#range) #(#chain)*)
                };
                quote!(for #index in #iter { #body #exit })
            }
            LoopKind::While { header, cond } => {
                let header = self.block(header, false);
                let cond = self.expr(*cond);
                if header.is_empty() {
                    quote!(while #cond { #body #exit })
                } else {
                    quote!(loop { #header if !(#cond) { break; } #body #exit })
                }
            }
            LoopKind::Infinite => quote!(loop { #body #exit }),
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
        suffixed_path(self.f.sym(callee), suffix, span)
    }
}

/// `tokens` with each identifier named in `values` replaced by its expression.
fn substitute(tokens: TokenStream, values: &HashMap<&str, TokenStream>) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .flat_map(|t| -> Vec<TokenTree> {
            match t {
                TokenTree::Ident(i) => match values.get(i.to_string().as_str()) {
                    Some(expr) => expr.clone().into_iter().collect(),
                    None => vec![TokenTree::Ident(i)],
                },
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), substitute(g.stream(), values));
                    inner.set_span(g.span());
                    vec![TokenTree::Group(inner)]
                }
                other => vec![other],
            }
        })
        .collect()
}

/// `module::g` → `module::g_pullback` (the suffix on the last segment, with `span`).
pub fn suffixed_path(tokens: &TokenStream, suffix: &str, span: proc_macro2::Span) -> TokenStream {
    match syn::parse2::<syn::Path>(tokens.clone()) {
        Ok(mut path) => {
            if let Some(last) = path.segments.last_mut() {
                last.ident = format_ident!("{}{}", last.ident, suffix, span = span);
            }
            quote!(#path)
        }
        Err(_) => tokens.clone(),
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
///
/// Leaves, conditions, and nodes without a `let` always are. A computation used once, in the
/// block it is defined in, is too, unless it is a node of the computation graph, has the
/// user's name, or is hoisted. A read of a scalar variable is printed at every use. Any node
/// that reads a variable moves to its uses only if no statement in between writes it.
/// The calls returning a pair (`g_jvp`) whose `.0` and `.1` are each bound, so that the call
/// is printed `let (g, t_g) = g_jvp(…);`.
fn pairs(f: &Function, inline: &[bool]) -> HashMap<NodeId, [Option<NodeId>; 2]> {
    let mut pairs: HashMap<NodeId, [Option<NodeId>; 2]> = HashMap::new();
    let mut loose = HashSet::new();
    f.body.walk(&mut |stmt| {
        if let Stmt::Let(n) = stmt
            && let node = f.node(*n)
            && let Op::Field(field) = node.op
            && let pair = node.args[0]
            && matches!(f.node(pair).op, Op::Jvp(_))
        {
            let slot = match f.sym(field).to_string().as_str() {
                "0" => 0,
                _ => 1,
            };
            if inline[n.index()] || inline[pair.index()] {
                loose.insert(pair);
            }
            pairs.entry(pair).or_default()[slot] = Some(*n);
        }
    });
    pairs.retain(|pair, _| !loose.contains(pair));
    pairs
}

fn decide_inline(f: &Function, graph: &[bool]) -> Vec<bool> {
    let n = f.nodes.len();
    let mut ctx = Count {
        f,
        bound: vec![false; n],
        home: vec![(usize::MAX, 0); n],
        uses: vec![Vec::new(); n],
        in_condition: vec![false; n],
        written: vec![false; n],
        blocks: Vec::new(),
        parents: Vec::new(),
    };
    ctx.block(&f.body, None);
    if let Some(ret) = f.ret {
        let last = f.body.stmts.len();
        ctx.reference(ret, (0, last), false);
    }
    (0..n)
        .map(|i| {
            let node = &f.nodes[i];
            let id = NodeId(u32::try_from(i).unwrap_or(u32::MAX));
            if f.pinned.contains(&id) || (f.hoisted.contains(&id) && ctx.bound[i]) {
                return false;
            }
            match node.op {
                // A variable's whole array is never copied into a `let`.
                Op::ReadVar(_) if node.ty.is_array() => return true,
                Op::Pop(_) | Op::LoopIndex(_) | Op::Phi(_) => return false,
                _ => {}
            }
            if node.op.is_leaf() || node.op.is_cheap() || !ctx.bound[i] {
                return true;
            }
            let uses = &ctx.uses[i];
            let read_only = matches!(node.op, Op::ReadVar(_));
            let single = uses.len() == 1 && !ctx.in_condition[i];
            let here = ctx.home[i].0;
            // A node of the computation graph gets a `let`, unless it is a read, or all it
            // does is go into a variable (`s += w[i] * x[i]`).
            let shown = graph.get(i).copied().unwrap_or(false)
                && !matches!(node.op, Op::Index | Op::ReadVar(_))
                && !(single && ctx.written[i]);
            let movable = (single || read_only)
                && uses.iter().all(|&(b, _)| read_only || b == here)
                && !f.hoisted.contains(&id)
                && node.name.is_none()
                && !shown;
            movable && ctx.untouched_until_used(id)
        })
        .collect()
}

/// The variables an expression reads, through the nodes it would print inline.
fn reads(f: &Function, n: NodeId) -> HashSet<VarId> {
    let mut out = HashSet::new();
    let mut stack = vec![n];
    while let Some(id) = stack.pop() {
        let node = f.node(id);
        match node.op {
            Op::ReadVar(v) => {
                out.insert(v);
            }
            Op::Phi(_) | Op::Pop(_) | Op::LoopIndex(_) => {}
            _ if node.name.is_none() => stack.extend(node.args.iter().copied()),
            _ => {}
        }
    }
    out
}

struct Count<'f> {
    f: &'f Function,
    bound: Vec<bool>,
    /// (block, statement) of each node's definition.
    home: Vec<(usize, usize)>,
    /// (block, statement) of each use.
    uses: Vec<Vec<(usize, usize)>>,
    /// Used by a condition or a loop bound, which is printed again where it is used.
    in_condition: Vec<bool>,
    /// Used as the value written into a variable.
    written: Vec<bool>,
    /// Every block, by number, and the statement containing it.
    blocks: Vec<&'f [Stmt]>,
    parents: Vec<Option<(usize, usize)>>,
}

impl<'f> Count<'f> {
    fn block(&mut self, block: &'f Block, parent: Option<(usize, usize)>) -> usize {
        let here = self.blocks.len();
        self.blocks.push(&block.stmts);
        self.parents.push(parent);
        // Bind first, so references can tell nodes printed where used apart.
        for (k, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                Stmt::Let(n) => {
                    self.bound[n.index()] = true;
                    self.home[n.index()] = (here, k);
                }
                Stmt::Branch(b) => {
                    for &o in &b.outputs {
                        self.bound[o.index()] = true;
                        self.home[o.index()] = (here, k);
                    }
                }
                _ => {}
            }
        }
        for (k, stmt) in block.stmts.iter().enumerate() {
            let at = (here, k);
            match stmt {
                Stmt::Let(n) => {
                    let node = self.f.node(*n);
                    let condition = node.op.is_cheap();
                    for &a in &node.args {
                        self.reference(a, at, condition);
                    }
                }
                Stmt::Decl(_, Some(x)) | Stmt::Assign(_, _, x) | Stmt::Push(_, x) => {
                    self.written[x.index()] = true;
                    self.reference(*x, at, false);
                }
                Stmt::Store(store) => {
                    self.written[store.value.index()] = true;
                    for &i in store.path.iter().chain([&store.value]) {
                        self.reference(i, at, false);
                    }
                }
                Stmt::Branch(b) => {
                    let (Selector::If(c) | Selector::Match(c, _)) = &b.selector;
                    self.reference(*c, at, true);
                    for arm in &b.arms {
                        let inner = self.block(&arm.block, Some(at));
                        let end = arm.block.stmts.len();
                        for &y in &arm.yields {
                            self.reference(y, (inner, end), false);
                        }
                    }
                }
                Stmt::Loop(l) => {
                    match &l.kind {
                        LoopKind::Range {
                            start,
                            end,
                            adapters,
                            ..
                        } => {
                            self.reference(*start, at, true);
                            self.reference(*end, at, true);
                            for adapter in adapters {
                                if let Adapter::StepBy(x) | Adapter::Take(x) = adapter {
                                    self.reference(*x, at, true);
                                }
                            }
                        }
                        LoopKind::While { header, cond } => {
                            let inner = self.block(header, Some(at));
                            self.reference(*cond, (inner, header.stmts.len()), true);
                        }
                        LoopKind::Infinite => {}
                    }
                    if let Some(i) = l.index {
                        self.bound[i.index()] = true;
                    }
                    let inner = self.block(&l.body, Some(at));
                    if let Some(e) = l.exit {
                        self.reference(e, (inner, l.body.stmts.len()), true);
                    }
                }
                Stmt::Pullback(call) => {
                    for &a in call.args.iter().chain([&call.d_out]) {
                        self.reference(a, at, false);
                    }
                    for buffer in &call.buffers {
                        if let BufferArg::Var(_, path) = buffer {
                            for &i in path {
                                self.reference(i, at, false);
                            }
                        }
                    }
                }
                Stmt::Effect(e) => {
                    for (_, node) in &e.scope {
                        self.reference(*node, at, true);
                    }
                }
                Stmt::Decl(_, None) | Stmt::Rewind(_) => {}
            }
        }
        here
    }

    /// Records one use of `n` printed at `at`.
    fn reference(&mut self, n: NodeId, at: (usize, usize), condition: bool) {
        let i = n.index();
        self.uses[i].push(at);
        self.in_condition[i] |= condition;
        let node = self.f.node(n);
        // A node printed where used (unbound, or a condition printed at every use) reads its
        // operands there.
        if (!self.bound[i] || node.op.is_cheap()) && !node.op.is_leaf() {
            for &a in &node.args.clone() {
                self.reference(a, at, condition || node.op.is_cheap());
            }
        }
    }

    /// The statement of `block` that `at` is (or is nested in), if any.
    fn ancestor_in(&self, mut at: (usize, usize), block: usize) -> Option<usize> {
        loop {
            if at.0 == block {
                return Some(at.1);
            }
            at = self.parents.get(at.0).copied().flatten()?;
        }
    }

    /// No statement between `n`'s definition and its last use writes what `n` reads (a
    /// compound statement holding a use must not write it either).
    fn untouched_until_used(&self, n: NodeId) -> bool {
        let read = reads(self.f, n);
        if read.is_empty() {
            return true;
        }
        let (block, def) = self.home[n.index()];
        let stmts = self.blocks[block];
        let mut last = def;
        for &at in &self.uses[n.index()] {
            let Some(k) = self.ancestor_in(at, block) else {
                return false;
            };
            let nested = at.0 != block;
            let upto = if nested { k + 1 } else { k };
            for s in stmts
                .get(def + 1..upto.min(stmts.len()))
                .unwrap_or_default()
            {
                if s.writes_within().iter().any(|v| read.contains(v)) {
                    return false;
                }
            }
            last = last.max(k);
        }
        last > def || self.uses[n.index()].is_empty()
    }
}
