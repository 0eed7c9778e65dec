//! Activity analysis: which values carry a derivative.
//!
//! A value is *varied* when it depends differentiably on an active parameter, and *useful*
//! when the result depends differentiably on it. Only values that are both get adjoints or
//! tangents: everything else — integer arithmetic, conditions, constants, and dead code such
//! as an unused `acos(2.0)` — is never differentiated, so it cannot leak NaN into a gradient.
//!
//! Variables (loop-carried scalars, arrays) are varied at a point when a varied value may have
//! been written into them before it, and useful at a point when a useful read may come after
//! it. Both are dataflow facts over [`dataflow`]'s solver, so a variable updated at the bottom
//! of a loop body is varied (or useful) again at its top: the back edge is followed to a
//! fixpoint. A write that replaces the whole variable (`v = …`, a declaration) ends the facts
//! of the writes before it: `s = 0.0` after a varied write leaves `s` constant, and a loop
//! accumulator overwritten after the loop (`m = x`) is not useful inside it. Without that,
//! its dead updates got adjoints of 0 — and 0 · ∞ = NaN where a dead term was infinite.
//!
//! Forward mode also asks which tangents may be *unbounded*: infinite where the value is
//! finite, because they come from a derivative that is (`√x` at 0, see
//! [`rules::singular`]). The same forward problem answers it, seeded at those ops instead of
//! at the parameters.

use super::ir::dataflow::{self, BitSet, Problem};
use super::ir::visit::Bound;
use super::ir::{AssignOp, Branch, Function, NodeId, Stmt, VarId};
use super::rules;

/// Per-node and per-variable activity of a function.
pub struct Activity {
    varied: Vec<bool>,
    useful: Vec<bool>,
    var_varied: BitSet,
}

impl Activity {
    /// Analyses `f` for the parameters flagged in `active_params` (by parameter index).
    pub fn analyze(f: &Function, active_params: &[bool]) -> Activity {
        let mut varied = vec![false; f.nodes.len()];
        for (param, &on) in f.params.iter().zip(active_params) {
            varied[param.node.index()] = on && f.node(param.node).ty.float_shaped();
        }
        let var_varied = Spread::run(f, &mut varied, &|_| false);
        let mut useful = vec![false; f.nodes.len()];
        if let Some(ret) = f.ret {
            useful[ret.index()] = true;
        }
        Reach::run(f, &mut useful, &|_, _| false);
        Activity {
            varied,
            useful,
            var_varied,
        }
    }

    /// `true` when `id` depends on an active parameter: forward mode gives it a tangent.
    pub fn varied(&self, id: NodeId) -> bool {
        self.varied.get(id.index()).copied().unwrap_or(false)
    }

    /// `true` when a varied value is written into the variable somewhere.
    pub fn var_varied(&self, v: VarId) -> bool {
        self.var_varied.contains(v.index())
    }

    /// Per node: whether its tangent may be infinite where its value is finite — it is
    /// downstream of a varied operand's [`rules::unbounded`] derivative.
    pub fn unbounded(&self, f: &Function) -> Vec<bool> {
        let mut node = vec![false; f.nodes.len()];
        let seed = |id: NodeId| {
            f.node(id).args.iter().enumerate().any(|(i, &arg)| {
                self.varied(arg) && rules::passes_derivative(f, id, i) && rules::unbounded(f, id, i)
            })
        };
        Spread::run(f, &mut node, &seed);
        node
    }

    /// Per node: whether its adjoint may be infinite where the values are finite — the
    /// mirror of [`Activity::unbounded`]: it is upstream of an active node's
    /// [`rules::unbounded`] derivative, so reverse mode multiplies it by a partial that may
    /// be a kink's exact 0 (`√|x|` at 0: `0 · ∞`, which forward mode already makes 0).
    pub fn unbounded_adjoint(&self, f: &Function) -> Vec<bool> {
        let mut node = vec![false; f.nodes.len()];
        let seed = |id: NodeId, i: usize| {
            let arg = f.node(id).args[i];
            self.active(id)
                && self.varied(arg)
                && rules::passes_derivative(f, id, i)
                && rules::unbounded(f, id, i)
        };
        Reach::run(f, &mut node, &seed);
        node
    }

    /// `true` when `id` carries a derivative.
    pub fn active(&self, id: NodeId) -> bool {
        self.varied.get(id.index()).copied().unwrap_or(false)
            && self.useful.get(id.index()).copied().unwrap_or(false)
    }
}

/// Flags spreading forward along derivatives: through operands, and through the variables
/// they are written into (the fact: the variables that may hold a flagged value here).
struct Spread<'a> {
    f: &'a Function,
    bound: Bound,
    node: &'a mut [bool],
    seed: &'a dyn Fn(NodeId) -> bool,
    /// Every variable flagged anywhere.
    vars: BitSet,
}

impl Spread<'_> {
    /// Flags `node` from the function's entry; returns the variables flagged anywhere.
    fn run(f: &Function, node: &mut [bool], seed: &dyn Fn(NodeId) -> bool) -> BitSet {
        let mut spread = Spread {
            f,
            bound: Bound::of(f),
            node,
            seed,
            vars: BitSet::with_capacity(f.vars.len()),
        };
        dataflow::forward(
            &mut spread,
            &f.body,
            &mut BitSet::with_capacity(f.vars.len()),
        );
        spread.vars
    }

    /// Flags `id` (evaluated here, with `fact`) if an operand or a variable it reads is.
    fn flag(&mut self, id: NodeId, fact: &BitSet) {
        let f = self.f;
        // Floating operands are evaluated here too, deepest first.
        for &a in self.bound.evaluated(f, id).iter().skip(1).rev() {
            self.flag_one(a, fact);
        }
        self.flag_one(id, fact);
    }

    fn flag_one(&mut self, id: NodeId, fact: &BitSet) {
        let f = self.f;
        let node = f.node(id);
        let flagged = node.ty.float_shaped()
            && (node
                .args
                .iter()
                .enumerate()
                .any(|(i, &arg)| self.node[arg.index()] && rules::passes_derivative(f, id, i))
                || f.reads_var(id).is_some_and(|v| fact.contains(v.index()))
                || (self.seed)(id));
        self.node[id.index()] |= flagged;
    }

    /// A write of `value` into `v`; `whole` when it replaces all of `v` (`=`, a declaration),
    /// so that `v` holds a flagged value after it only if `value` is flagged.
    fn write(&mut self, v: VarId, value: NodeId, whole: bool, fact: &mut BitSet) {
        if self.node[value.index()] && self.f.var(v).ty.float_shaped() {
            fact.insert(v.index());
            self.vars.insert(v.index());
        } else if whole {
            fact.remove(v.index());
        }
    }
}

impl Problem for Spread<'_> {
    type Fact = BitSet;

    fn join(&mut self, into: &mut BitSet, other: &BitSet) {
        into.union(other);
    }

    fn stmt(&mut self, stmt: &Stmt, fact: &mut BitSet) {
        for n in self.bound.floating_operands(self.f, stmt).into_iter().rev() {
            self.flag_one(n, fact);
        }
        match stmt {
            Stmt::Let(id) => self.flag(*id, fact),
            Stmt::Decl(v, Some(x)) | Stmt::Assign(v, AssignOp::Set, x) => {
                self.write(*v, *x, true, fact);
            }
            Stmt::Decl(v, None) => {
                fact.remove(v.index());
            }
            Stmt::Assign(v, AssignOp::Add, x) | Stmt::Push(v, x) => {
                self.write(*v, *x, false, fact);
            }
            Stmt::Store(store) => self.write(store.var, store.value, false, fact),
            _ => {}
        }
    }

    fn yields(&mut self, branch: &Branch, arm: usize, _: &mut BitSet) {
        for (k, &out) in branch.outputs.iter().enumerate() {
            let flagged =
                self.f.node(out).ty.float_shaped() && self.node[branch.arms[arm].yields[k].index()];
            self.node[out.index()] |= flagged;
        }
    }
}

/// Flags spreading backward along derivatives — usefulness from the result, unbounded
/// adjoints from their seeds: from a flagged node to its operands, from a flagged read to the
/// values written into the variable before it (the fact: the variables a flagged read may
/// follow). `seed(node, i)` flags operand `i` of `node` whatever `node`'s own flag.
struct Reach<'a> {
    f: &'a Function,
    flag: &'a mut [bool],
    seed: &'a dyn Fn(NodeId, usize) -> bool,
}

impl Reach<'_> {
    fn run(f: &Function, flag: &mut [bool], seed: &dyn Fn(NodeId, usize) -> bool) {
        let mut problem = Reach { f, flag, seed };
        dataflow::backward(
            &mut problem,
            &f.body,
            &mut BitSet::with_capacity(f.vars.len()),
        );
    }
}

impl Problem for Reach<'_> {
    type Fact = BitSet;

    fn join(&mut self, into: &mut BitSet, other: &BitSet) {
        into.union(other);
    }

    fn stmt(&mut self, stmt: &Stmt, fact: &mut BitSet) {
        let f = self.f;
        match stmt {
            Stmt::Let(id) => {
                let flagged = self.flag[id.index()];
                for (i, &arg) in f.node(*id).args.iter().enumerate() {
                    if (flagged && rules::passes_derivative(f, *id, i)) || (self.seed)(*id, i) {
                        self.flag[arg.index()] = true;
                    }
                }
                if flagged && let Some(v) = f.reads_var(*id) {
                    fact.insert(v.index());
                }
            }
            // A write that replaces all of `v` ends what its later reads need of it before.
            Stmt::Decl(v, Some(x)) | Stmt::Assign(v, AssignOp::Set, x) => {
                let needed = fact.remove(v.index());
                self.flag[x.index()] |= needed;
            }
            Stmt::Decl(v, None) => {
                fact.remove(v.index());
            }
            Stmt::Assign(v, AssignOp::Add, x) | Stmt::Push(v, x) if fact.contains(v.index()) => {
                self.flag[x.index()] = true;
            }
            Stmt::Store(store) if fact.contains(store.var.index()) => {
                self.flag[store.value.index()] = true;
            }
            _ => {}
        }
    }

    fn yields(&mut self, branch: &Branch, arm: usize, _: &mut BitSet) {
        for (k, &out) in branch.outputs.iter().enumerate() {
            if self.flag[out.index()] {
                self.flag[branch.arms[arm].yields[k].index()] = true;
            }
        }
    }
}
