//! Jamming: a loop whose iterations are independent gets its reverse sweep inside its forward
//! sweep, as a careful hand derivation writes it (`s += f(x[i]); g[i] = f′(x[i]);` in one
//! loop), instead of a second loop over the same data.
//!
//! A top-level loop `F` and its reverse `R` are jammed when
//!
//! * `F` carries nothing from one iteration to the next except accumulators (`v += …` into
//!   variables it never reads), writes no array, and runs over a range with no early exit;
//! * `R` pops only tapes `F` pushes, and reads nothing else that `F` or the code after `F`
//!   changes;
//! * the reverse sweep before `R` (the adjoints of the code after the loop, and the zeroed
//!   adjoints `R` adds into) reads only values that exist before `F` — so it can run first.
//!
//! Then the body becomes: the code before `F`, that reverse prefix, one loop running `F`'s
//! body then `R`'s for each index (`R`'s index renamed to `F`'s), the code after `F`, and the
//! rest of the reverse sweep. Iterations are independent, so running `R`'s in forward order
//! only changes the order in which shared adjoints are summed. What an iteration of `F` pushes,
//! the same iteration of `R` pops, last first; a value pushed once at the top of the body is
//! then simply used where it was popped, and its tape disappears.

use crate::engine::ir::{Adapter, Block, Function, LoopKind, NodeId, Op, Stmt, VarId};
use std::collections::HashSet;

/// Jams each (forward loop index, reverse loop index) pair it can, in `f.body`, whose first
/// `sweep` statements are the forward sweep.
pub fn jam(f: &mut Function, sweep: usize, pairs: &[(NodeId, NodeId)]) {
    let mut sweep = sweep;
    for &(forward, reverse) in pairs {
        let stmts = &f.body.stmts;
        let find = |range: std::ops::Range<usize>, index: NodeId| {
            range
                .clone()
                .find(|&i| matches!(&stmts[i], Stmt::Loop(l) if l.index == Some(index)))
        };
        let (Some(k), Some(m)) = (find(0..sweep, forward), find(sweep..stmts.len(), reverse))
        else {
            continue;
        };
        if !jammable(f, k, sweep, m) {
            continue;
        }
        let mut stmts = std::mem::take(&mut f.body.stmts);
        let rest = stmts.split_off(m + 1);
        let Some(Stmt::Loop(mut r)) = stmts.pop() else {
            f.body.stmts = stmts;
            continue;
        };
        let prefix = stmts.split_off(sweep);
        let after = stmts.split_off(k + 1);
        let Some(Stmt::Loop(mut l)) = stmts.pop() else {
            continue;
        };
        rename(f, &mut r.body, reverse, forward);
        let forwarded = forward_tapes(f, &mut l.body, &mut r.body);
        l.body.stmts.append(&mut r.body.stmts);
        let mut before = stmts;
        before.retain(|s| !matches!(s, Stmt::Decl(v, _) if forwarded.contains(v)));
        sweep = before.len() + prefix.len() + 1 + after.len();
        f.body.stmts = before
            .into_iter()
            .chain(prefix)
            .chain([Stmt::Loop(l)])
            .chain(after)
            .chain(rest)
            .collect();
    }
}

fn jammable(f: &Function, k: usize, sweep: usize, m: usize) -> bool {
    let stmts = &f.body.stmts;
    let (Stmt::Loop(l), Stmt::Loop(r)) = (&stmts[k], &stmts[m]) else {
        return false;
    };
    let LoopKind::Range { adapters, .. } = &l.kind else {
        return false;
    };
    if l.exit.is_some()
        || l.trips.is_some()
        || adapters.iter().any(|a| matches!(a, Adapter::Take(_)))
    {
        return false;
    }
    // F: only accumulators carried, no arrays written.
    let mut declared_in_l = HashSet::new();
    let mut written = Vec::new();
    let mut pushed = HashSet::new();
    let mut simple = true;
    l.body.walk(&mut |s| match s {
        Stmt::Decl(v, _) => {
            declared_in_l.insert(*v);
        }
        Stmt::Assign(v, op, _) => written.push((*v, *op)),
        Stmt::Push(v, _) => {
            pushed.insert(*v);
        }
        Stmt::Store(_) | Stmt::Rewind(_) | Stmt::Pullback(_) => simple = false,
        Stmt::Loop(inner) if inner.exit.is_some() => simple = false,
        _ => {}
    });
    let carried: HashSet<VarId> = written
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !declared_in_l.contains(v))
        .collect();
    let accumulates = written
        .iter()
        .all(|(v, op)| declared_in_l.contains(v) || *op == crate::engine::ir::AssignOp::Add);
    if !simple || !accumulates || reads_any(f, &l.body, &carried) {
        return false;
    }
    // R: only F's tapes.
    let mut foreign = false;
    r.body.walk(&mut |s| {
        if let Stmt::Let(n) = s
            && let Op::Pop(v) = f.node(*n).op
        {
            foreign |= !pushed.contains(&v);
        }
        foreign |= matches!(s, Stmt::Rewind(_) | Stmt::Push(..));
    });
    if foreign {
        return false;
    }
    // What F and the code after it change: nothing the moved code may read, but F's tapes.
    let mut changed = HashSet::new();
    let mut later = HashSet::new();
    for s in &stmts[k..sweep] {
        s.walk(&mut |s| match s {
            Stmt::Push(v, _) if pushed.contains(v) => {}
            Stmt::Assign(v, _, _) | Stmt::Decl(v, _) | Stmt::Push(v, _) | Stmt::Rewind(v) => {
                changed.insert(*v);
            }
            Stmt::Store(store) => {
                changed.insert(store.var);
            }
            Stmt::Let(n) => {
                later.insert(*n);
            }
            Stmt::Branch(b) => later.extend(b.outputs.iter().copied()),
            _ => {}
        });
    }
    let moved = Block {
        stmts: stmts[sweep..=m].to_vec(),
    };
    !reads_any(f, &moved, &changed) && !uses_any(f, &moved, &later)
}

/// Where the jammed body pushes a value at its top level and pops it at its top level, the
/// popped value is the pushed one: uses it directly, and drops the push and the pop. Returns
/// the tapes that are left unused.
fn forward_tapes(f: &mut Function, forward: &mut Block, reverse: &mut Block) -> HashSet<VarId> {
    let count = |block: &Block, tape: VarId, f: &Function| {
        let mut n = 0;
        block.walk(&mut |s| match s {
            Stmt::Push(v, _) if *v == tape => n += 1,
            Stmt::Let(x) if f.node(*x).op == Op::Pop(tape) => n += 1,
            _ => {}
        });
        n
    };
    let mut forwarded = HashSet::new();
    let pushes: Vec<(VarId, NodeId)> = forward
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Push(v, x) => Some((*v, *x)),
            _ => None,
        })
        .collect();
    for (tape, value) in pushes {
        let pop = reverse.stmts.iter().find_map(|s| match s {
            Stmt::Let(x) if f.node(*x).op == Op::Pop(tape) => Some(*x),
            _ => None,
        });
        let Some(pop) = pop else { continue };
        if count(forward, tape, f) != 1 || count(reverse, tape, f) != 1 {
            continue;
        }
        rename(f, reverse, pop, value);
        forward
            .stmts
            .retain(|s| !matches!(s, Stmt::Push(v, _) if *v == tape));
        reverse
            .stmts
            .retain(|s| !matches!(s, Stmt::Let(x) if *x == pop));
        forwarded.insert(tape);
    }
    forwarded
}

/// Every node `block` evaluates or refers to, through operands.
fn referenced(f: &Function, block: &Block) -> HashSet<NodeId> {
    let mut seen = HashSet::new();
    let mut stack = Vec::new();
    block.walk(&mut |s| {
        stack.extend(s.operands());
        if let Stmt::Let(n) = s {
            stack.push(*n);
        }
    });
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            stack.extend(f.node(n).args.iter().copied());
        }
    }
    seen
}

/// Whether `block` reads one of `vars`.
fn reads_any(f: &Function, block: &Block, vars: &HashSet<VarId>) -> bool {
    referenced(f, block)
        .iter()
        .any(|&n| matches!(f.node(n).op, Op::ReadVar(v) | Op::Pop(v) if vars.contains(&v)))
}

/// Whether `block` uses one of `nodes`.
fn uses_any(f: &Function, block: &Block, nodes: &HashSet<NodeId>) -> bool {
    referenced(f, block).iter().any(|n| nodes.contains(n))
}

/// Replaces the loop index `from` by `to` in `block` (every node the block uses).
fn rename(f: &mut Function, block: &mut Block, from: NodeId, to: NodeId) {
    for n in referenced(f, block) {
        for a in &mut f.nodes[n.index()].args {
            if *a == from {
                *a = to;
            }
        }
    }
    block.rename_operands(&mut |x: &mut NodeId| {
        if *x == from {
            *x = to;
        }
    });
}
