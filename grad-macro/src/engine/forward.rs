//! Forward mode: IR → IR computing the value and a directional derivative (a tangent).
//!
//! The function is copied statement by statement; after each value that depends on an active
//! parameter comes its tangent, `t_n = Σ ∂op/∂a · t_a`, with the local derivatives of the same
//! rule table reverse mode uses. Branches get an output for each tangent their arms yield,
//! variables and arrays get tangent twins written alongside them, loops carry both, and a call
//! `g(x)` becomes `g_jvp(x, t_x)`, which gives the value and its tangent.
//!
//! Applied to the IR of a gradient (forward over reverse), it gives Hessian-vector products:
//! tapes get tangent tapes, adjoint variables tangent adjoints.

use super::activity::Activity;
use super::ir::builder::Builder;
use super::ir::{
    Adapter, Arm, AssignOp, Block, Branch, Effect, FloatTy, Function, Loop, LoopKind, NodeId, Op,
    Param, Selector, Stmt, Store, Ty, VarId, VarKind,
};
use super::rules::{self, Partial, RuleCx};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};

/// The output of the forward transform.
pub struct Jvp {
    /// The value and tangent computations.
    pub f: Function,
    /// The value.
    pub value: Option<NodeId>,
    /// The tangent of the value (`None`: identically zero).
    pub tangent: Option<NodeId>,
    /// For each primal parameter, its tangent parameter (the active float-shaped ones); they
    /// follow the primal parameters in `f.params`.
    pub tangent_params: Vec<Option<NodeId>>,
    /// The nodes to show as named values: copies of the primal's varied nodes, and tangents.
    pub graph: Vec<bool>,
    /// The tangent twin of each variable of the primal that has one (the adjoints, when the
    /// primal is a gradient).
    pub var_tangents: HashMap<VarId, VarId>,
}

/// Differentiates `primal` in forward mode along the parameters flagged in `active`.
///
/// # Errors
///
/// A construct forward mode cannot differentiate (a pullback call, in the IR of a gradient).
pub fn forward(primal: &Function, active: &[bool]) -> Result<Jvp, String> {
    let act = Activity::analyze(primal, active);
    let unbounded = act.unbounded(primal);
    let mut f = Function {
        vars: primal.vars.clone(),
        lits: primal.lits.clone(),
        syms: primal.syms.clone(),
        sym_index: primal.sym_index.clone(),
        vec_rows: primal.vec_rows.clone(),
        float_refs: primal.float_refs.clone(),
        ..Function::default()
    };
    f.nodes.reserve(primal.nodes.len() * 2);
    let mut x = Fwd {
        p: primal,
        b: Builder::new(f),
        act,
        unbounded,
        map: HashMap::new(),
        tan: HashMap::new(),
        tvar: HashMap::new(),
    };
    let mut tangent_params = vec![None; primal.params.len()];
    for param in &primal.params {
        let node = primal.node(param.node);
        let copy = x.b.leaf(node.op, node.ty, node.span);
        x.b.f.nodes[copy.index()].name.clone_from(&node.name);
        x.b.f.params.push(Param {
            name: param.name.clone(),
            node: copy,
        });
        x.map.insert(param.node, copy);
    }
    for (i, param) in primal.params.iter().enumerate() {
        if !x.act.varied(param.node) {
            continue;
        }
        let node = primal.node(param.node);
        let index = u32::try_from(primal.params.len() + i).unwrap_or(u32::MAX);
        // The tangent of a parameter of `Vec` rows has `Vec` rows too.
        if x.p.vec_rows.contains(&u32::try_from(i).unwrap_or(u32::MAX)) {
            x.b.f.vec_rows.insert(index);
        }
        let t = x.b.leaf(Op::Param(index), node.ty, node.span);
        // Unlike every parameter's name and every tangent named so far (`x` and `t_x`).
        let mut name = format!("t_{}", param.name);
        while primal.params.iter().any(|p| p.name == name)
            || x.b.f.params.iter().any(|p| p.name == name)
        {
            name.insert_str(0, "t_");
        }
        x.b.f.nodes[t.index()].name = Some(name.clone());
        x.b.f.params.push(Param { name, node: t });
        x.tan.insert(param.node, t);
        tangent_params[i] = Some(t);
    }
    x.block(&primal.body)?;
    let value = primal.ret.map(|r| x.value(r));
    let tangent = primal.ret.and_then(|r| x.tan.get(&r).copied());
    let mut graph = vec![false; x.b.f.nodes.len()];
    for (primal_node, copy) in &x.map {
        if x.act.varied(*primal_node) {
            graph[copy.index()] = true;
        }
    }
    for t in x.tan.values() {
        graph[t.index()] = true;
    }
    if let Some(t) = tangent
        && x.b.f.node(t).name.is_none()
        && !matches!(x.b.f.node(t).op, Op::Param(_))
    {
        x.b.f.nodes[t.index()].name = Some("t_out".into());
    }
    // Adjoints and their tangents are named after the copies of their nodes.
    for v in 0..x.b.f.vars.len() {
        if let Some(of) = x.b.f.vars[v].of {
            let copy = x.value(of);
            x.b.f.vars[v].of = Some(copy);
        }
    }
    let var_tangents = x.tvar.clone();
    let hoisted: Vec<NodeId> = primal
        .hoisted
        .iter()
        .flat_map(|n| [x.map.get(n).copied(), x.tan.get(n).copied()])
        .flatten()
        .collect();
    let pinned: Vec<NodeId> = primal
        .pinned
        .iter()
        .filter_map(|n| x.map.get(n).copied())
        .collect();
    let mut f = x.b.finish();
    f.ret = value;
    f.pinned.extend(pinned);
    hoist(&mut f, &hoisted);
    Ok(Jvp {
        f,
        value,
        tangent,
        tangent_params,
        graph,
        var_tangents,
    })
}

/// Hoists the copies and tangents of the primal's hoisted values (values of an arm that a
/// gradient's reverse sweep reads after the branch) that are still defined inside an arm
/// rather than shared with a value outside it.
fn hoist(f: &mut Function, candidates: &[NodeId]) {
    fn nested(block: &Block, depth: usize, out: &mut HashSet<NodeId>) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(n) if depth > 1 => {
                    out.insert(*n);
                }
                Stmt::Branch(b) => {
                    if depth > 1 {
                        out.extend(b.outputs.iter().copied());
                    }
                    for arm in &b.arms {
                        nested(&arm.block, depth + 1, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut inside = HashSet::new();
    nested(&f.body, 1, &mut inside);
    f.hoisted
        .extend(candidates.iter().filter(|n| inside.contains(n)).copied());
}

struct Fwd<'p> {
    p: &'p Function,
    b: Builder,
    act: Activity,
    /// Per primal node: its tangent may be infinite (see [`Activity::unbounded`]).
    unbounded: Vec<bool>,
    /// Primal node → its copy.
    map: HashMap<NodeId, NodeId>,
    /// Primal node → its tangent.
    tan: HashMap<NodeId, NodeId>,
    /// Primal variable → its tangent twin.
    tvar: HashMap<VarId, VarId>,
}

impl Fwd<'_> {
    fn block(&mut self, block: &Block) -> Result<(), String> {
        for stmt in &block.stmts {
            self.stmt(stmt)?;
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<(), String> {
        match stmt {
            Stmt::Let(n) => self.node(*n),
            Stmt::Branch(branch) => self.branch(branch)?,
            Stmt::Loop(l) => self.looped(l)?,
            Stmt::Decl(v, init) => {
                let value = init.map(|i| self.value(i));
                self.b.push(Stmt::Decl(*v, value));
                if self.act.var_varied(*v) {
                    let tv = self.tangent_var(*v);
                    let t = match (self.p.var(*v).kind, init) {
                        // A tape's declaration carries its capacity, not a value.
                        (VarKind::Tape(_), _) => value,
                        (_, Some(i)) => Some(self.tangent_or_zero(*i)),
                        (_, None) => None,
                    };
                    self.b.push(Stmt::Decl(tv, t));
                }
            }
            Stmt::Assign(v, op, x) => {
                let value = self.value(*x);
                self.b.push(Stmt::Assign(*v, *op, value));
                if self.act.var_varied(*v) {
                    let tv = self.tangent_var(*v);
                    match (self.tan.get(x).copied(), op) {
                        (Some(t), _) => self.b.push(Stmt::Assign(tv, *op, t)),
                        (None, AssignOp::Set) => {
                            let zero = self.zero_like(*x);
                            self.b.push(Stmt::Assign(tv, AssignOp::Set, zero));
                        }
                        (None, AssignOp::Add) => {}
                    }
                }
            }
            Stmt::Store(store) => {
                let path: Vec<NodeId> = store.path.iter().map(|&i| self.value(i)).collect();
                let value = self.value(store.value);
                self.b.push(Stmt::Store(Store {
                    var: store.var,
                    path: path.clone(),
                    op: store.op,
                    value,
                }));
                if self.act.var_varied(store.var) {
                    let tv = self.tangent_var(store.var);
                    let t = match (self.tan.get(&store.value).copied(), store.op) {
                        (Some(t), _) => Some(t),
                        (None, AssignOp::Set) => Some(self.zero_like(store.value)),
                        (None, AssignOp::Add) => None,
                    };
                    if let Some(t) = t {
                        self.b.push(Stmt::Store(Store {
                            var: tv,
                            path,
                            op: store.op,
                            value: t,
                        }));
                    }
                }
            }
            Stmt::Push(tape, x) => {
                let value = self.value(*x);
                self.b.push(Stmt::Push(*tape, value));
                if self.act.var_varied(*tape) {
                    let tv = self.tangent_var(*tape);
                    let t = self.tangent_or_zero(*x);
                    self.b.push(Stmt::Push(tv, t));
                }
            }
            Stmt::Effect(effect) => {
                let scope = effect
                    .scope
                    .iter()
                    .map(|(name, n)| (name.clone(), self.value(*n)))
                    .collect();
                self.b.push(Stmt::Effect(Effect {
                    tokens: effect.tokens.clone(),
                    scope,
                    substitute: effect.substitute,
                }));
            }
            Stmt::Rewind(tape) => {
                self.b.push(Stmt::Rewind(*tape));
                if let Some(&tv) = self.tvar.get(tape) {
                    self.b.push(Stmt::Rewind(tv));
                }
            }
            Stmt::Pullback(call) => {
                return Err(format!(
                    "forward mode over a call's pullback (`{}`) is not supported yet",
                    self.p.sym(call.callee)
                ));
            }
        }
        Ok(())
    }

    /// The copy of a primal node (leaves and nodes without a `let` are copied on demand).
    fn value(&mut self, n: NodeId) -> NodeId {
        if let Some(&m) = self.map.get(&n) {
            return m;
        }
        let node = self.p.node(n).clone();
        let copy = if node.op.is_leaf() {
            self.b.leaf(node.op, node.ty, node.span)
        } else {
            let args: Vec<NodeId> = node.args.iter().map(|&a| self.value(a)).collect();
            self.b.floating(node.op, args, node.ty, node.span)
        };
        self.map.insert(n, copy);
        copy
    }

    /// `let n = …` and, when it is varied, its tangent.
    fn node(&mut self, n: NodeId) {
        let node = self.p.node(n).clone();
        let varied = self.act.varied(n);
        if let (Op::Call(callee), true) = (node.op, varied) {
            return self.jvp_call(n, callee);
        }
        let args: Vec<NodeId> = node.args.iter().map(|&a| self.value(a)).collect();
        self.b.fold = false;
        let copy = if node.op.is_positional() {
            self.b.fresh_like(node.op, args, node.ty, node.span)
        } else {
            self.b.add(node.op, args, node.ty, node.span)
        };
        self.b.fold = true;
        if self.b.f.node(copy).name.is_none() {
            self.b.f.nodes[copy.index()].name.clone_from(&node.name);
        }
        self.map.insert(n, copy);
        if varied && let Some(t) = self.tangent_of(n, copy) {
            self.set_tangent(n, t);
        }
    }

    /// Records `t` as the tangent of `n`, named `t_<name>` after a named value.
    fn set_tangent(&mut self, n: NodeId, t: NodeId) {
        let tangent = &mut self.b.f.nodes[t.index()];
        if let (Some(name), None, false) = (
            &self.p.node(n).name,
            &tangent.name,
            matches!(tangent.op, Op::Param(_)),
        ) {
            tangent.name = Some(format!("t_{name}"));
        }
        self.tan.insert(n, t);
    }

    /// `let (v, t_v) = g_jvp(args…, tangents…)`.
    fn jvp_call(&mut self, n: NodeId, callee: super::ir::SymId) {
        let node = self.p.node(n).clone();
        let mut args: Vec<NodeId> = node.args.iter().map(|&a| self.value(a)).collect();
        for &a in &node.args {
            let ty = self.p.node(a).ty;
            if ty.takes_buffer() {
                let t = self.tangent_or_zero(a);
                args.push(t);
            }
        }
        let call = self.b.add(Op::Jvp(callee), args, Ty::Unknown, node.span);
        let (zero, one) = (
            self.b.f.intern(quote::quote!(0)),
            self.b.f.intern(quote::quote!(1)),
        );
        let value = self.b.add(Op::Field(zero), vec![call], node.ty, node.span);
        let tangent = self.b.add(Op::Field(one), vec![call], node.ty, node.span);
        self.b.f.nodes[value.index()].name.clone_from(&node.name);
        self.map.insert(n, value);
        self.set_tangent(n, tangent);
    }

    /// The tangent of `n` (whose copy is `copy`), or `None` when it is identically zero.
    fn tangent_of(&mut self, n: NodeId, copy: NodeId) -> Option<NodeId> {
        let node = self.p.node(n).clone();
        let (ty, span) = (node.ty, node.span);
        let t = |x: &Self, i: usize| x.tan.get(&node.args[i]).copied();
        Some(match node.op {
            Op::ReadVar(v) | Op::Pop(v) => {
                let tv = *self.tvar.get(&v)?;
                let op = if matches!(node.op, Op::Pop(_)) {
                    Op::Pop(tv)
                } else {
                    Op::ReadVar(tv)
                };
                self.b.fresh_like(op, Vec::new(), ty, span)
            }
            Op::Index => {
                let base = t(self, 0)?;
                let index = self.value(node.args[1]);
                self.b.add(Op::Index, vec![base, index], ty, span)
            }
            // `&x` of a float passes the float's tangent (a callee's `&f64` has an `f64` one).
            Op::Ref if ty.is_float() => t(self, 0)?,
            Op::Ref | Op::Copy | Op::SumAll | Op::Cast(_) | Op::Repeat(_) => {
                let inner = t(self, 0)?;
                self.b.add(node.op, vec![inner], ty, span)
            }
            Op::VecRepeat => {
                let inner = t(self, 0)?;
                let len = self.value(node.args[1]);
                self.b.fresh_like(Op::VecRepeat, vec![inner, len], ty, span)
            }
            Op::ArrayLit => {
                let elems: Vec<NodeId> =
                    node.args.iter().map(|&a| self.tangent_or_zero(a)).collect();
                self.b.fresh_like(Op::ArrayLit, elems, ty, span)
            }
            Op::Select => {
                let c = self.value(node.args[0]);
                let (a, b) = (
                    self.tangent_or_zero(node.args[1]),
                    self.tangent_or_zero(node.args[2]),
                );
                self.b.add(Op::Select, vec![c, a, b], ty, span)
            }
            _ => {
                let mut sum: Option<NodeId> = None;
                for (i, &arg) in node.args.iter().enumerate() {
                    let Some(ta) = self.tan.get(&arg).copied() else {
                        continue;
                    };
                    if !rules::passes_derivative(self.p, n, i) {
                        continue;
                    }
                    let Some(partial) = rules::partial(node.op, i, &mut Cx { x: self, n, copy })
                    else {
                        continue;
                    };
                    let mut term = match partial {
                        Partial::Times(p) => self.b.add(Op::Mul, vec![p, ta], ty, span),
                        Partial::Over(p) => self.b.add(Op::Div, vec![ta, p], ty, span),
                    };
                    // Strong zeros, the mirror of reverse mode's: a zero tangent times an
                    // infinite derivative, or a zero derivative (a kink's convention, a factor
                    // 0) times an infinite tangent, contributes 0, not NaN.
                    if rules::singular(node.op, i) {
                        term = rules::strong_zero(&mut self.b, ta, term, ty, span);
                    } else if let Partial::Times(p) = partial
                        && self.unbounded[arg.index()]
                    {
                        term = rules::strong_zero(&mut self.b, p, term, ty, span);
                    }
                    sum = Some(match sum {
                        None => term,
                        Some(s) => self.b.add(Op::Add, vec![s, term], ty, span),
                    });
                }
                sum?
            }
        })
    }

    fn tangent_or_zero(&mut self, n: NodeId) -> NodeId {
        match self.tan.get(&n) {
            Some(&t) => t,
            None => self.zero_like(n),
        }
    }

    /// A zero tangent shaped like `n` (a reference to zeros for `&a`).
    fn zero_like(&mut self, n: NodeId) -> NodeId {
        let node = self.p.node(n).clone();
        let (ty, span) = (node.ty, node.span);
        if node.op == Op::Ref && !ty.is_float() {
            let inner = self.zero_like(node.args[0]);
            return self.b.add(Op::Ref, vec![inner], ty, span);
        }
        if node.op == Op::Undef {
            // The tangent of a placeholder (the value of an arm that returned) is one too.
            return self.value(n);
        }
        if ty.is_array() {
            // A constant array is rebuilt from a zero (`[0.0; 4]`, `vec![0.0; n]`): it reads
            // better than zeros shaped like a copy.
            if matches!(node.op, Op::Repeat(_) | Op::VecRepeat) && !self.act.varied(node.args[0]) {
                let mut args = vec![self.zero_like(node.args[0])];
                args.extend(node.args[1..].iter().map(|&a| self.value(a)));
                return self.b.fresh_like(node.op, args, ty, span);
            }
            let copy = self.value(n);
            self.b.fresh_like(Op::Zeros, vec![copy], ty, span)
        } else {
            self.b
                .float(0.0, ty.float_ty().unwrap_or(FloatTy::Lit), span)
        }
    }

    fn tangent_var(&mut self, v: VarId) -> VarId {
        if let Some(&tv) = self.tvar.get(&v) {
            return tv;
        }
        let var = self.p.var(v).clone();
        let tv = self
            .b
            .f
            .add_var(format!("t_{}", var.name), var.ty, var.kind);
        // A tangent of an adjoint is named after the adjoint's node, `t_d_x` (set when done).
        self.b.f.vars[tv.index()].of = var.of;
        self.tvar.insert(v, tv);
        tv
    }

    fn branch(&mut self, branch: &Branch) -> Result<(), String> {
        let selector = match &branch.selector {
            Selector::If(c) => Selector::If(self.value(*c)),
            Selector::Match(s, patterns) => Selector::Match(self.value(*s), patterns.clone()),
        };
        let varied: Vec<bool> = branch.outputs.iter().map(|&o| self.act.varied(o)).collect();
        let mut arms = Vec::new();
        for arm in &branch.arms {
            self.b.open();
            self.block(&arm.block)?;
            let mut yields: Vec<NodeId> = arm.yields.iter().map(|&y| self.value(y)).collect();
            for (k, &y) in arm.yields.iter().enumerate() {
                if varied[k] {
                    let t = self.tangent_or_zero(y);
                    yields.push(t);
                }
            }
            arms.push(Arm {
                block: self.b.close(),
                yields,
            });
        }
        let mut outputs = Vec::new();
        for &out in &branch.outputs {
            let node = self.p.node(out);
            let phi = self.b.phi(node.ty, node.span);
            self.b.f.nodes[phi.index()].name.clone_from(&node.name);
            self.map.insert(out, phi);
            outputs.push(phi);
        }
        for (k, &out) in branch.outputs.iter().enumerate() {
            if varied[k] {
                let node = self.p.node(out);
                let phi = self.b.phi(node.ty, node.span);
                self.set_tangent(out, phi);
                outputs.push(phi);
            }
        }
        self.b.push(Stmt::Branch(Branch {
            selector,
            arms,
            outputs,
        }));
        Ok(())
    }

    fn looped(&mut self, l: &Loop) -> Result<(), String> {
        let kind = match &l.kind {
            LoopKind::Range {
                start,
                end,
                inclusive,
                adapters,
                exact,
            } => LoopKind::Range {
                start: self.value(*start),
                end: self.value(*end),
                inclusive: *inclusive,
                exact: *exact,
                adapters: adapters
                    .iter()
                    .map(|a| match *a {
                        Adapter::StepBy(k) => Adapter::StepBy(self.value(k)),
                        Adapter::Take(k) => Adapter::Take(self.value(k)),
                        Adapter::Rev => Adapter::Rev,
                    })
                    .collect(),
            },
            LoopKind::While { header, cond } => {
                self.b.open();
                self.block(header)?;
                let cond = self.value(*cond);
                let header = self.b.close();
                LoopKind::While { header, cond }
            }
            LoopKind::Infinite => LoopKind::Infinite,
        };
        let index = l.index.map(|i| {
            let node = self.p.node(i);
            let k = u32::try_from(self.b.f.nodes.len()).unwrap_or(u32::MAX);
            let copy = self.b.unbound(Op::LoopIndex(k), node.ty, node.span);
            self.b.f.nodes[copy.index()].name.clone_from(&node.name);
            self.map.insert(i, copy);
            copy
        });
        self.b.open();
        self.block(&l.body)?;
        let exit = l.exit.map(|e| self.value(e));
        let body = self.b.close();
        // The trip count's own `let` after the loop is copied as any other node.
        self.b.push(Stmt::Loop(Box::new(Loop {
            kind,
            index,
            body,
            exit,
            trips: None,
        })));
        Ok(())
    }
}

/// The rule context of one node during the forward sweep: operands are where they are.
struct Cx<'x, 'p> {
    x: &'x mut Fwd<'p>,
    n: NodeId,
    copy: NodeId,
}

impl RuleCx for Cx<'_, '_> {
    fn operand(&mut self, i: usize) -> NodeId {
        let arg = self.x.p.node(self.n).args[i];
        self.x.value(arg)
    }
    fn output(&mut self) -> NodeId {
        self.copy
    }
    fn builder(&mut self) -> &mut Builder {
        &mut self.x.b
    }
    fn float_ty(&self) -> FloatTy {
        self.x.p.node(self.n).ty.float_ty().unwrap_or(FloatTy::F64)
    }
    fn span(&self) -> Span {
        self.x.p.node(self.n).span
    }
}
