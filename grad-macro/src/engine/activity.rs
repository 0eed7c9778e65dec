//! Activity analysis: which values carry a derivative.
//!
//! A value is *varied* when it depends differentiably on an active parameter, and *useful*
//! when the result depends differentiably on it. Only values that are both get adjoints or
//! tangents: everything else — integer arithmetic, conditions, constants, and dead code such
//! as an unused `acos(2.0)` — is never differentiated, so it cannot leak NaN into a gradient.

use super::ir::{Block, Function, NodeId, Stmt};
use super::rules;

/// Per-node activity of a function.
pub struct Activity {
    varied: Vec<bool>,
    useful: Vec<bool>,
}

impl Activity {
    /// Analyses `f` for the parameters flagged in `active_params` (by parameter index).
    pub fn analyze(f: &Function, active_params: &[bool]) -> Activity {
        let mut a = Activity {
            varied: vec![false; f.nodes.len()],
            useful: vec![false; f.nodes.len()],
        };
        for (param, &on) in f.params.iter().zip(active_params) {
            a.varied[param.node.index()] = on && f.node(param.node).ty.is_float();
        }
        a.forward(f, &f.body);
        if let Some(ret) = f.ret {
            a.useful[ret.index()] = true;
        }
        a.backward(f, &f.body);
        a
    }

    /// `true` when `id` carries a derivative.
    pub fn active(&self, id: NodeId) -> bool {
        self.varied.get(id.index()).copied().unwrap_or(false)
            && self.useful.get(id.index()).copied().unwrap_or(false)
    }

    fn forward(&mut self, f: &Function, block: &Block) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(id) => {
                    let node = f.node(*id);
                    self.varied[id.index()] = node.ty.is_float()
                        && node.args.iter().enumerate().any(|(i, &arg)| {
                            self.varied[arg.index()] && rules::passes_derivative(f, *id, i)
                        });
                }
                Stmt::Branch(branch) => {
                    for arm in &branch.arms {
                        self.forward(f, &arm.block);
                    }
                    for (k, &out) in branch.outputs.iter().enumerate() {
                        self.varied[out.index()] = f.node(out).ty.is_float()
                            && branch
                                .arms
                                .iter()
                                .any(|arm| self.varied[arm.yields[k].index()]);
                    }
                }
                Stmt::Decl(..) | Stmt::Assign(..) | Stmt::Pullback(_) | Stmt::Effect(_) => {}
            }
        }
    }

    fn backward(&mut self, f: &Function, block: &Block) {
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Let(id) => {
                    if !self.useful[id.index()] {
                        continue;
                    }
                    for (i, &arg) in f.node(*id).args.iter().enumerate() {
                        if rules::passes_derivative(f, *id, i) {
                            self.useful[arg.index()] = true;
                        }
                    }
                }
                Stmt::Branch(branch) => {
                    for (k, &out) in branch.outputs.iter().enumerate() {
                        if self.useful[out.index()] {
                            for arm in &branch.arms {
                                self.useful[arm.yields[k].index()] = true;
                            }
                        }
                    }
                    for arm in &branch.arms {
                        self.backward(f, &arm.block);
                    }
                }
                Stmt::Decl(..) | Stmt::Assign(..) | Stmt::Pullback(_) | Stmt::Effect(_) => {}
            }
        }
    }
}
