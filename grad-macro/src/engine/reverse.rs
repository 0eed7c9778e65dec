//! Reverse mode: primal IR → IR computing the value and the adjoints.
//!
//! The output is the forward sweep (the primal's statements, unchanged) followed by the
//! reverse sweep, built by walking the primal's blocks backwards:
//!
//! * each active node `n = op(a, b)` adds `d_a += d_n · ∂op/∂a` for each active operand, the
//!   local derivative coming from [`rules`]; there is no op-specific code here;
//! * each branch is replayed: the arm that ran forward runs backward, and an output's adjoint
//!   flows into the value that arm yielded;
//! * each call `g(x)` becomes `g_pullback(x, d_n, &mut d_x)`.
//!
//! Adjoints are mutable variables, declared at the first contribution in the block where
//! their value was defined (or zero-initialised there when the contributions are nested
//! deeper). A primal value a rule needs is read where it is: values computed inside an arm
//! are hoisted to the top level so the reverse sweep can see them.

use super::activity::Activity;
use super::ir::builder::Builder;
use super::ir::{
    Arm, AssignOp, Block, Branch, BufferArg, FloatTy, Function, NodeId, Op, PullbackCall, Selector,
    Stmt, Ty, VarId, VarKind,
};
use super::rules::{self, Partial, RuleCx};
use proc_macro2::Span;
use std::collections::HashMap;

/// Which generated function the reverse sweep is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `f_grad`: seed 1, adjoints of the active parameters returned.
    Grad,
    /// `f_pullback`: seed `d_out`, adjoints accumulated into `&mut` buffers.
    Pullback,
}

/// The output of the reverse transform.
pub struct Adjoint {
    /// Forward sweep then reverse sweep.
    pub f: Function,
    /// The primal result.
    pub value: Option<NodeId>,
    /// The seed variable (`d_out`): a local set to 1 for `Grad`, the parameter for `Pullback`.
    pub seed: VarId,
    /// Per parameter: its adjoint variable, if it got any contribution (`Grad`), or its
    /// buffer (`Pullback`, every float parameter).
    pub grads: Vec<Option<VarId>>,
}

/// Differentiates `primal` in reverse mode with respect to the parameters flagged in
/// `active` (by index).
pub fn reverse(primal: &Function, active: &[bool], mode: Mode) -> Adjoint {
    let act = Activity::analyze(primal, active);
    let mut b = Builder::new(primal.clone());
    b.f.body = Block::default();
    let mut depth = vec![1; primal.nodes.len()];
    let mut bound = vec![false; primal.nodes.len()];
    scan(&primal.body, 1, &mut depth, &mut bound);
    for stmt in &primal.body.stmts {
        b.push(stmt.clone());
        if let Stmt::Let(n) = stmt {
            b.remember(*n);
        }
    }
    b.fold = true;

    let ret_ty = primal
        .ret
        .map_or(Ty::Float(FloatTy::F64), |r| primal.node(r).ty);
    let seed = match mode {
        Mode::Grad => {
            let var = b.f.add_var("d_out", ret_ty, VarKind::Local);
            let fty = match ret_ty {
                Ty::Float(t) => t,
                _ => FloatTy::F64,
            };
            let one = b.float(1.0, fty, Span::call_site());
            b.push(Stmt::Decl(var, Some(one)));
            var
        }
        Mode::Pullback => b.f.add_var("d_out", ret_ty, VarKind::Param),
    };

    let mut r = Rev {
        p: primal,
        b,
        act,
        adj: HashMap::new(),
        depth,
        bound,
    };
    let mut grads = vec![None; primal.params.len()];
    if mode == Mode::Pullback {
        for (i, param) in primal.params.iter().enumerate() {
            let ty = primal.node(param.node).ty;
            if ty.is_float() {
                let var = r.b.f.add_var("d_", ty, VarKind::Buffer);
                r.b.f.vars[var.index()].of = Some(param.node);
                r.adj.insert(param.node, var);
                grads[i] = Some(var);
            }
        }
    }
    if let Some(ret) = primal.ret
        && r.act.active(ret)
    {
        if r.adj.contains_key(&ret) || matches!(primal.node(ret).op, Op::Param(_)) {
            let d = r.read(seed, primal.node(ret).span);
            r.contribute(ret, d);
        } else {
            r.adj.insert(ret, seed);
        }
    }
    r.block(&primal.body);
    if mode == Mode::Grad {
        for (i, param) in primal.params.iter().enumerate() {
            if active.get(i).copied().unwrap_or(false) {
                grads[i] = r.adj.get(&param.node).copied();
            }
        }
    }
    let mut f = r.b.finish();
    f.ret = primal.ret;
    Adjoint {
        f,
        value: primal.ret,
        seed,
        grads,
    }
}

/// Records each primal node's block depth (1 = top level) and whether it is let-bound.
fn scan(block: &Block, d: usize, depth: &mut [usize], bound: &mut [bool]) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let(n) => {
                depth[n.index()] = d;
                bound[n.index()] = true;
            }
            Stmt::Branch(branch) => {
                for arm in &branch.arms {
                    scan(&arm.block, d + 1, depth, bound);
                }
                for out in &branch.outputs {
                    depth[out.index()] = d;
                    bound[out.index()] = true;
                }
            }
            Stmt::Decl(..) | Stmt::Assign(..) | Stmt::Pullback(_) | Stmt::Effect(_) => {}
        }
    }
}

struct Rev<'p> {
    p: &'p Function,
    b: Builder,
    act: Activity,
    adj: HashMap<NodeId, VarId>,
    depth: Vec<usize>,
    bound: Vec<bool>,
}

impl Rev<'_> {
    fn block(&mut self, block: &Block) {
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Let(n) => self.node(*n),
                Stmt::Branch(branch) => self.branch(branch),
                Stmt::Decl(..) | Stmt::Assign(..) | Stmt::Pullback(_) | Stmt::Effect(_) => {}
            }
        }
    }

    /// The reverse of `n = op(args)`.
    fn node(&mut self, n: NodeId) {
        if !self.act.active(n) {
            return;
        }
        let Some(&var) = self.adj.get(&n) else {
            return; // nothing flows back into n
        };
        let node = self.p.node(n).clone();
        let d = self.read(var, node.span);
        if let Op::Call(callee) = node.op {
            self.pullback(n, callee, d);
            return;
        }
        for (i, &arg) in node.args.iter().enumerate() {
            if !self.act.active(arg) || !rules::passes_derivative(self.p, n, i) {
                continue;
            }
            let Some(partial) = rules::partial(node.op, i, &mut Cx { rev: self, n }) else {
                continue;
            };
            let contribution = match partial {
                Partial::Times(p) => self.b.add(Op::Mul, vec![d, p], node.ty, node.span),
                Partial::Over(p) => self.b.add(Op::Div, vec![d, p], node.ty, node.span),
            };
            let contribution = self.convert(contribution, node.ty, self.p.node(arg).ty, node.span);
            self.contribute(arg, contribution);
        }
    }

    /// `g_pullback(args…, d_n, &mut d_arg…)`.
    fn pullback(&mut self, n: NodeId, callee: super::ir::SymId, d: NodeId) {
        let node = self.p.node(n).clone();
        let args: Vec<NodeId> = node.args.iter().map(|&a| self.avail(a)).collect();
        let mut buffers = Vec::new();
        // An argument passed twice (`g(x, x)`) cannot lend its adjoint twice as `&mut`:
        // the repeat gets a buffer of its own, added in after the call.
        let mut repeats = Vec::new();
        for &arg in &node.args {
            let ty = self.p.node(arg).ty;
            // The callee has a buffer for every float parameter. An operand whose type the
            // macro cannot see (a constant) is taken to be a float.
            if !(ty.is_float() || ty == Ty::Unknown) {
                continue;
            }
            if !self.act.active(arg) {
                buffers.push(BufferArg::Discard(ty));
                continue;
            }
            let var = self.adjoint_var(arg);
            if buffers.contains(&BufferArg::Var(var)) {
                let extra = self.b.f.add_var("d_", ty, VarKind::Local);
                self.b.f.vars[extra.index()].of = Some(arg);
                self.b.push(Stmt::Decl(extra, None));
                repeats.push((var, extra));
                buffers.push(BufferArg::Var(extra));
            } else {
                buffers.push(BufferArg::Var(var));
            }
        }
        self.b.push(Stmt::Pullback(PullbackCall {
            callee,
            args,
            d_out: d,
            buffers,
            span: node.span,
        }));
        for (var, extra) in repeats {
            let value = self.read(extra, node.span);
            self.b.push(Stmt::Assign(var, AssignOp::Add, value));
        }
    }

    /// The reverse of a branch: the same selector picks the same arm, which runs backwards.
    fn branch(&mut self, branch: &Branch) {
        let mut arms = Vec::new();
        for arm in &branch.arms {
            self.b.open();
            for (k, &out) in branch.outputs.iter().enumerate() {
                if let Some(&var) = self.adj.get(&out)
                    && self.act.active(out)
                {
                    let d = self.read(var, self.p.node(out).span);
                    self.contribute(arm.yields[k], d);
                }
            }
            self.block(&arm.block);
            arms.push(Arm {
                block: self.b.close(),
                yields: Vec::new(),
            });
        }
        if arms.iter().all(|a| a.block.stmts.is_empty()) {
            return;
        }
        let selector = match &branch.selector {
            Selector::If(c) => Selector::If(self.avail(*c)),
            Selector::Match(s, patterns) => Selector::Match(self.avail(*s), patterns.clone()),
        };
        self.b.push(Stmt::Branch(Branch {
            selector,
            arms,
            outputs: Vec::new(),
        }));
    }

    /// Reads an adjoint variable here.
    fn read(&mut self, var: VarId, span: Span) -> NodeId {
        let ty = self.b.f.var(var).ty;
        self.b.add(Op::ReadVar(var), Vec::new(), ty, span)
    }

    /// `d_target += value`, declaring `d_target` on its first contribution.
    fn contribute(&mut self, target: NodeId, value: NodeId) {
        if !self.act.active(target) {
            return;
        }
        if let Some(&var) = self.adj.get(&target) {
            self.b.push(Stmt::Assign(var, AssignOp::Add, value));
            return;
        }
        let var = self.new_adjoint(target);
        let home = self.depth[target.index()];
        if home >= self.b.depth() {
            self.b.push(Stmt::Decl(var, Some(value)));
        } else {
            self.b.push_at(home, Stmt::Decl(var, None));
            self.b.push(Stmt::Assign(var, AssignOp::Add, value));
        }
    }

    /// The adjoint variable of `target` as a buffer that calls can accumulate into.
    fn adjoint_var(&mut self, target: NodeId) -> VarId {
        if let Some(&var) = self.adj.get(&target) {
            return var;
        }
        let var = self.new_adjoint(target);
        let home = self.depth[target.index()].min(self.b.depth());
        self.b.push_at(home, Stmt::Decl(var, None));
        var
    }

    fn new_adjoint(&mut self, target: NodeId) -> VarId {
        let ty = self.p.node(target).ty;
        let var = self.b.f.add_var("d_", ty, VarKind::Local);
        self.b.f.vars[var.index()].of = Some(target);
        self.adj.insert(target, var);
        var
    }

    /// A primal value, made visible to the reverse sweep: values computed inside an arm are
    /// hoisted; conditions are cheap and printed inline, so their operands are what must be
    /// visible.
    fn avail(&mut self, n: NodeId) -> NodeId {
        let node = self.p.node(n);
        if node.op.is_leaf() {
            return n;
        }
        let floating = !self.bound[n.index()];
        if floating || node.op.is_condition() {
            for arg in node.args.clone() {
                self.avail(arg);
            }
            return n;
        }
        if self.depth[n.index()] > 1 {
            self.b.f.hoisted.insert(n);
        }
        n
    }

    /// Converts an adjoint between float types across a cast (`d_x += d_y as f64`).
    fn convert(&mut self, value: NodeId, from: Ty, to: Ty, span: Span) -> NodeId {
        let name = match (from, to) {
            (Ty::Float(FloatTy::F64), Ty::Float(FloatTy::F32)) => quote::quote!(f32),
            (Ty::Float(FloatTy::F32), Ty::Float(FloatTy::F64)) => quote::quote!(f64),
            _ => return value,
        };
        let sym = self.b.f.intern(name);
        self.b.add(Op::Cast(sym), vec![value], to, span)
    }
}

/// The rule context of one node during the reverse sweep.
struct Cx<'r, 'p> {
    rev: &'r mut Rev<'p>,
    n: NodeId,
}

impl RuleCx for Cx<'_, '_> {
    fn operand(&mut self, i: usize) -> NodeId {
        let arg = self.rev.p.node(self.n).args[i];
        self.rev.avail(arg)
    }
    fn output(&mut self) -> NodeId {
        self.rev.avail(self.n)
    }
    fn builder(&mut self) -> &mut Builder {
        &mut self.rev.b
    }
    fn float_ty(&self) -> FloatTy {
        match self.rev.p.node(self.n).ty {
            Ty::Float(t) => t,
            _ => FloatTy::F64,
        }
    }
    fn span(&self) -> Span {
        self.rev.p.node(self.n).span
    }
}
