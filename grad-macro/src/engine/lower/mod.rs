//! `syn::ItemFn` → IR.
//!
//! User variables become SSA values: an environment maps each name to its current node, an
//! assignment rebinds the name, and where arms of a branch rebind a name differently the
//! branch gets an output (a phi) for it. A `let mut` that a loop assigns, and every mutable
//! array, is instead a mutable variable of the IR (read by `ReadVar`, written by `Assign` and
//! `Store`), so the forward sweep of a loop reads like the user's loop.
//!
//! `return`, `break` and `continue` are flags in the same environment: the rest of a block
//! after a statement that may have interrupted it is wrapped in a branch on the flag (at
//! function level "returned", in a loop body "stop this iteration"; a loop body also has
//! "exit the loop"). A jump that leaves a loop (`return`, a labelled `break`) sets a boolean
//! variable that each enclosing level reads after its loop. The common shape
//! `if c { return a; } rest` is lowered as `if c { a } else { rest }` directly.
//!
//! Every construct outside the subset is reported with its span; lowering then carries on
//! with a placeholder so that one compile shows every error.

mod array;
mod call;
mod expr;
mod loops;
mod syntax;
mod types;

use super::errors::Errors;
use super::ir::builder::Builder;
use super::ir::{
    Arm, AssignOp, Branch, FloatTy, Function, NodeId, Op, Param, Selector, Stmt, Ty, VarId, VarKind,
};
use super::signature::{ParamKind, Signature};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// The reserved binding holding the value returned so far.
const RET: &str = "<ret>";
/// The reserved binding holding whether the path has returned.
const RETURNED: &str = "<returned>";
/// In a loop body: whether the rest of this iteration is skipped.
const STOP: &str = "<stop>";
/// In a loop body: whether the loop ends after this iteration.
const EXIT: &str = "<exit>";

/// Where a name's value lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    /// An SSA value.
    Value(NodeId),
    /// A mutable variable of the IR.
    Var(VarId),
}

/// A name bound in the environment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Binding {
    slot: Slot,
    mutable: bool,
}

/// A loop being lowered.
struct Frame {
    label: Option<String>,
    /// Jumps from inside this loop to a target outside it, each a `bool` variable.
    jumps: Vec<Jump>,
    /// The variable `break value` writes, for `loop` used as an expression.
    value: Option<VarId>,
    /// Some `break` leaves this loop (without one, a `loop` is left only by jumping past it).
    broken: bool,
}

/// A `return`, or a `break`/`continue` to an enclosing loop, leaving the loop it is in.
#[derive(Clone, Copy)]
struct Jump {
    var: VarId,
    /// The index of the target frame, or `None` for the function (`return`).
    target: Option<usize>,
    /// `continue` (skip the rest of the target's iteration) rather than leave the target.
    cont: bool,
}

/// Lowers `item` (whose signature is `sig`) into IR; `None` when `errors` got anything.
pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> Option<Function> {
    let mut l = Lowerer {
        b: Builder::new(Function::default()),
        errors,
        scopes: vec![Vec::new()],
        loops: Vec::new(),
        ret_vars: None,
        ret_ty: sig.ret_kind(),
        float: sig.float.clone(),
        param_widths: sig
            .params
            .iter()
            .map(|p| types::Width::of_type(&p.ty))
            .collect(),
        index_widths: std::collections::HashMap::new(),
        var_widths: std::collections::HashMap::new(),
        outputs: sig.outputs.as_ref().map(quote::ToTokens::to_token_stream),
    };
    if let Some(float) = &sig.float {
        // The generic float type is symbol 0, which the signature's types refer to.
        let sym = l.b.f.intern(quote::ToTokens::to_token_stream(float));
        debug_assert_eq!(sym, crate::engine::ir::GENERIC_FLOAT);
    }
    let stmts: Vec<&syn::Stmt> = item.block.stmts.iter().collect();
    for (i, p) in sig.params.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        if let ParamKind::Array { vec_rows: true, .. } = p.kind {
            l.b.f.vec_rows.insert(index);
        }
        if let (ParamKind::Float(_), syn::Type::Reference(_)) = (&p.kind, &p.ty) {
            l.b.f.float_refs.insert(index);
        }
        let ty = p.kind.ty();
        let node = l.b.leaf(Op::Param(index), ty, p.ident.span());
        let name = syntax::name_of(&p.ident);
        l.b.f.nodes[node.index()].name = Some(name.clone());
        l.b.f.params.push(Param {
            name: name.clone(),
            node,
        });
        if p.mutable && (ty.is_array() || syntax::assigned_in_loop(&stmts, &name)) {
            l.declare_var(&name, node, ty);
        } else {
            l.bind(&name, node, p.mutable);
        }
    }
    let undef = l.undef(sig.ret_kind(), item.sig.ident.span());
    l.bind(RET, undef, true);
    let no = l.b.bool(false, Span::call_site());
    l.bind(RETURNED, no, true);

    l.stmts(&stmts, Tail::Returns);

    if !l.interrupted_for_sure() && l.errors.is_empty() {
        l.errors.at(
            item.block.span(),
            "the function body must end with a value or `return`",
        );
    }
    let ret = l.read(RET, item.sig.ident.span());
    if !l.errors.is_empty() {
        return None;
    }
    let mut f = l.b.finish();
    f.ret = ret;
    types::settle(&mut f);
    if types::mixes_types(&f) {
        errors.left_to_rustc();
    }
    Some(f)
}

/// What the value of a statement list is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// The value of a block expression.
    Value,
    /// The function body (or the rest of it): the tail value is returned.
    Returns,
    /// A block in statement position: its value is discarded.
    Discard,
}

/// The content of one arm of a branch being lowered.
enum ArmBody<'s> {
    /// Nothing: the missing `else`.
    Empty,
    /// The side of a guard on which the path was interrupted (returned, or stopped the
    /// iteration).
    Interrupted,
    /// An expression (a `match` arm, with the name its pattern binds; an `else if`).
    Expr(&'s syn::Expr, Option<String>),
    /// A block.
    Block(&'s syn::Block),
    /// An arm in statement position followed by the rest of the enclosing block, which runs
    /// only on this path.
    Then(Box<ArmBody<'s>>, Vec<&'s syn::Stmt>),
    /// The rest of a block, on the side of a guard that was not interrupted.
    Rest(Vec<&'s syn::Stmt>),
}

struct Lowerer<'e> {
    b: Builder,
    errors: &'e mut Errors,
    scopes: Vec<Vec<(String, Binding)>>,
    /// The loops around the code being lowered, outermost first.
    loops: Vec<Frame>,
    /// The variables a `return` inside a loop writes: the value and the flag.
    ret_vars: Option<(VarId, VarId)>,
    ret_ty: Ty,
    /// The generic float type `T`, if the function has one.
    float: Option<syn::Ident>,
    /// `M` of a function returning `[f64; M]`.
    outputs: Option<proc_macro2::TokenStream>,
    /// The integer width of each parameter (for loop bounds).
    param_widths: Vec<types::Width>,
    /// The integer width of each loop index and integer variable lowered so far.
    index_widths: std::collections::HashMap<NodeId, types::Width>,
    var_widths: std::collections::HashMap<VarId, types::Width>,
}

impl Lowerer<'_> {
    // ----- environment -----

    fn bind(&mut self, name: &str, node: NodeId, mutable: bool) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((
                name.to_owned(),
                Binding {
                    slot: Slot::Value(node),
                    mutable,
                },
            ));
        }
    }

    /// Declares `name` as a mutable variable initialised to `init` (here, in the IR).
    fn declare_var(&mut self, name: &str, init: NodeId, ty: Ty) -> VarId {
        let var = self.b.f.add_var(name, ty, VarKind::Local);
        let width = self.width(init);
        self.var_widths.insert(var, width);
        self.b.push(Stmt::Decl(var, Some(init)));
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((
                name.to_owned(),
                Binding {
                    slot: Slot::Var(var),
                    mutable: true,
                },
            ));
        }
        var
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, b)| *b)
    }

    /// The current value of `name`: its SSA value, or a read of its variable here.
    fn read(&mut self, name: &str, span: Span) -> Option<NodeId> {
        Some(match self.lookup(name)?.slot {
            Slot::Value(node) => node,
            Slot::Var(var) => self.read_var(var, span),
        })
    }

    fn read_var(&mut self, var: VarId, span: Span) -> NodeId {
        let ty = self.b.f.var(var).ty;
        self.b.read_var(var, ty, span)
    }

    /// Gives `name` a new value: rebinds an SSA name, or assigns its variable.
    fn rebind(&mut self, name: &str, node: NodeId) -> bool {
        for scope in self.scopes.iter_mut().rev() {
            if let Some((_, b)) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                match b.slot {
                    Slot::Value(_) => b.slot = Slot::Value(node),
                    Slot::Var(var) => self.b.push(Stmt::Assign(var, AssignOp::Set, node)),
                }
                return true;
            }
        }
        false
    }

    /// Every binding, outermost first.
    fn snapshot(&self) -> Vec<Vec<(String, Binding)>> {
        self.scopes.clone()
    }

    /// The user's variables in scope, for statement macros (variables are read here).
    fn visible_user_bindings(&mut self, span: Span) -> Vec<(String, NodeId)> {
        let mut seen = std::collections::HashSet::new();
        let mut names = Vec::new();
        for (name, _) in self.scopes.iter().rev().flat_map(|s| s.iter().rev()) {
            if !name.starts_with('<') && seen.insert(name.clone()) {
                names.push(name.clone());
            }
        }
        names.reverse();
        names
            .into_iter()
            .filter_map(|name| Some((name.clone(), self.read(&name, span)?)))
            .collect()
    }

    /// The flag that says the current path was interrupted: "returned" at function level,
    /// "stop this iteration" in a loop body.
    fn interrupt_flag(&self) -> &'static str {
        if self.loops.is_empty() {
            RETURNED
        } else {
            STOP
        }
    }

    fn flag_value(&self, name: &str) -> Option<bool> {
        match self.lookup(name)?.slot {
            Slot::Value(node) => self.b.f.bool_lit(node),
            Slot::Var(_) => None,
        }
    }

    fn interrupted_for_sure(&self) -> bool {
        self.flag_value(self.interrupt_flag()) == Some(true)
    }

    fn maybe_interrupted(&self) -> bool {
        self.flag_value(self.interrupt_flag()) != Some(false)
    }

    fn set_flag(&mut self, name: &str, value: bool) {
        let node = self.b.bool(value, Span::call_site());
        self.rebind(name, node);
    }

    fn undef(&mut self, ty: Ty, span: Span) -> NodeId {
        self.b.leaf(Op::Undef, ty, span)
    }

    /// The value a returned value starts from before a `return` inside a loop sets it: a
    /// value of the function's return type, `[0.0; M]` for an array (whose adjoint needs a
    /// shape).
    fn ret_placeholder(&mut self, span: Span) -> NodeId {
        match (self.ret_ty, &self.outputs) {
            (Ty::Array(super::ir::Elem::Float(f), 1), Some(m)) => {
                let zero = self.b.float(0.0, f, span);
                let len = self.b.f.intern(m.clone());
                self.b
                    .add_at(1, Op::Repeat(len), vec![zero], self.ret_ty, span)
            }
            _ => self.undef(self.ret_ty, span),
        }
    }

    /// Placeholder value after an error, so lowering can go on and find more errors.
    fn poison(&mut self, span: Span) -> NodeId {
        self.undef(Ty::Unknown, span)
    }

    /// Ends the current path with `return value`.
    fn do_return(&mut self, value: NodeId) {
        if self.loops.is_empty() {
            self.rebind(RET, value);
            self.set_flag(RETURNED, true);
        } else {
            self.return_from_loop(value);
        }
    }

    // ----- statements -----

    /// Lowers statements in the current scope; returns the tail value (for `Tail::Value`).
    fn stmts(&mut self, stmts: &[&syn::Stmt], tail: Tail) -> Option<NodeId> {
        for (i, stmt) in stmts.iter().enumerate() {
            if self.interrupted_for_sure() {
                // Unreachable code after `return`/`break`: rustc warns; nothing to lower.
                return None;
            }
            let rest = &stmts[i + 1..];
            if let (Some(keep), syn::Stmt::Expr(e, _)) = (nests_rest(stmt, rest), stmt) {
                return self.branch_expr(e, Some((keep, rest.to_vec())), tail);
            }
            if let (true, syn::Stmt::Expr(e, None)) = (rest.is_empty(), stmt) {
                return self.tail_value(e, tail);
            }
            self.stmt(stmt, rest);
            if !rest.is_empty() && self.maybe_interrupted() && !self.interrupted_for_sure() {
                return self.guarded_rest(rest.to_vec(), tail);
            }
        }
        None
    }

    /// Lowers the tail expression of a statement list.
    fn tail_value(&mut self, e: &syn::Expr, tail: Tail) -> Option<NodeId> {
        match (tail, e) {
            (Tail::Value, _) => self.value_or_diverge(e),
            // `return` moves into the arms, so an arm that returns early keeps its value.
            (Tail::Returns, syn::Expr::If(_) | syn::Expr::Match(_)) => {
                self.branch_expr(e, None, Tail::Returns)
            }
            (Tail::Returns, syn::Expr::Block(b)) if b.label.is_none() => {
                self.block_stmts(&b.block, Tail::Returns)
            }
            (Tail::Returns, syn::Expr::Paren(p)) => self.tail_value(&p.expr, tail),
            (Tail::Returns, _) => {
                if let Some(v) = self.value_or_diverge(e) {
                    self.do_return(v);
                }
                None
            }
            (Tail::Discard, _) => {
                self.effect_expr(e);
                None
            }
        }
    }

    /// The statements of a block, in a scope of their own.
    fn block_stmts(&mut self, block: &syn::Block, tail: Tail) -> Option<NodeId> {
        self.scopes.push(Vec::new());
        let stmts: Vec<&syn::Stmt> = block.stmts.iter().collect();
        let value = self.stmts(&stmts, tail);
        self.scopes.pop();
        value
    }

    /// After a statement that may have returned: `if returned {} else { rest }`.
    fn guarded_rest(&mut self, rest: Vec<&syn::Stmt>, tail: Tail) -> Option<NodeId> {
        let span = rest.first().map_or_else(Span::call_site, Spanned::span);
        let flag = self.read(self.interrupt_flag(), span)?;
        self.branch(
            Selector::If(flag),
            vec![ArmBody::Interrupted, ArmBody::Rest(rest)],
            tail,
            span,
        )
    }

    fn stmt(&mut self, stmt: &syn::Stmt, rest: &[&syn::Stmt]) {
        match stmt {
            syn::Stmt::Local(local) => self.local(local, rest),
            syn::Stmt::Item(item) => {
                self.errors.spanned(
                    item,
                    "items inside a `#[derive_grad]` function are not supported; move them outside",
                );
            }
            syn::Stmt::Expr(e, _) => self.effect_expr(e),
            syn::Stmt::Macro(m) => self.statement_macro(&m.mac, stmt),
        }
    }

    fn local(&mut self, local: &syn::Local, rest: &[&syn::Stmt]) {
        if let Some((pats, elems)) = syntax::tuple_let(local) {
            self.tuple_let(&pats, &elems, rest);
            return;
        }
        let binding = syntax::binding_of(&local.pat);
        let Ok(binding) = binding else {
            self.errors.spanned(
                &local.pat,
                "only simple bindings are supported (`let x = …`, `let mut x: f64 = …`, `let (a, b) = \
                 (…, …)`), not \
                 patterns",
            );
            // The initializer may hold more errors worth reporting now.
            if let Some(init) = &local.init {
                let _ = self.value_or_diverge(&init.expr);
            }
            return;
        };
        if let Some((else_token, _)) = local.init.as_ref().and_then(|i| i.diverge.as_ref()) {
            self.errors.spanned(
                else_token,
                "`let … else` is not supported in a `#[derive_grad]` function",
            );
            return;
        }
        let init = local.init.as_ref().map(|i| &*i.expr);
        let (ident, mutable, annotated) = match binding {
            syntax::LetBinding::Wild => {
                // `let _ = e;`: evaluated for nothing; lowered for its errors only.
                if let Some(e) = init {
                    let _ = self.value_or_diverge(e);
                }
                return;
            }
            syntax::LetBinding::Name(ident, mutable, annotated) => (ident, mutable, annotated),
        };
        let name = syntax::name_of(&ident);
        let in_loop = mutable && syntax::assigned_in_loop(rest, &name);
        let Some(init) = init else {
            // `let x;` assigned later: the name exists but has no value yet.
            let ty = annotated.unwrap_or(Ty::Unknown);
            let undef = self.undef(ty, ident.span());
            if in_loop {
                self.declare_var(&name, undef, ty);
            } else {
                self.bind(&name, undef, true);
            }
            return;
        };
        let array_annotated = syntax::float_array_of(&local.pat).is_some();
        // `let a: [f64; 0] = [];`: an empty literal has no element to type it by.
        if let (syn::Expr::Array(empty), Some(fty)) = (init, syntax::float_array_of(&local.pat))
            && empty.elems.is_empty()
        {
            let zero = self.b.float(0.0, fty, empty.span());
            let len = self.b.f.intern(quote::quote!(0));
            let ty = Ty::Float(fty).array_of();
            let value = self.b.add(Op::Repeat(len), vec![zero], ty, empty.span());
            self.bind_let(&ident, mutable, annotated, array_annotated, value, rest);
            return;
        }
        if let Some(value) = self.value_or_diverge(init) {
            self.bind_let(&ident, mutable, annotated, array_annotated, value, rest);
        }
    }

    /// `let (a, mut b) = (e1, e2);`: every element is evaluated before any name is bound, as
    /// in Rust (`let (a, b) = (b, a)` swaps).
    fn tuple_let(&mut self, pats: &[&syn::Pat], elems: &[&syn::Expr], rest: &[&syn::Stmt]) {
        let mut values = Vec::with_capacity(elems.len());
        for e in elems {
            let Some(value) = self.value_or_diverge(e) else {
                return;
            };
            values.push(value);
        }
        for (pat, value) in pats.iter().zip(values) {
            match syntax::binding_of(pat) {
                Ok(syntax::LetBinding::Name(ident, mutable, annotated)) => {
                    let array_annotated = syntax::float_array_of(pat).is_some();
                    self.bind_let(&ident, mutable, annotated, array_annotated, value, rest);
                }
                Ok(syntax::LetBinding::Wild) => {}
                Err(()) => self.errors.spanned(
                    pat,
                    "only simple bindings are supported inside a tuple pattern (`let (a, mut \
                     b) = (…, …)`)",
                ),
            }
        }
    }

    /// Binds `value` to the name of a `let`.
    #[allow(clippy::too_many_arguments)]
    fn bind_let(
        &mut self,
        ident: &syn::Ident,
        mutable: bool,
        annotated: Option<Ty>,
        array_annotated: bool,
        mut value: NodeId,
        rest: &[&syn::Stmt],
    ) {
        let name = syntax::name_of(ident);
        let in_loop = mutable && syntax::assigned_in_loop(rest, &name);
        if let Some(ty @ Ty::Float(_)) = annotated {
            value = self.typed_literal(value, ty);
        }
        // A call's result, typed as a scalar by its arguments, is an array where the user
        // says so (`let p: [f64; 2] = pair(x);`) or indexes it (`p[0] += 1.0`).
        if syntax::indexed_in(rest, &name) || array_annotated {
            self.as_array(value);
        }
        let ty = self.b.f.node(value).ty;
        // `let c = a;` (or `let r = g[0];`) of an array variable copies it: a variable of its
        // own, which later writes into `a` leave alone.
        let copy = ty.is_array() && self.b.f.read_root(value).is_some();
        if (mutable && (in_loop || ty.is_array())) || copy {
            self.declare_var(&name, value, ty);
        } else {
            self.b.name(value, &name);
            self.bind(&name, value, mutable);
        }
    }

    /// Types a call's result as an array of its float type (see [`types`] for why the macro
    /// has to be told).
    pub(super) fn as_array(&mut self, value: NodeId) {
        let node = self.b.f.node(value);
        if matches!(node.op, Op::Call(_)) && node.ty.is_float() {
            let ty = node.ty.array_of();
            self.b.f.nodes[value.index()].ty = ty;
        }
    }

    /// `let x: f64 = 2.0`: the literal takes the annotated type, so it prints with a suffix
    /// where Rust could not otherwise infer it (`2.0_f64.sqrt()`).
    fn typed_literal(&mut self, value: NodeId, ty: Ty) -> NodeId {
        let node = self.b.f.node(value);
        match (node.op, node.ty) {
            (Op::Lit(lit), Ty::Float(FloatTy::Lit)) => {
                let span = node.span;
                self.b.leaf(Op::Lit(lit), ty, span)
            }
            _ => value,
        }
    }

    /// An expression in statement position (its value, if any, is discarded).
    fn effect_expr(&mut self, e: &syn::Expr) {
        match e {
            syn::Expr::Assign(assign) => self.assign(&assign.left, None, &assign.right, e),
            syn::Expr::Binary(bin) if syntax::compound_op(&bin.op).is_some() => {
                self.assign(&bin.left, syntax::compound_op(&bin.op), &bin.right, e);
            }
            syn::Expr::If(_) | syn::Expr::Match(_) => {
                self.branch_expr(e, None, Tail::Discard);
            }
            syn::Expr::Block(block) if block.label.is_none() => {
                self.block_stmts(&block.block, Tail::Discard);
            }
            syn::Expr::Macro(m) => self.statement_macro(&m.mac, e),
            syn::Expr::Paren(p) => self.effect_expr(&p.expr),
            _ => {
                // A value computed for nothing (`g(x);`): lower it for its errors only.
                let _ = self.value_or_diverge(e);
            }
        }
    }

    /// `x = e`, `x op= e`, `a[i] = e`, `a[i][j] op= e`.
    fn assign(&mut self, target: &syn::Expr, op: Option<Op>, value: &syn::Expr, whole: &syn::Expr) {
        if let syn::Expr::Index(_) = target {
            self.store(target, op, value, whole);
            return;
        }
        let Some(ident) = syntax::plain_ident(target) else {
            self.errors.spanned(
                target,
                "only local variables and their elements can be assigned to (`x = …`, \
                 `a[i] += …`)",
            );
            return;
        };
        let name = syntax::name_of(ident);
        let Some(binding) = self.lookup(&name) else {
            self.errors
                .spanned(target, format_args!("cannot find variable `{name}`"));
            return;
        };
        let Some(rhs) = self.value_or_diverge(value) else {
            return;
        };
        match (binding.slot, op) {
            // `x += e` on a variable accumulates: in reverse, `d_e += d_x` and nothing else.
            (Slot::Var(var), Some(Op::Add)) => {
                self.b.push(Stmt::Assign(var, AssignOp::Add, rhs));
            }
            (slot, None) => {
                if let Slot::Value(_) = slot {
                    self.b.name(rhs, &name);
                }
                self.rebind(&name, rhs);
            }
            (slot, Some(op)) => {
                let Some(old) = self.read(&name, target.span()) else {
                    return;
                };
                let ty = self.b.f.node(old).ty.unify(self.b.f.node(rhs).ty);
                let new = self.b.add(op, vec![old, rhs], ty, whole.span());
                // A new SSA version is named after its variable; a value written into a
                // variable is the variable's.
                if let Slot::Value(_) = slot {
                    self.b.name(new, &name);
                }
                self.rebind(&name, new);
            }
        }
    }

    /// `println!`, `assert!` and friends, kept as they are in the forward sweep.
    fn statement_macro(&mut self, mac: &syn::Macro, whole: &dyn quote::ToTokens) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if syntax::ALLOWED_MACROS.contains(&name.as_str()) && mac.path.segments.len() == 1 {
            let scope = self.visible_user_bindings(mac.path.span());
            self.b.push(Stmt::Effect(super::ir::Effect {
                tokens: quote::quote!(#mac;),
                scope,
                substitute: false,
            }));
        } else {
            self.errors.spanned(
                &whole.to_token_stream(),
                format_args!(
                    "macro `{name}!` is not supported here; only `assert!`, `debug_assert!`, \
                     `println!` and `eprintln!` statements are allowed in a `#[derive_grad]` \
                     function"
                ),
            );
        }
    }

    // ----- branches -----

    /// Lowers an `if`/`match` expression; `nest` moves the rest of the enclosing block into
    /// the one arm that falls through.
    fn branch_expr(
        &mut self,
        e: &syn::Expr,
        nest: Option<(usize, Vec<&syn::Stmt>)>,
        tail: Tail,
    ) -> Option<NodeId> {
        let (selector, mut arms) = match e {
            syn::Expr::If(i) => {
                let cond = self.condition(&i.cond);
                let els = match &i.else_branch {
                    None => ArmBody::Empty,
                    Some((_, els)) => match &**els {
                        syn::Expr::Block(b) if b.label.is_none() => ArmBody::Block(&b.block),
                        other => ArmBody::Expr(other, None),
                    },
                };
                (
                    Selector::If(cond),
                    vec![ArmBody::Block(&i.then_branch), els],
                )
            }
            syn::Expr::Match(m) => self.match_arms(m)?,
            syn::Expr::Paren(p) => return self.branch_expr(&p.expr, nest, tail),
            _ => return self.value_or_diverge(e),
        };
        if let Some((keep, rest)) = nest {
            let arm = std::mem::replace(&mut arms[keep], ArmBody::Empty);
            arms[keep] = ArmBody::Then(Box::new(arm), rest);
        }
        self.branch(selector, arms, tail, e.span())
    }

    /// Lowers a branch with the given arms and merges the environments after it.
    fn branch(
        &mut self,
        selector: Selector,
        arms: Vec<ArmBody<'_>>,
        tail: Tail,
        span: Span,
    ) -> Option<NodeId> {
        let before = self.snapshot();
        let mut lowered = Vec::new();
        for arm in arms {
            self.b.open();
            self.scopes.push(Vec::new());
            let value = self.arm(arm, &selector, tail);
            self.scopes.pop();
            let block = self.b.close();
            lowered.push(LoweredArm {
                block,
                value,
                env: self.snapshot(),
            });
            self.scopes.clone_from(&before);
        }
        self.merge(selector, &before, lowered, tail == Tail::Value, span)
    }

    /// Lowers the content of one arm, inside its block and scope.
    fn arm(&mut self, arm: ArmBody<'_>, selector: &Selector, tail: Tail) -> Option<NodeId> {
        match arm {
            ArmBody::Empty => None,
            ArmBody::Interrupted => {
                self.set_flag(self.interrupt_flag(), true);
                None
            }
            ArmBody::Expr(e, binding) => {
                if let (Some(name), Selector::Match(scrutinee, _)) = (binding, selector) {
                    self.bind(&name, *scrutinee, false);
                }
                match (tail, e) {
                    (Tail::Value, _) => self.value_or_diverge(e),
                    (_, syn::Expr::Block(b)) if b.label.is_none() => {
                        self.block_stmts(&b.block, tail)
                    }
                    _ => self.tail_value(e, tail),
                }
            }
            ArmBody::Block(block) => self.block_stmts(block, tail),
            ArmBody::Then(first, rest) => {
                self.scopes.push(Vec::new());
                self.arm(*first, selector, Tail::Discard);
                self.scopes.pop();
                self.stmts(&rest, tail)
            }
            ArmBody::Rest(rest) => {
                self.set_flag(self.interrupt_flag(), false);
                self.stmts(&rest, tail)
            }
        }
    }

    /// Builds the `Branch` statement: one output per binding that some arm changed, plus the
    /// branch's own value.
    fn merge(
        &mut self,
        selector: Selector,
        before: &[Vec<(String, Binding)>],
        arms: Vec<LoweredArm>,
        want_value: bool,
        span: Span,
    ) -> Option<NodeId> {
        let flag = self.interrupt_flag();
        let done: Vec<bool> = arms
            .iter()
            .map(|arm| {
                arm.env
                    .iter()
                    .flatten()
                    .rev()
                    .find(|(n, _)| n == flag)
                    .is_some_and(|(_, b)| match b.slot {
                        Slot::Value(node) => self.b.f.bool_lit(node) == Some(true),
                        Slot::Var(_) => false,
                    })
            })
            .collect();
        let mut outputs = Vec::new();
        let mut yields: Vec<Vec<NodeId>> = vec![Vec::new(); arms.len()];

        let mut value = None;
        if want_value && arms.iter().any(|a| a.value.is_some()) {
            let ty = arms
                .iter()
                .filter_map(|a| a.value)
                .map(|v| self.b.f.node(v).ty)
                .fold(Ty::Unknown, Ty::unify);
            let per_arm: Vec<NodeId> = arms
                .iter()
                .map(|a| a.value.unwrap_or_else(|| self.b.leaf(Op::Undef, ty, span)))
                .collect();
            value = Some(self.join(&per_arm, ty, span, &mut outputs, &mut yields));
        }

        let mut env = before.to_vec();
        for (si, scope) in before.iter().enumerate() {
            for (bi, (name, binding)) in scope.iter().enumerate() {
                // Variables are written in place by the arms: nothing to merge.
                let Slot::Value(old) = binding.slot else {
                    continue;
                };
                let special = name.starts_with('<');
                let per_arm: Vec<NodeId> = arms
                    .iter()
                    .zip(&done)
                    .map(|(arm, &arm_done)| match arm.env[si][bi].1.slot {
                        // After a `return` or `break`, user variables are never read again
                        // on that path: keep their old value rather than invent one.
                        _ if arm_done && !special => old,
                        Slot::Value(node) => node,
                        Slot::Var(_) => old,
                    })
                    .collect();
                let ty = per_arm
                    .iter()
                    .map(|&v| self.b.f.node(v).ty)
                    .fold(Ty::Unknown, Ty::unify);
                let joined = self.join(&per_arm, ty, span, &mut outputs, &mut yields);
                if !special {
                    self.b.name(joined, name);
                }
                env[si][bi].1.slot = Slot::Value(joined);
            }
        }
        self.scopes = env;

        let arms: Vec<Arm> = arms
            .into_iter()
            .zip(yields)
            .map(|(arm, yields)| Arm {
                block: arm.block,
                yields,
            })
            .collect();
        if !outputs.is_empty() || arms.iter().any(|a| !a.block.stmts.is_empty()) {
            self.b.push(Stmt::Branch(Branch {
                selector,
                arms,
                outputs,
            }));
        }
        value
    }

    /// One output of a branch: a phi unless every arm yields the same node.
    fn join(
        &mut self,
        per_arm: &[NodeId],
        ty: Ty,
        span: Span,
        outputs: &mut Vec<NodeId>,
        yields: &mut [Vec<NodeId>],
    ) -> NodeId {
        if per_arm.iter().all(|&n| n == per_arm[0]) {
            return per_arm[0];
        }
        // Two constant flags merge to a constant: `true` on every arm.
        let phi = self.b.phi(ty, span);
        outputs.push(phi);
        for (arm, &v) in yields.iter_mut().zip(per_arm) {
            arm.push(v);
        }
        phi
    }

    /// A condition (`if` or `&&` operand): a bool value.
    fn condition(&mut self, e: &syn::Expr) -> NodeId {
        if let syn::Expr::Let(l) = e {
            self.errors.spanned(
                l,
                "`if let` is not supported in a `#[derive_grad]` function; use `if`/`else` on a \
                 `bool` condition",
            );
            return self.poison(e.span());
        }
        self.value_or_diverge(e)
            .unwrap_or_else(|| self.poison(e.span()))
    }

    /// The arms of a `match` on an integer.
    fn match_arms<'s>(&mut self, m: &'s syn::ExprMatch) -> Option<(Selector, Vec<ArmBody<'s>>)> {
        let scrutinee = self.value_or_diverge(&m.expr)?;
        if self.b.f.node(scrutinee).ty.is_float() {
            self.errors.spanned(
                &m.expr,
                "`match` on a float is not supported; use `if`/`else` comparisons",
            );
            return None;
        }
        if m.arms.is_empty() {
            self.errors.spanned(
                m,
                "a `match` with no arms never produces a value; give it the arms it needs \
                 (ending with `_ => …`)",
            );
            return None;
        }
        let mut patterns = Vec::new();
        let mut arms = Vec::new();
        for arm in &m.arms {
            if let syn::Pat::Guard(guard) = &arm.pat {
                let (if_token, condition) = (&guard.if_token, &guard.guard);
                self.errors.spanned(
                    &quote::quote!(#if_token #condition),
                    "match guards are not supported; use `if` inside the arm",
                );
                continue;
            }
            match syntax::sanitize_pattern(&arm.pat) {
                Ok((pattern, binding)) => {
                    patterns.push(self.b.f.intern(pattern));
                    arms.push(ArmBody::Expr(&arm.body, binding));
                }
                Err(bad) => self.errors.spanned(
                    &bad,
                    "only integer patterns are supported in `match` (literals, ranges, `|`, `_`, \
                     and a plain binding)",
                ),
            }
        }
        if patterns.len() != m.arms.len() {
            return None;
        }
        Some((Selector::Match(scrutinee, patterns), arms))
    }
}

/// `if c { return a; } rest` (any branch in which every arm either always returns or never
/// does, and exactly one arm falls through): the arm into which `rest` is lowered, which reads
/// like the user's intent and needs no flag.
fn nests_rest(stmt: &syn::Stmt, rest: &[&syn::Stmt]) -> Option<usize> {
    let syn::Stmt::Expr(e, semi) = stmt else {
        return None;
    };
    if rest.is_empty() && semi.is_none() {
        return None;
    }
    let arms = syntax::branch_arms(e)?;
    let mut falls_through = arms
        .iter()
        .enumerate()
        .filter(|(_, a)| !syntax::always_returns_arm(a));
    let (keep, arm) = falls_through.next()?;
    let one_returns = falls_through.next().is_none() && arms.len() > 1;
    (one_returns && !syntax::may_return_arm(arm)).then_some(keep)
}

/// An arm after lowering: its block, its value, and the environment at its end.
struct LoweredArm {
    block: super::ir::Block,
    value: Option<NodeId>,
    env: Vec<Vec<(String, Binding)>>,
}

#[cfg(test)]
mod tests {
    use crate::engine::errors::Errors;
    use crate::engine::{ir::verify::verify, signature};

    /// Lowers `item` and returns the textual IR (or the errors).
    fn lower_text(item: &syn::ItemFn) -> String {
        let mut errors = Errors::default();
        let sig = signature::analyze(item, &mut errors).expect("signature");
        match super::lower(item, &sig, &mut errors) {
            Some(f) => {
                verify(&f).expect("lowered IR verifies");
                f.to_text()
            }
            None => errors.to_compile_errors().to_string(),
        }
    }

    #[test]
    fn straight_line_code_is_one_node_per_operation_in_order() {
        let ir = lower_text(&syn::parse_quote! {
            fn f(x: f64, y: f64, z: f64) -> f64 { let a = x + y; let b = y.max(z); a * b }
        });
        let lines: Vec<&str> = ir.lines().map(str::trim).collect();
        assert_eq!(lines.len(), 6, "{ir}");
        assert!(lines[1].ends_with("= add %0 %1 : f64  // a"), "{ir}");
        assert!(lines[2].ends_with("= math.max %1 %2 : f64  // b"), "{ir}");
        let product = lines[3].split(' ').next().unwrap_or_default();
        assert!(lines[3].contains("= mul %"), "{ir}");
        assert_eq!(lines[4], format!("return {product}"));
    }

    #[test]
    fn an_early_return_becomes_an_if_else_without_a_flag() {
        let ir = lower_text(&syn::parse_quote! {
            fn f(x: f64) -> f64 { if x < 0.0 { return 0.0; } let s = x.sqrt(); s * 2.0 }
        });
        assert_eq!(ir.matches("if %").count(), 1, "{ir}");
        assert!(!ir.contains("true"), "no return flag: {ir}");
        assert!(ir.contains("math.sqrt"), "{ir}");
    }

    #[test]
    fn a_return_that_may_happen_guards_the_rest_of_the_block() {
        let ir = lower_text(&syn::parse_quote! {
            fn f(x: f64) -> f64 {
                let mut a = x;
                if x > 0.0 { if x > 1.0 { return a; } a += 1.0; }
                a * a
            }
        });
        // The inner `if` may return, so the rest is guarded by the flag: the last branch is
        // selected by one of the outputs of the branch before it.
        assert_eq!(ir.matches("if %").count(), 3, "{ir}");
        let outputs: Vec<&str> = ir
            .lines()
            .filter_map(|l| l.trim().strip_prefix("} -> "))
            .collect();
        let guard = ir
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("if "))
            .unwrap_or("");
        let flag = guard.trim_end_matches(" {");
        assert!(outputs[1].split(' ').any(|o| o == flag), "{ir}");
    }

    #[test]
    fn assignments_in_arms_merge_into_one_output_per_variable() {
        let ir = lower_text(&syn::parse_quote! {
            fn f(x: f64) -> f64 {
                let mut acc = x;
                if x > 1.0 { acc *= x; } else { acc += 1.0; }
                acc
            }
        });
        assert!(ir.contains("yield %"), "{ir}");
        assert_eq!(ir.matches("} -> ").count(), 1, "{ir}");
    }

    #[test]
    fn a_match_binding_is_the_scrutinee() {
        let ir = lower_text(&syn::parse_quote! {
            fn f(x: f64, n: i32) -> f64 { match n { 0 => x, k => x * (k as f64) } }
        });
        assert!(ir.contains("cast f64 %1"), "{ir}");
    }
}
