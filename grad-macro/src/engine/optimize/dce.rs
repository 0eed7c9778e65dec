//! Dead-code elimination: drops what the results do not need.
//!
//! Roots are the returned value, the given variables (gradients), every write into a `&mut`
//! buffer, every pullback call and every statement macro. A node is live if a root reaches it;
//! a variable is live if a live node reads it, and then everything assigned to it is live; a
//! phi is live if a live node reads it, and then its branch's selector and the values its
//! arms yield are live. Dead lets, dead assignments, dead branch outputs and branches left
//! empty are removed.

use crate::engine::ir::{Block, Function, NodeId, Op, Selector, Stmt, VarId, VarKind};
use std::collections::{HashMap, HashSet};

/// Removes what cannot reach `f.ret` or the variables in `roots`.
pub fn dce(f: &mut Function, roots: &[VarId]) {
    let mut live = Live {
        nodes: HashSet::new(),
        vars: HashSet::new(),
        assigned: HashMap::new(),
        phis: HashMap::new(),
    };
    index(&f.body, &mut live);
    let mut work: Vec<Item> = f.ret.map(Item::Node).into_iter().collect();
    work.extend(roots.iter().copied().map(Item::Var));
    for (i, var) in f.vars.iter().enumerate() {
        if var.kind == VarKind::Buffer {
            work.push(Item::Var(VarId(u32::try_from(i).unwrap_or(u32::MAX))));
        }
    }
    always_live(&f.body, &mut work);
    loop {
        live.mark(f, work);
        // A branch that still does something needs its selector.
        let mut more = Vec::new();
        selectors(&f.body, &live, &mut more);
        more.retain(|n| !live.nodes.contains(n));
        if more.is_empty() {
            break;
        }
        work = more.into_iter().map(Item::Node).collect();
    }
    sweep(&mut f.body, &live);
    f.hoisted.retain(|n| live.nodes.contains(n));
}

enum Item {
    Node(NodeId),
    Var(VarId),
}

struct Live {
    nodes: HashSet<NodeId>,
    vars: HashSet<VarId>,
    /// Every value written into each variable.
    assigned: HashMap<VarId, Vec<NodeId>>,
    /// Each phi's selector and the values its arms yield.
    phis: HashMap<NodeId, (NodeId, Vec<NodeId>)>,
}

impl Live {
    fn mark(&mut self, f: &Function, mut work: Vec<Item>) {
        while let Some(item) = work.pop() {
            match item {
                Item::Node(n) => {
                    if !self.nodes.insert(n) {
                        continue;
                    }
                    let node = f.node(n);
                    work.extend(node.args.iter().copied().map(Item::Node));
                    if let Op::ReadVar(v) = node.op {
                        work.push(Item::Var(v));
                    }
                    if let Some((selector, yields)) = self.phis.get(&n) {
                        work.push(Item::Node(*selector));
                        work.extend(yields.iter().copied().map(Item::Node));
                    }
                }
                Item::Var(v) => {
                    if self.vars.insert(v)
                        && let Some(values) = self.assigned.get(&v)
                    {
                        work.extend(values.iter().copied().map(Item::Node));
                    }
                }
            }
        }
    }
}

fn selector_of(selector: &Selector) -> NodeId {
    match selector {
        Selector::If(c) | Selector::Match(c, _) => *c,
    }
}

fn index(block: &Block, live: &mut Live) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Decl(v, Some(x)) | Stmt::Assign(v, _, x) => {
                live.assigned.entry(*v).or_default().push(*x);
            }
            Stmt::Branch(branch) => {
                for (k, &out) in branch.outputs.iter().enumerate() {
                    let yields = branch.arms.iter().map(|a| a.yields[k]).collect();
                    live.phis
                        .insert(out, (selector_of(&branch.selector), yields));
                }
                for arm in &branch.arms {
                    index(&arm.block, live);
                }
            }
            Stmt::Let(_) | Stmt::Decl(_, None) | Stmt::Pullback(_) | Stmt::Effect(_) => {}
        }
    }
}

fn always_live(block: &Block, work: &mut Vec<Item>) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Pullback(call) => {
                work.extend(call.args.iter().copied().map(Item::Node));
                work.push(Item::Node(call.d_out));
            }
            Stmt::Effect(effect) => {
                work.extend(effect.scope.iter().map(|(_, n)| Item::Node(*n)));
            }
            Stmt::Branch(branch) => {
                for arm in &branch.arms {
                    always_live(&arm.block, work);
                }
            }
            Stmt::Let(_) | Stmt::Decl(..) | Stmt::Assign(..) => {}
        }
    }
}

/// Whether a statement survives the sweep.
fn keeps(stmt: &Stmt, live: &Live) -> bool {
    match stmt {
        Stmt::Let(n) => live.nodes.contains(n),
        Stmt::Decl(v, _) | Stmt::Assign(v, _, _) => live.vars.contains(v),
        Stmt::Pullback(_) | Stmt::Effect(_) => true,
        Stmt::Branch(branch) => {
            branch.outputs.iter().any(|o| live.nodes.contains(o))
                || branch
                    .arms
                    .iter()
                    .any(|a| a.block.stmts.iter().any(|s| keeps(s, live)))
        }
    }
}

fn selectors(block: &Block, live: &Live, out: &mut Vec<NodeId>) {
    for stmt in &block.stmts {
        if let Stmt::Branch(branch) = stmt
            && keeps(stmt, live)
        {
            out.push(selector_of(&branch.selector));
            for arm in &branch.arms {
                selectors(&arm.block, live, out);
            }
        }
    }
}

fn sweep(block: &mut Block, live: &Live) {
    block.stmts.retain(|s| keeps(s, live));
    for stmt in &mut block.stmts {
        if let Stmt::Branch(branch) = stmt {
            let keep: Vec<bool> = branch
                .outputs
                .iter()
                .map(|o| live.nodes.contains(o))
                .collect();
            let mut k = 0;
            branch.outputs.retain(|_| {
                k += 1;
                keep[k - 1]
            });
            for arm in &mut branch.arms {
                let mut k = 0;
                arm.yields.retain(|_| {
                    k += 1;
                    keep[k - 1]
                });
                sweep(&mut arm.block, live);
            }
        }
    }
}
