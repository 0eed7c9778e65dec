//! Dead-code elimination: drops what the results do not need.
//!
//! Roots are the returned value, the given nodes (a tangent) and variables (gradients), every write into a `&mut`
//! buffer, every pullback call and every statement macro. A node is live if a root reaches it;
//! a variable is live if a live node reads it, and then everything written into it is live; a
//! phi is live if a live node reads it, and then its branch's selector and the values its
//! arms yield are live. A branch or loop that still does something keeps what decides it
//! (selector, bounds, exit condition). Dead lets, dead writes, dead branch outputs and
//! branches or loops left empty are removed.

use crate::engine::ir::visit;
use crate::engine::ir::{Block, BufferArg, Function, LoopKind, NodeId, Op, Stmt, VarId, VarKind};
use std::collections::{HashMap, HashSet};

/// Removes what cannot reach `f.ret`, the nodes in `nodes` or the variables in `vars`.
pub fn dce(f: &mut Function, nodes: &[NodeId], vars: &[VarId]) {
    let mut live = Live {
        nodes: HashSet::new(),
        vars: HashSet::new(),
        written: HashMap::new(),
        phis: HashMap::new(),
    };
    index(&f.body, &mut live);
    let mut work: Vec<Item> = f
        .ret
        .into_iter()
        .chain(nodes.iter().copied())
        .map(Item::Node)
        .collect();
    work.extend(vars.iter().copied().map(Item::Var));
    for (i, var) in f.vars.iter().enumerate() {
        if var.kind == VarKind::Buffer {
            work.push(Item::Var(VarId(u32::try_from(i).unwrap_or(u32::MAX))));
        }
    }
    always_live(&f.body, &mut work);
    loop {
        live.mark(f, work);
        // A branch or loop that still does something needs what decides it.
        let mut more = Vec::new();
        structure(&f.body, &live, &mut more);
        more.retain(|n| !live.nodes.contains(n));
        if more.is_empty() {
            break;
        }
        work = more.into_iter().map(Item::Node).collect();
    }
    let mut body = std::mem::take(&mut f.body);
    sweep(&mut body, &live, f);
    f.body = body;
    f.hoisted.retain(|n| live.nodes.contains(n));
    f.pinned.retain(|n| live.nodes.contains(n));
}

enum Item {
    Node(NodeId),
    Var(VarId),
}

struct Live {
    nodes: HashSet<NodeId>,
    vars: HashSet<VarId>,
    /// Every node a write into each variable reads (values, indices).
    written: HashMap<VarId, Vec<NodeId>>,
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
                    if let Op::ReadVar(v) | Op::Pop(v) = node.op {
                        work.push(Item::Var(v));
                    }
                    if let Some((selector, yields)) = self.phis.get(&n) {
                        work.push(Item::Node(*selector));
                        work.extend(yields.iter().copied().map(Item::Node));
                    }
                }
                Item::Var(v) => {
                    if self.vars.insert(v)
                        && let Some(values) = self.written.get(&v)
                    {
                        work.extend(values.iter().copied().map(Item::Node));
                    }
                }
            }
        }
    }
}

fn index(block: &Block, live: &mut Live) {
    block.walk(&mut |stmt| match stmt {
        Stmt::Branch(branch) => {
            for (k, &out) in branch.outputs.iter().enumerate() {
                let yields = branch.arms.iter().map(|a| a.yields[k]).collect();
                live.phis
                    .insert(out, (visit::selector(&branch.selector), yields));
            }
        }
        // A pullback is always live (and so are its operands).
        Stmt::Pullback(_) => {}
        _ => {
            for v in stmt.writes() {
                live.written.entry(v).or_default().extend(stmt.operands());
            }
        }
    });
}

fn always_live(block: &Block, work: &mut Vec<Item>) {
    block.walk(&mut |stmt| {
        if let Stmt::Pullback(_) | Stmt::Effect(_) = stmt {
            work.extend(stmt.operands().into_iter().map(Item::Node));
        }
    });
}

/// Whether a statement survives the sweep.
fn keeps(stmt: &Stmt, live: &Live) -> bool {
    match stmt {
        Stmt::Let(n) => live.nodes.contains(n),
        Stmt::Decl(v, _) | Stmt::Assign(v, _, _) | Stmt::Push(v, _) | Stmt::Rewind(v) => {
            live.vars.contains(v)
        }
        Stmt::Store(store) => live.vars.contains(&store.var),
        Stmt::Pullback(_) | Stmt::Effect(_) => true,
        Stmt::Branch(branch) => {
            branch.outputs.iter().any(|o| live.nodes.contains(o))
                || branch
                    .arms
                    .iter()
                    .any(|a| a.block.stmts.iter().any(|s| keeps(s, live)))
        }
        Stmt::Loop(l) => l.body.stmts.iter().any(|s| keeps(s, live)),
    }
}

/// What kept branches and loops need to decide what they do.
fn structure(block: &Block, live: &Live, out: &mut Vec<NodeId>) {
    for stmt in &block.stmts {
        if !keeps(stmt, live) {
            continue;
        }
        match stmt {
            Stmt::Branch(branch) => out.push(visit::selector(&branch.selector)),
            Stmt::Loop(_) => out.extend(stmt.operands()),
            _ => {}
        }
        for nested in stmt.blocks() {
            structure(nested, live, out);
        }
    }
}

fn sweep(block: &mut Block, live: &Live, f: &Function) {
    block.stmts.retain(|s| keeps(s, live));
    for stmt in &mut block.stmts {
        match stmt {
            Stmt::Loop(l) => {
                if let LoopKind::While { header, .. } = &mut l.kind {
                    sweep(header, live, f);
                }
                sweep(&mut l.body, live, f);
                if l.trips.is_some_and(|t| !live.nodes.contains(&t)) {
                    l.trips = None;
                }
            }
            // A buffer nothing reads any more is a scratch value: its declaration is gone.
            Stmt::Pullback(call) => {
                let owners = call.owners(f);
                for (buffer, owner) in call.buffers.iter_mut().zip(owners) {
                    if let BufferArg::Var(v, _) = buffer
                        && !live.vars.contains(v)
                    {
                        *buffer = BufferArg::Discard(owner);
                    }
                }
            }
            Stmt::Branch(branch) => {
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
                    sweep(&mut arm.block, live, f);
                }
            }
            _ => {}
        }
    }
}
