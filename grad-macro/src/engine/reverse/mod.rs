//! Reverse mode: primal IR → IR computing the value and the adjoints.
//!
//! The output is the forward sweep (the primal's statements, plus tape pushes) followed by the
//! reverse sweep, built by walking the primal's blocks backwards:
//!
//! * each active node `n = op(a, b)` adds `d_a += d_n · ∂op/∂a` for each active operand, the
//!   local derivative coming from [`rules`]; there is no op-specific arithmetic here;
//! * each branch is replayed: the arm that ran forward runs backward, and an output's adjoint
//!   flows into the value that arm yielded;
//! * each loop runs backwards over the same indices (or, when it may have stopped early, over
//!   the iterations that ran);
//! * memory is reversed in the textbook way: a read `r = v` adds `d_v += d_r`, a write
//!   `v = x` moves `d_v` into `d_x` and zeroes `d_v`, `v += x` adds `d_v` into `d_x`; an array
//!   element read scatters into the element of the array's adjoint;
//! * each call `g(x)` becomes `g_pullback(x, d_n, &mut d_x)`.
//!
//! Adjoints are mutable variables, declared at the first contribution in the block where their
//! value was defined (or zero-initialised there when the contributions are nested deeper).
//!
//! A primal value a rule needs is read where it is ([`Rev::avail`]): values of the top level
//! are in scope; values computed inside an arm are hoisted before the arm's branch; values
//! computed inside a loop are recomputed in the reverse iteration from what is available —
//! immutable bindings are never taped — except values the loop overwrites (a read of a
//! variable, an element of a mutable array, a value merged after a branch, a call's result),
//! which the forward sweep pushes on a tape of their own and the reverse iteration pops.

mod homes;

use super::activity::Activity;
use super::ir::builder::Builder;
use super::ir::{
    Adapter, Arm, AssignOp, Block, Branch, BufferArg, FloatTy, Function, Loop, LoopKind, NodeId,
    Op, PullbackCall, Selector, Stmt, Store, SymId, Ty, VarId, VarKind,
};
use super::optimize::jam::jam;
use super::plant::{Bug, planted};
use super::rules::{self, Partial, RuleCx};
use homes::{Home, Homes};
use proc_macro2::Span;
use std::collections::HashMap;

/// Which generated function the reverse sweep is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `f_grad`: seed 1, adjoints of the active parameters returned.
    Grad,
    /// `f_pullback`: seed `d_out`, adjoints accumulated into `&mut` buffers.
    Pullback,
    /// The rows of `f_jacobian`: as `Grad`, but the seed `d_out` is left undeclared, for the
    /// caller to set to each unit vector in turn around the reverse sweep.
    Jacobian,
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
    /// Where the reverse sweep starts among the top-level statements of `f.body`.
    pub sweep: usize,
}

/// Differentiates `primal` in reverse mode with respect to the parameters flagged in
/// `active` (by index).
pub fn reverse(primal: &Function, active: &[bool], mode: Mode) -> Adjoint {
    let act = Activity::analyze(primal, active);
    let unbounded = act.unbounded_adjoint(primal);
    let homes = Homes::scan(primal, &act);
    let mut b = Builder::new(primal.clone());
    b.f.body = Block::default();
    // Values of the forward sweep's top level can be shared by derivative code.
    for stmt in &primal.body.stmts {
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
            let one = b.float(
                1.0,
                ret_ty.float_ty().unwrap_or(FloatTy::F64),
                Span::call_site(),
            );
            b.push(Stmt::Decl(var, Some(one)));
            var
        }
        Mode::Pullback => b.f.add_var("d_out", ret_ty, VarKind::Param),
        Mode::Jacobian => b.f.add_var("d_out", ret_ty, VarKind::Local),
    };

    let mut r = Rev {
        p: primal,
        b,
        act,
        unbounded,
        homes,
        adj: HashMap::new(),
        var_adj: HashMap::new(),
        cache: vec![HashMap::new()],
        tapes: Vec::new(),
        tape_of: HashMap::new(),
        top_loops: Vec::new(),
        counted: std::collections::HashSet::new(),
    };
    let mut grads = vec![None; primal.params.len()];
    if mode == Mode::Pullback {
        for (i, param) in primal.params.iter().enumerate() {
            let ty = primal.node(param.node).ty;
            if ty.float_shaped() {
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
    if mode != Mode::Pullback {
        for (i, param) in primal.params.iter().enumerate() {
            if active.get(i).copied().unwrap_or(false) {
                grads[i] = r.adj.get(&param.node).copied();
            }
        }
    }
    let forward = r.forward_sweep();
    let top_loops = std::mem::take(&mut r.top_loops);
    let mut f = r.b.finish();
    let mut stmts = forward.stmts;
    let sweep = stmts.len();
    stmts.append(&mut f.body.stmts);
    f.body.stmts = stmts;
    if mode != Mode::Jacobian {
        jam(&mut f, sweep, &top_loops);
    }
    f.ret = primal.ret;
    Adjoint {
        f,
        value: primal.ret,
        seed,
        grads,
        sweep,
    }
}

/// Where an adjoint contribution goes.
enum Target {
    /// The adjoint of a node (a scalar, or an array node's whole adjoint).
    Node(NodeId),
    /// An element (or row) of an array's adjoint variable.
    Element(VarId, Vec<NodeId>),
    /// Nothing: the target carries no derivative.
    None,
}

struct Rev<'p> {
    p: &'p Function,
    b: Builder,
    act: Activity,
    /// Per primal node: its adjoint may be infinite (see [`Activity::unbounded_adjoint`]).
    unbounded: Vec<bool>,
    homes: Homes<'p>,
    /// Adjoint variables of primal nodes.
    adj: HashMap<NodeId, VarId>,
    /// Adjoint variables of primal variables.
    var_adj: HashMap<VarId, VarId>,
    /// Per reverse block depth: primal node → the node standing for it there (recomputed,
    /// popped, or the reverse loop's index).
    cache: Vec<HashMap<NodeId, NodeId>>,
    /// Taped primal nodes and their tapes, in the order they were asked for.
    tapes: Vec<(NodeId, VarId)>,
    tape_of: HashMap<NodeId, VarId>,
    /// Each top-level loop's index and its reverse's, for jamming.
    top_loops: Vec<(NodeId, NodeId)>,
    /// The indices of loops reversed over their count of iterations: taped.
    counted: std::collections::HashSet<NodeId>,
}

impl Rev<'_> {
    fn block(&mut self, block: &Block) {
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Let(n) => self.node(*n),
                Stmt::Branch(branch) => self.branch(branch),
                Stmt::Loop(l) => self.looped(l),
                Stmt::Decl(v, Some(init)) => self.decl(*v, *init),
                Stmt::Assign(v, op, x) => self.assign(*v, *op, *x),
                Stmt::Store(store) => self.store(store),
                Stmt::Decl(_, None)
                | Stmt::Pullback(_)
                | Stmt::Effect(_)
                | Stmt::Push(..)
                | Stmt::Rewind(_) => {}
            }
        }
    }

    fn open(&mut self) {
        self.b.open();
        self.cache.push(HashMap::new());
    }

    fn close(&mut self) -> Block {
        self.cache.pop();
        self.b.close()
    }

    // ----- nodes -----

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
        match node.op {
            Op::Call(callee) => return self.pullback(n, callee, d),
            // A read of a variable passes its adjoint to the variable, here, before any
            // earlier write is reversed.
            Op::ReadVar(v) => {
                let dv = self.var_adjoint(v);
                self.b.push(Stmt::Assign(dv, AssignOp::Add, d));
                return;
            }
            // An element of a mutable array scatters into the element of its adjoint.
            Op::Index => {
                if let Target::Element(dv, path) = self.resolve(n, true) {
                    self.b.push(Stmt::Store(Store {
                        var: dv,
                        path,
                        op: AssignOp::Add,
                        value: d,
                    }));
                }
                return;
            }
            Op::ArrayLit => {
                for (k, &elem) in node.args.iter().enumerate() {
                    if self.act.active(elem) {
                        let k = self.b.int(i128::try_from(k).unwrap_or(0), node.span);
                        let dk = self.index(d, &[k], node.span);
                        self.contribute(elem, dk);
                    }
                }
                return;
            }
            Op::Repeat(_) | Op::VecRepeat => {
                let ty = self.p.node(node.args[0]).ty;
                let sum = self.b.add(Op::SumAll, vec![d], ty, node.span);
                self.contribute(node.args[0], sum);
                return;
            }
            _ => {}
        }
        let mut summed = Vec::new();
        for (i, &arg) in node.args.iter().enumerate() {
            if !self.act.active(arg) || !rules::passes_derivative(self.p, n, i) {
                continue;
            }
            if summed.contains(&i) {
                continue;
            }
            let Some(mut partial) = rules::partial(node.op, i, &mut Cx { rev: self, n }) else {
                continue;
            };
            // The same value at several operand positions (`x * x`, `x.atan2(x)`): its local
            // partials are summed before the upstream multiplies them, so that partials which
            // cancel (±5e299 for `atan2` near the origin) cancel exactly instead of swamping
            // the adjoint's other contributions one after the other.
            if let Partial::Times(first) = partial
                && !rules::singular(node.op, i)
            {
                let mut local = first;
                for (j, &other) in node.args.iter().enumerate().skip(i + 1) {
                    if other != arg
                        || !rules::passes_derivative(self.p, n, j)
                        || rules::singular(node.op, j)
                    {
                        continue;
                    }
                    if let Some(Partial::Times(more)) =
                        rules::partial(node.op, j, &mut Cx { rev: self, n })
                    {
                        local = self.b.add(Op::Add, vec![local, more], node.ty, node.span);
                        summed.push(j);
                    }
                }
                partial = Partial::Times(local);
            }
            let mut contribution = match partial {
                Partial::Times(p) => self.b.add(Op::Mul, vec![d, p], node.ty, node.span),
                Partial::Over(p) => self.b.add(Op::Div, vec![d, p], node.ty, node.span),
            };
            // Strong zeros, the mirror of forward mode's: a zero adjoint times an infinite
            // partial, or a zero partial (a kink's convention, a factor 0) times an infinite
            // adjoint, contributes 0, not NaN.
            if rules::singular(node.op, i) {
                contribution = rules::strong_zero(&mut self.b, d, contribution, node.ty, node.span);
            } else if let Partial::Times(p) = partial
                && self.unbounded[n.index()]
            {
                contribution = rules::strong_zero(&mut self.b, p, contribution, node.ty, node.span);
            }
            let contribution = self.convert(contribution, node.ty, self.p.node(arg).ty, node.span);
            self.contribute(arg, contribution);
        }
    }

    /// `g_pullback(args…, d_n, &mut d_arg…)`.
    fn pullback(&mut self, n: NodeId, callee: SymId, d: NodeId) {
        let node = self.p.node(n).clone();
        let args: Vec<NodeId> = node.args.iter().map(|&a| self.avail(a)).collect();
        let mut buffers = Vec::new();
        // An argument passed twice (`g(x, x)`) cannot lend its adjoint twice as `&mut`:
        // the repeat gets a buffer of its own, added in after the call.
        let mut repeats = Vec::new();
        for (&arg, &here) in node.args.iter().zip(&args) {
            let ty = self.p.node(arg).ty;
            // The callee has a buffer for every float-shaped parameter. An operand whose type
            // the macro cannot see (a constant) is taken to be a float.
            if !ty.takes_buffer() {
                continue;
            }
            let target = if self.act.active(arg) {
                self.buffer(arg)
            } else {
                None
            };
            let Some((var, path)) = target else {
                buffers.push(BufferArg::Discard(here));
                continue;
            };
            // Any two places in one variable may alias (`g(w[i], w[j])`, `g(w[1], w[1])`).
            let aliased = buffers
                .iter()
                .any(|b| matches!(b, BufferArg::Var(v, _) if *v == var));
            if aliased {
                let extra = self.b.f.add_var("d_", ty, VarKind::Local);
                self.b.f.vars[extra.index()].of = Some(arg);
                let init = ty.is_array().then(|| self.zeros_of(arg, self.b.depth()));
                self.b.push(Stmt::Decl(extra, init));
                repeats.push((var, path, extra));
                buffers.push(BufferArg::Var(extra, Vec::new()));
            } else {
                buffers.push(BufferArg::Var(var, path));
            }
        }
        self.b.push(Stmt::Pullback(PullbackCall {
            callee,
            args,
            d_out: d,
            buffers,
            span: node.span,
        }));
        for (var, path, extra) in repeats {
            let value = self.read(extra, node.span);
            self.add_into(var, path, value);
        }
    }

    // ----- control flow -----

    /// The reverse of a branch: the same selector picks the same arm, which runs backwards.
    fn branch(&mut self, branch: &Branch) {
        let mut arms = Vec::new();
        for arm in &branch.arms {
            self.open();
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
                block: self.close(),
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

    /// The reverse of a loop: the same indices backwards, or the iterations that ran.
    fn looped(&mut self, l: &Loop) {
        let span = Span::call_site();
        // What an iteration leaves for the next flows back from the next one: those adjoints
        // exist before the reversed body starts, even for a variable the body writes after
        // its last read (`s += v * v; v += h;`).
        if !planted(Bug::LoopCarried) {
            for v in self.homes.live_at_head(l) {
                self.var_adjoint(v);
            }
        }
        // A range of 64-bit integers that stopped early or steps cannot be reversed in place
        // (`.take(n).rev()` needs a length): it runs backwards over its count of iterations,
        // and each iteration's index comes back from a tape.
        let by_count = matches!(&l.kind, LoopKind::Range { exact: false, adapters, .. }
            if l.exit.is_some() || adapters.iter().any(|a| matches!(a, Adapter::StepBy(_))));
        if by_count && let Some(fwd) = l.index {
            self.counted.insert(fwd);
        }
        self.open();
        let index = l.index.filter(|_| !by_count).map(|fwd| {
            let k = u32::try_from(self.b.f.nodes.len()).unwrap_or(u32::MAX);
            let rev = self.b.unbound(Op::LoopIndex(k), Ty::Int, span);
            self.b.f.nodes[rev.index()]
                .name
                .clone_from(&self.p.node(fwd).name);
            if let Some(cache) = self.cache.last_mut() {
                cache.insert(fwd, rev);
            }
            rev
        });
        self.block(&l.body);
        let body = self.close();
        if body.stmts.is_empty() {
            return;
        }
        if let (Some(fwd), Some(rev), 1) = (l.index, index, self.b.depth()) {
            self.top_loops.push((fwd, rev));
        }
        let trips = l.trips.map(|t| self.avail(t));
        let kind = match &l.kind {
            LoopKind::Range {
                start,
                end,
                inclusive,
                adapters,
                exact,
            } if !by_count => {
                let mut reversed: Vec<Adapter> = adapters
                    .iter()
                    .map(|a| match *a {
                        Adapter::StepBy(k) => Adapter::StepBy(self.avail(k)),
                        other => other,
                    })
                    .collect();
                if let Some(trips) = trips.filter(|_| l.exit.is_some()) {
                    reversed.push(Adapter::Take(trips));
                }
                if planted(Bug::LoopOrder) {
                    // Wrong on purpose: the reverse sweep keeps the forward order.
                } else if reversed.last() == Some(&Adapter::Rev) {
                    reversed.pop();
                } else {
                    reversed.push(Adapter::Rev);
                }
                LoopKind::Range {
                    start: self.avail(*start),
                    end: self.avail(*end),
                    inclusive: *inclusive,
                    adapters: reversed,
                    exact: *exact,
                }
            }
            _ => LoopKind::Range {
                start: self.b.int(0, span),
                end: trips.unwrap_or_else(|| self.b.int(0, span)),
                inclusive: false,
                adapters: Vec::new(),
                exact: true,
            },
        };
        self.b.push(Stmt::Loop(Box::new(Loop {
            kind,
            index,
            body,
            exit: None,
            trips: None,
        })));
    }

    // ----- memory -----

    /// The reverse of `let v = init` (a variable's declaration): `init` gets `d_v`.
    fn decl(&mut self, v: VarId, init: NodeId) {
        let Some(&dv) = self.var_adj.get(&v) else {
            return;
        };
        if !self.act.active(init) {
            return;
        }
        let d = self.read(dv, self.p.node(init).span);
        self.contribute(init, d);
    }

    /// The reverse of `v = x` (`d_x += d_v; d_v = 0`) or `v += x` (`d_x += d_v`).
    fn assign(&mut self, v: VarId, op: AssignOp, x: NodeId) {
        let Some(&dv) = self.var_adj.get(&v) else {
            return;
        };
        let span = self.p.node(x).span;
        if self.act.active(x) {
            let d = self.read(dv, span);
            self.contribute(x, d);
        }
        if op == AssignOp::Set {
            let ty = self.b.f.var(dv).ty;
            let zero = if ty.is_array() {
                // Zeros shaped like the adjoint itself.
                let current = self.read(dv, span);
                self.b.add(Op::Zeros, vec![current], ty, span)
            } else {
                self.zero(ty, span)
            };
            self.b.push(Stmt::Assign(dv, AssignOp::Set, zero));
        }
    }

    /// The reverse of `a[i] = x` or `a[i] += x`.
    fn store(&mut self, store: &Store) {
        let Some(&dv) = self.var_adj.get(&store.var) else {
            return;
        };
        let span = self.p.node(store.value).span;
        let path: Vec<NodeId> = store.path.iter().map(|&i| self.avail(i)).collect();
        if self.act.active(store.value) {
            let array = self.read(dv, span);
            let d = self.index(array, &path, span);
            self.contribute(store.value, d);
        }
        if store.op == AssignOp::Set {
            let ty = self.b.f.var(dv).ty;
            let mut elem = ty;
            for _ in &path {
                elem = elem.element();
            }
            let zero = if elem.is_array() {
                // A row: zeros shaped like the row stored (`m[0] = [x, y]`).
                let value = self.avail(store.value);
                self.b.add(Op::Zeros, vec![value], elem, span)
            } else {
                self.zero(elem, span)
            };
            self.b.push(Stmt::Store(Store {
                var: dv,
                path,
                op: AssignOp::Set,
                value: zero,
            }));
        }
    }

    // ----- adjoints -----

    /// Where an adjoint contribution to `target` goes. An element of an immutable array (a
    /// parameter, a literal) is its array adjoint's element; with `scatter`, so is an element
    /// of a variable, whose own adjoint is scattered when its read is reversed.
    fn resolve(&mut self, target: NodeId, scatter: bool) -> Target {
        if !self.act.active(target) {
            return Target::None;
        }
        let node = self.p.node(target).clone();
        match node.op {
            Op::Ref | Op::Copy => self.resolve(node.args[0], scatter),
            Op::Index => {
                if !scatter && self.p.read_root(node.args[0]).is_some() {
                    return Target::Node(target);
                }
                match self.resolve(node.args[0], scatter) {
                    Target::Element(var, mut path) => {
                        path.push(self.avail(node.args[1]));
                        Target::Element(var, path)
                    }
                    Target::Node(root) => {
                        let var = self.array_adjoint(root);
                        Target::Element(var, vec![self.avail(node.args[1])])
                    }
                    Target::None => Target::None,
                }
            }
            Op::ReadVar(v) if node.ty.is_array() => {
                Target::Element(self.var_adjoint(v), Vec::new())
            }
            _ => Target::Node(target),
        }
    }

    /// `var[path…] += value` (the whole variable for an empty path).
    fn add_into(&mut self, var: VarId, path: Vec<NodeId>, value: NodeId) {
        if path.is_empty() {
            self.b.push(Stmt::Assign(var, AssignOp::Add, value));
        } else {
            self.b.push(Stmt::Store(Store {
                var,
                path,
                op: AssignOp::Add,
                value,
            }));
        }
    }

    /// `d_target += value`, declaring `d_target` on its first contribution.
    fn contribute(&mut self, target: NodeId, value: NodeId) {
        match self.resolve(target, false) {
            Target::None => {}
            Target::Element(var, path) => self.add_into(var, path, value),
            Target::Node(n) => {
                if self.p.node(n).ty.is_array() {
                    let var = self.array_adjoint(n);
                    self.b.push(Stmt::Assign(var, AssignOp::Add, value));
                    return;
                }
                if let Some(&var) = self.adj.get(&n) {
                    let op = if planted(Bug::FanOut) {
                        AssignOp::Set
                    } else {
                        AssignOp::Add
                    };
                    self.b.push(Stmt::Assign(var, op, value));
                    return;
                }
                let var = self.new_adjoint(n);
                let home = self.homes.nodes[n.index()].depth;
                if home >= self.b.depth() {
                    self.b.push(Stmt::Decl(var, Some(value)));
                } else {
                    self.b.push_at(home, Stmt::Decl(var, None));
                    self.b.push(Stmt::Assign(var, AssignOp::Add, value));
                }
            }
        }
    }

    /// The buffer a pullback accumulates `arg`'s adjoint into: a variable and a path.
    fn buffer(&mut self, arg: NodeId) -> Option<(VarId, Vec<NodeId>)> {
        match self.resolve(arg, true) {
            Target::None => None,
            Target::Element(var, path) => Some((var, path)),
            Target::Node(n) if self.p.node(n).ty.is_array() => {
                Some((self.array_adjoint(n), Vec::new()))
            }
            Target::Node(n) => Some((self.scalar_adjoint(n), Vec::new())),
        }
    }

    /// The adjoint variable of a scalar node, declared (zero) where the node lives.
    fn scalar_adjoint(&mut self, n: NodeId) -> VarId {
        if let Some(&var) = self.adj.get(&n) {
            return var;
        }
        let var = self.new_adjoint(n);
        let home = self.homes.nodes[n.index()].depth.min(self.b.depth());
        self.b.push_at(home, Stmt::Decl(var, None));
        var
    }

    /// The adjoint array of an array node (a parameter, a literal), zeros to begin with.
    fn array_adjoint(&mut self, n: NodeId) -> VarId {
        if let Some(&var) = self.adj.get(&n) {
            return var;
        }
        let var = self.new_adjoint(n);
        let home = self.homes.nodes[n.index()].depth.min(self.b.depth());
        let zeros = self.zeros_of(n, home);
        self.b.push_at(home, Stmt::Decl(var, Some(zeros)));
        var
    }

    /// The adjoint variable of a primal variable, declared where the variable is.
    fn var_adjoint(&mut self, v: VarId) -> VarId {
        if let Some(&dv) = self.var_adj.get(&v) {
            return dv;
        }
        let var = self.p.var(v).clone();
        let dv = self
            .b
            .f
            .add_var(format!("d_{}", var.name), var.ty, VarKind::Local);
        let home = self.homes.vars[v.index()].depth.min(self.b.depth());
        let init = match (var.ty.is_array(), self.homes.inits[v.index()]) {
            // A `loop`'s `break` value starts as a placeholder: its adjoint takes the shape
            // of what is accumulated into it.
            (true, Some(init)) if self.p.node(init).op != Op::Undef => {
                Some(self.zeros_of(init, home))
            }
            _ => None,
        };
        self.b.push_at(home, Stmt::Decl(dv, init));
        self.var_adj.insert(v, dv);
        dv
    }

    fn new_adjoint(&mut self, target: NodeId) -> VarId {
        let ty = self.p.node(target).ty;
        let var = self.b.f.add_var("d_", ty, VarKind::Local);
        self.b.f.vars[var.index()].of = Some(target);
        self.adj.insert(target, var);
        var
    }

    /// Zeros shaped like the primal array `n`: `[0.0; N]` for `[v; N]` and for literals,
    /// `vec![0.0; n]` for `vec![v; n]`, else `zeros_like(&n)`.
    fn zeros_of(&mut self, n: NodeId, depth: usize) -> NodeId {
        let node = self.p.node(n).clone();
        let span = node.span;
        match node.op {
            Op::Repeat(len) => {
                let inner = self.zeros_of(node.args[0], depth);
                self.b
                    .add_at(depth, Op::Repeat(len), vec![inner], node.ty, span)
            }
            Op::ArrayLit if !node.args.is_empty() => {
                let inner = self.zeros_of(node.args[0], depth);
                let count = node.args.len().to_string();
                let len = self.b.f.intern(count.parse().unwrap_or_default());
                self.b
                    .add_at(depth, Op::Repeat(len), vec![inner], node.ty, span)
            }
            Op::VecRepeat => {
                let inner = self.zeros_of(node.args[0], depth);
                let len = self.avail(node.args[1]);
                self.b
                    .add_at(depth, Op::VecRepeat, vec![inner, len], node.ty, span)
            }
            _ if !node.ty.is_array() => self.zero(node.ty, span),
            _ => {
                let source = self.avail(n);
                self.b.add_at(depth, Op::Zeros, vec![source], node.ty, span)
            }
        }
    }

    fn zero(&mut self, ty: Ty, span: Span) -> NodeId {
        match ty {
            Ty::Int => self.b.int(0, span),
            _ => self
                .b
                .float(0.0, ty.float_ty().unwrap_or(FloatTy::Lit), span),
        }
    }

    /// Reads a variable here.
    fn read(&mut self, var: VarId, span: Span) -> NodeId {
        let ty = self.b.f.var(var).ty;
        self.b.add(Op::ReadVar(var), Vec::new(), ty, span)
    }

    /// `array[path…]`
    fn index(&mut self, array: NodeId, path: &[NodeId], span: Span) -> NodeId {
        let mut node = array;
        for &i in path {
            let ty = self.b.f.node(node).ty.element();
            node = self.b.add(Op::Index, vec![node, i], ty, span);
        }
        node
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

    // ----- primal values in the reverse sweep -----

    fn cached(&self, n: NodeId) -> Option<NodeId> {
        self.cache.iter().rev().find_map(|c| c.get(&n).copied())
    }

    /// A primal value, made visible where the reverse sweep is now.
    fn avail(&mut self, n: NodeId) -> NodeId {
        let node = self.p.node(n).clone();
        if node.op.is_leaf() {
            return n;
        }
        if let Some(v) = self.cached(n) {
            return v;
        }
        // `&a` is a view (and `*a` a copy of one): taken again where it is needed, of the
        // array as it was.
        if matches!(node.op, Op::Ref | Op::Copy) {
            let array = self.avail(node.args[0]);
            return self.b.floating(node.op, vec![array], node.ty, node.span);
        }
        let home = self.homes.nodes[n.index()].clone();
        // An element or row of a parameter (which nothing writes) is read again where it is
        // needed, rather than kept from inside an arm (a `&Vec` row could not be declared
        // ahead of it).
        if home.loops.is_empty()
            && home.depth > 1
            && node.op == Op::Index
            && self.p.param_root(n).is_some()
        {
            let args: Vec<NodeId> = node.args.iter().map(|&a| self.avail(a)).collect();
            return self.b.floating(Op::Index, args, node.ty, node.span);
        }
        if home.loops.is_empty() {
            // An array the forward sweep changes later is copied where it was read.
            if node.ty.is_array()
                && matches!(node.op, Op::ReadVar(_))
                && home.bound
                && self.homes.overwritten(self.p, n)
            {
                if home.depth > 1 {
                    self.b.f.hoisted.insert(n);
                } else {
                    self.b.f.pinned.insert(n);
                }
                return n;
            }
            // Outside loops a value is computed once: use it where it is. A condition or a
            // node without a `let` is printed where used, so what it reads must be visible.
            let keep =
                home.bound && (!node.op.is_cheap() || self.homes.floats_overwritten(self.p, n));
            if !keep {
                // Printed inline: of its operands as they are available here (a row of a
                // parameter is read again rather than kept).
                let args: Vec<NodeId> = node.args.iter().map(|&a| self.avail(a)).collect();
                if args != node.args {
                    return self.b.floating(node.op, args, node.ty, node.span);
                }
            } else if home.depth > 1 {
                self.b.f.hoisted.insert(n);
            } else if node.op.is_cheap() {
                // A condition whose floating operands read what changes later: its value is
                // bound where it was computed.
                self.b.f.pinned.insert(n);
            }
            return n;
        }
        // Inside a loop: the value of this iteration is recomputed, or popped from a tape.
        let depth = home.depth.min(self.b.depth());
        let value = if self.taped(n) {
            self.pop(n, depth)
        } else {
            let args: Vec<NodeId> = node.args.iter().map(|&a| self.avail(a)).collect();
            if home.bound {
                self.b.add_at(depth, node.op, args, node.ty, node.span)
            } else {
                self.b.floating(node.op, args, node.ty, node.span)
            }
        };
        if let Some(cache) = self.cache.get_mut(depth.saturating_sub(1)) {
            cache.insert(n, value);
        }
        value
    }

    /// Whether the reverse sweep takes `n` from a tape rather than recomputing it: values
    /// that read what the loop overwrites, values merged after a branch, calls, and costly
    /// methods (a push and a pop are cheaper than an `exp`).
    ///
    /// A floating node (no `Let`, no place to push it) is never taped: where one reads what
    /// changes, the condition evaluating it is taped as a whole.
    fn taped(&self, n: NodeId) -> bool {
        let node = self.p.node(n);
        if !self.homes.nodes[n.index()].bound {
            return false;
        }
        match node.op {
            Op::Math(m) => m.is_costly(),
            Op::ReadVar(_) | Op::Index => self.homes.overwritten(self.p, n),
            Op::Phi(_) | Op::Call(_) | Op::ConstCall(_) => true,
            Op::LoopIndex(_) => self.counted.contains(&n),
            op if op.is_cheap() => self.homes.floats_overwritten(self.p, n),
            _ => false,
        }
    }

    /// The value of `n` in this iteration, popped first thing in the block where it lives.
    fn pop(&mut self, n: NodeId, depth: usize) -> NodeId {
        let hint = self.hint(n);
        let tape = if let Some(&tape) = self.tape_of.get(&n) {
            tape
        } else {
            let name = match (&hint, self.p.node(n).op) {
                (Some(name), _) => format!("tape_{name}"),
                (None, Op::Math(m)) => format!("tape_{}", m.name()),
                (None, _) => "tape".to_owned(),
            };
            let tape = self
                .b
                .f
                .add_var(name, self.p.node(n).ty, VarKind::Tape(None));
            self.tape_of.insert(n, tape);
            self.tapes.push((n, tape));
            tape
        };
        let node = self.p.node(n);
        let id = self.b.unbound(Op::Pop(tape), node.ty, node.span);
        self.b.f.nodes[id.index()].name = hint;
        self.b.push_front_at(depth, Stmt::Let(id));
        id
    }

    /// A name for what stands in for `n`: its own, or its variable's.
    fn hint(&self, n: NodeId) -> Option<String> {
        let node = self.p.node(n);
        match (&node.name, node.op) {
            (Some(name), _) => Some(name.clone()),
            (None, Op::ReadVar(v) | Op::Pop(v)) => Some(self.p.var(v).name.clone()),
            (None, Op::Index) => self.p.read_root(n).map(|v| self.p.var(v).name.clone()),
            _ => None,
        }
    }

    // ----- the forward sweep -----

    /// The primal's statements with a push after each taped value, and each tape declared
    /// before the top-level statement that fills it.
    fn forward_sweep(&mut self) -> Block {
        let mut pushes: HashMap<NodeId, VarId> = HashMap::new();
        let mut decls: HashMap<usize, Vec<VarId>> = HashMap::new();
        for &(n, tape) in &self.tapes.clone() {
            pushes.insert(n, tape);
            let home = self.homes.nodes[n.index()].clone();
            decls.entry(home.top).or_default().push(tape);
            self.size_tape(tape, &home);
        }
        let mut out = Block::default();
        for (top, stmt) in self.p.body.stmts.iter().enumerate() {
            for &tape in decls.get(&top).map(Vec::as_slice).unwrap_or_default() {
                let capacity =
                    self.capacity(&self.homes.nodes[self.tape_node(tape).index()].clone());
                out.stmts.push(Stmt::Decl(tape, capacity));
            }
            instrument(stmt, &pushes, &mut out);
        }
        out
    }

    fn tape_node(&self, tape: VarId) -> NodeId {
        self.tapes
            .iter()
            .find(|(_, t)| *t == tape)
            .map_or(NodeId(0), |(n, _)| *n)
    }

    /// Gives a tape a constant size when every loop around its value has constant bounds.
    fn size_tape(&mut self, tape: VarId, home: &Home) {
        let mut size: u64 = 1;
        for &l in &home.loops {
            match self.constant_trips(self.homes.loops[l]) {
                Some(trips) => size = size.saturating_mul(trips),
                None => return,
            }
        }
        // Stack tapes are for small loops; a large one would risk the stack.
        if size <= 4096 {
            self.b.f.vars[tape.index()].kind = VarKind::Tape(Some(size));
        }
    }

    fn constant_trips(&self, l: &Loop) -> Option<u64> {
        let LoopKind::Range {
            start,
            end,
            inclusive,
            adapters,
            ..
        } = &l.kind
        else {
            return None;
        };
        let (start, end) = (self.p.int_lit(*start)?, self.p.int_lit(*end)?);
        // Literal bounds can be anything up to `i128::MAX`: saturating, never overflowing.
        let mut trips = end
            .saturating_sub(start)
            .saturating_add(i128::from(*inclusive));
        for adapter in adapters {
            if let Adapter::StepBy(k) = adapter {
                let k = self.p.int_lit(*k)?.max(1);
                trips = trips.max(0).saturating_add(k - 1) / k;
            }
        }
        u64::try_from(trips.max(0)).ok()
    }

    /// What a heap tape reserves: the product of the lengths of the ranges around its value
    /// that are known before the outermost one starts (an upper bound when a loop stops
    /// early or starts later, as `i + 1..d` does), at most [`MAX_RESERVE`] values.
    fn capacity(&mut self, home: &Home) -> Option<NodeId> {
        let &outer = home.loops.first()?;
        if self.homes.loop_depths[outer] != 1 {
            return None;
        }
        let top = home.top;
        let mut known: i128 = 1;
        let mut sizes = Vec::new();
        for &l in &home.loops {
            let LoopKind::Range {
                start,
                end,
                inclusive,
                ..
            } = &self.homes.loops[l].kind
            else {
                continue;
            };
            let (start, end, inclusive) = (*start, *end, *inclusive);
            let extra = i128::from(inclusive);
            match (self.p.int_lit(start), self.p.int_lit(end)) {
                (Some(a), Some(b)) => {
                    known = known.saturating_mul(b.saturating_sub(a).saturating_add(extra).max(0));
                }
                (Some(0), None) if self.ready_before(end, top, 8) => {
                    sizes.push((end, None, inclusive));
                }
                _ if self.ready_before(end, top, 8) => {
                    let start = self.ready_before(start, top, 8).then_some(start);
                    sizes.push((end, start, inclusive));
                }
                _ => {}
            }
        }
        let span = Span::call_site();
        // One loop reserves its length, as written; a product is capped.
        let single = sizes.len() == 1 && known == 1;
        let mut size = None;
        for (end, start, inclusive) in sizes {
            // Bounds of any integer type, as a `usize` (0 where negative); the tape takes a
            // single bound as it is.
            let end = if single && start.is_none() && !inclusive {
                end
            } else {
                self.as_len(end)
            };
            let mut len = match start {
                // A path, so that literal bounds are not of an ambiguous integer type.
                Some(start) => {
                    let start = self.as_len(start);
                    self.int_call("usize::saturating_sub", vec![end, start])
                }
                None => end,
            };
            if inclusive {
                let one = self.b.int(1, span);
                len = self.int_call("usize::saturating_add", vec![len, one]);
            }
            size = Some(match size {
                Some(size) => self.int_call("usize::saturating_mul", vec![size, len]),
                None => len,
            });
        }
        let known_node = self.b.int(known.clamp(0, MAX_RESERVE), span);
        Some(match size {
            None => known_node,
            Some(size) if single => size,
            Some(size) => {
                let size = if known == 1 {
                    size
                } else {
                    self.int_call("usize::saturating_mul", vec![size, known_node])
                };
                let max = self.b.int(MAX_RESERVE, span);
                self.int_call("usize::min", vec![size, max])
            }
        })
    }

    /// `path(args)` on integers.
    fn int_call(&mut self, path: &str, args: Vec<NodeId>) -> NodeId {
        let sym = self.b.f.intern(path.parse().unwrap_or_default());
        self.b
            .floating(Op::ConstCall(sym), args, Ty::Int, Span::call_site())
    }

    /// A loop bound of whatever integer type, as a `usize`: `usize::try_from(n).unwrap_or(0)`.
    fn as_len(&mut self, n: NodeId) -> NodeId {
        if self.p.int_lit(n).is_some() {
            return n;
        }
        let converted = self.int_call("<usize as ::core::convert::TryFrom<_>>::try_from", vec![n]);
        let zero = self.b.int(0, Span::call_site());
        let unwrap = self.b.f.intern(quote::quote!(unwrap_or));
        self.b.floating(
            Op::Method(unwrap),
            vec![converted, zero],
            Ty::Int,
            Span::call_site(),
        )
    }

    /// Whether `n` can be evaluated ahead of the top-level statement `top`: a leaf, a value
    /// bound at the top level before it, or integer arithmetic on those.
    fn ready_before(&self, n: NodeId, top: usize, fuel: u32) -> bool {
        let node = self.p.node(n);
        if node.op.is_leaf() {
            return true;
        }
        let home = &self.homes.nodes[n.index()];
        if home.bound {
            return home.depth == 1 && home.loops.is_empty() && home.top < top;
        }
        fuel > 0
            && matches!(node.op, Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Len)
            && node
                .args
                .iter()
                .all(|&a| self.ready_before(a, top, fuel - 1))
    }
}

/// The most values a heap tape reserves ahead (32 MiB of `f64`); beyond, it grows.
const MAX_RESERVE: i128 = 1 << 22;

/// A statement of the primal with pushes after the taped values it defines.
fn instrument(stmt: &Stmt, pushes: &HashMap<NodeId, VarId>, out: &mut Block) {
    let mut copy = stmt.clone();
    let rewrite = |block: &Block| {
        let mut new = Block::default();
        for s in &block.stmts {
            instrument(s, pushes, &mut new);
        }
        new
    };
    match &mut copy {
        Stmt::Branch(branch) => {
            for arm in &mut branch.arms {
                arm.block = rewrite(&arm.block);
            }
        }
        Stmt::Loop(l) => {
            if let LoopKind::While { header, .. } = &mut l.kind {
                *header = rewrite(header);
            }
            l.body = rewrite(&l.body);
            // A taped loop index is pushed as each iteration starts.
            if let Some(index) = l.index
                && let Some(&tape) = pushes.get(&index)
            {
                l.body.stmts.insert(0, Stmt::Push(tape, index));
            }
        }
        _ => {}
    }
    out.stmts.push(copy);
    let defined: Vec<NodeId> = match stmt {
        Stmt::Let(n) => vec![*n],
        Stmt::Branch(branch) => branch.outputs.clone(),
        _ => Vec::new(),
    };
    for n in defined {
        if let Some(&tape) = pushes.get(&n) {
            out.stmts.push(Stmt::Push(tape, n));
        }
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
        self.rev
            .p
            .node(self.n)
            .ty
            .float_ty()
            .unwrap_or(FloatTy::F64)
    }
    fn span(&self) -> Span {
        self.rev.p.node(self.n).span
    }
}
