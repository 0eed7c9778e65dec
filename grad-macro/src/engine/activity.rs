//! Activity analysis: which values carry a derivative.
//!
//! A value is *varied* when it depends differentiably on an active parameter, and *useful*
//! when the result depends differentiably on it. Only values that are both get adjoints or
//! tangents: everything else — integer arithmetic, conditions, constants, and dead code such
//! as an unused `acos(2.0)` — is never differentiated, so it cannot leak NaN into a gradient.
//!
//! Variables (loop-carried scalars, arrays) are varied when a varied value is written into
//! them, and useful when a useful value is read out of them. A loop reads at its top what it
//! writes at its bottom, so both passes repeat until nothing changes.
//!
//! Forward mode also asks which tangents may be *unbounded*: infinite where the value is
//! finite, because they come from a derivative that is (`√x` at 0, see
//! [`rules::singular`]). The same forward pass answers it, seeded at those ops instead of at
//! the parameters.

use super::ir::{Block, Function, NodeId, Op, Stmt};
use super::rules;

/// Per-node and per-variable activity of a function.
pub struct Activity {
    varied: Vec<bool>,
    useful: Vec<bool>,
    var_varied: Vec<bool>,
    var_useful: Vec<bool>,
}

impl Activity {
    /// Analyses `f` for the parameters flagged in `active_params` (by parameter index).
    pub fn analyze(f: &Function, active_params: &[bool]) -> Activity {
        let mut a = Activity {
            varied: vec![false; f.nodes.len()],
            useful: vec![false; f.nodes.len()],
            var_varied: vec![false; f.vars.len()],
            var_useful: vec![false; f.vars.len()],
        };
        for (param, &on) in f.params.iter().zip(active_params) {
            a.varied[param.node.index()] = on && f.node(param.node).ty.float_shaped();
        }
        let mut flow = Flow {
            node: &mut a.varied,
            var: &mut a.var_varied,
        };
        while flow.forward(f, &f.body, &|_| false) {}
        if let Some(ret) = f.ret {
            a.useful[ret.index()] = true;
        }
        while a.backward(f, &f.body) {}
        a
    }

    /// `true` when `id` depends on an active parameter: forward mode gives it a tangent.
    pub fn varied(&self, id: NodeId) -> bool {
        self.varied.get(id.index()).copied().unwrap_or(false)
    }

    /// `true` when a varied value is written into the variable.
    pub fn var_varied(&self, v: super::ir::VarId) -> bool {
        self.var_varied.get(v.index()).copied().unwrap_or(false)
    }

    /// Per node: whether its tangent may be infinite where its value is finite — it is
    /// downstream of a varied operand's [`rules::unbounded`] derivative.
    pub fn unbounded(&self, f: &Function) -> Vec<bool> {
        let mut node = vec![false; f.nodes.len()];
        let mut var = vec![false; f.vars.len()];
        let seed = |id: NodeId| {
            f.node(id).args.iter().enumerate().any(|(i, &arg)| {
                self.varied(arg) && rules::passes_derivative(f, id, i) && rules::unbounded(f, id, i)
            })
        };
        let mut flow = Flow {
            node: &mut node,
            var: &mut var,
        };
        while flow.forward(f, &f.body, &seed) {}
        node
    }

    /// `true` when `id` carries a derivative.
    pub fn active(&self, id: NodeId) -> bool {
        self.varied.get(id.index()).copied().unwrap_or(false)
            && self.useful.get(id.index()).copied().unwrap_or(false)
    }

    /// One backward pass; `true` if anything changed.
    fn backward(&mut self, f: &Function, block: &Block) -> bool {
        let mut changed = false;
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Let(id) => {
                    if !self.useful[id.index()] {
                        continue;
                    }
                    let node = f.node(*id);
                    for (i, &arg) in node.args.iter().enumerate() {
                        if rules::passes_derivative(f, *id, i) {
                            changed |= set(&mut self.useful[arg.index()], true);
                        }
                    }
                    if let Op::ReadVar(v) | Op::Pop(v) = node.op {
                        changed |= set(&mut self.var_useful[v.index()], true);
                    }
                }
                Stmt::Branch(branch) => {
                    for (k, &out) in branch.outputs.iter().enumerate() {
                        if self.useful[out.index()] {
                            for arm in &branch.arms {
                                changed |= set(&mut self.useful[arm.yields[k].index()], true);
                            }
                        }
                    }
                    for arm in &branch.arms {
                        changed |= self.backward(f, &arm.block);
                    }
                }
                Stmt::Decl(v, Some(x)) | Stmt::Assign(v, _, x) | Stmt::Push(v, x) => {
                    if self.var_useful[v.index()] {
                        changed |= set(&mut self.useful[x.index()], true);
                    }
                }
                Stmt::Store(store) => {
                    if self.var_useful[store.var.index()] {
                        changed |= set(&mut self.useful[store.value.index()], true);
                    }
                }
                Stmt::Loop(_) => {
                    for block in stmt.blocks().into_iter().rev() {
                        changed |= self.backward(f, block);
                    }
                }
                Stmt::Decl(_, None) | Stmt::Pullback(_) | Stmt::Effect(_) | Stmt::Rewind(_) => {}
            }
        }
        changed
    }
}

/// Flags spreading forward along derivatives: through operands, and through the variables
/// they are written into.
struct Flow<'a> {
    node: &'a mut [bool],
    var: &'a mut [bool],
}

impl Flow<'_> {
    /// One forward pass: a value is flagged when `seed` says so or it depends differentiably
    /// on a flagged value; `true` if anything changed.
    fn forward(&mut self, f: &Function, block: &Block, seed: &dyn Fn(NodeId) -> bool) -> bool {
        let mut changed = false;
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(id) => {
                    let node = f.node(*id);
                    let flagged = node.ty.float_shaped()
                        && (node.args.iter().enumerate().any(|(i, &arg)| {
                            self.node[arg.index()] && rules::passes_derivative(f, *id, i)
                        }) || matches!(node.op, Op::ReadVar(v) | Op::Pop(v) if self.var[v.index()])
                            || seed(*id));
                    changed |= set(&mut self.node[id.index()], flagged);
                }
                Stmt::Branch(branch) => {
                    for arm in &branch.arms {
                        changed |= self.forward(f, &arm.block, seed);
                    }
                    for (k, &out) in branch.outputs.iter().enumerate() {
                        let flagged = f.node(out).ty.float_shaped()
                            && branch
                                .arms
                                .iter()
                                .any(|arm| self.node[arm.yields[k].index()]);
                        changed |= set(&mut self.node[out.index()], flagged);
                    }
                }
                Stmt::Decl(v, Some(x)) | Stmt::Assign(v, _, x) | Stmt::Push(v, x) => {
                    let flagged = self.node[x.index()] && f.var(*v).ty.float_shaped();
                    changed |= set(&mut self.var[v.index()], flagged);
                }
                Stmt::Store(store) => {
                    let flagged = self.node[store.value.index()];
                    changed |= set(&mut self.var[store.var.index()], flagged);
                }
                Stmt::Loop(_) => {
                    for block in stmt.blocks() {
                        changed |= self.forward(f, block, seed);
                    }
                }
                Stmt::Decl(_, None) | Stmt::Pullback(_) | Stmt::Effect(_) | Stmt::Rewind(_) => {}
            }
        }
        changed
    }
}

/// Sets a flag that only ever turns on; `true` if it did.
fn set(flag: &mut bool, value: bool) -> bool {
    let changed = value && !*flag;
    *flag |= value;
    changed
}
