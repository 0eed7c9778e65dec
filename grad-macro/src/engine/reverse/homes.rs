//! Where everything of the primal is, and what the reverse sweep may read again.
//!
//! * A node's *home* is the block that evaluates it: its `Let`'s block, or for a floating
//!   node (no `Let`: the right side of `&&`) the block of the statement that uses it. The
//!   reverse sweep recomputes or pops a value in its home.
//! * A read is *overwritten* when the variable it reads may be written after it (later in the
//!   forward sweep, or in a later iteration of a loop around it), or is declared inside a
//!   block the reverse sweep replays as another block: reading the variable again in the
//!   reverse sweep would see another value, or none, so the value is taped (or kept) instead.
//! * A variable's adjoint is *live* at a loop's head when a read of it that carries a
//!   derivative may follow: then the reverse of the loop body needs that adjoint from its
//!   first statement on, even if the body writes the variable after its last read (`s += v *
//!   v; v += h;` — the write's adjoint comes from the next iteration's read).
//!
//! Both facts come from the one solver ([`dataflow`]), so they hold around back edges.

use crate::engine::activity::Activity;
use crate::engine::ir::dataflow::{self, BitSet, Problem};
use crate::engine::ir::visit::{self, Bound};
use crate::engine::ir::{
    AssignOp, Block, Branch, Function, Loop, LoopKind, NodeId, Op, Stmt, VarId,
};
use std::collections::HashMap;

/// Where a primal node or variable is defined.
#[derive(Clone, Default)]
pub struct Home {
    /// Block depth (1 = top level).
    pub depth: usize,
    /// The loops around it, outermost first (indices into [`Homes::loops`]).
    pub loops: Vec<usize>,
    /// The top-level statement it is in.
    pub top: usize,
    /// It has a `Let` (else it is printed where used, or defined by a statement).
    pub bound: bool,
}

/// Where everything of the primal is.
pub struct Homes<'p> {
    /// Per node.
    pub nodes: Vec<Home>,
    /// Per variable: where it is declared.
    pub vars: Vec<Home>,
    /// Each variable's initial value.
    pub inits: Vec<Option<NodeId>>,
    /// Every loop, in program order.
    pub loops: Vec<&'p Loop>,
    /// Each loop's block depth.
    pub loop_depths: Vec<usize>,
    /// Which nodes have a `Let`.
    pub bound: Bound,
    /// Per read of a variable (`ReadVar`): the variable may be written after it.
    overwritten: Vec<bool>,
    /// Per loop (by address): the variables whose adjoints are live at its head.
    live: HashMap<usize, BitSet>,
}

impl<'p> Homes<'p> {
    /// Scans `f`; `act` says which reads carry derivatives.
    pub fn scan(f: &'p Function, act: &Activity) -> Homes<'p> {
        let top_home = Home {
            depth: 1,
            ..Home::default()
        };
        let mut h = Homes {
            nodes: vec![top_home.clone(); f.nodes.len()],
            vars: vec![top_home; f.vars.len()],
            inits: vec![None; f.vars.len()],
            loops: Vec::new(),
            loop_depths: Vec::new(),
            bound: Bound::of(f),
            overwritten: vec![false; f.nodes.len()],
            live: HashMap::new(),
        };
        let mut placed = vec![false; f.nodes.len()];
        for (top, stmt) in f.body.stmts.iter().enumerate() {
            h.stmt(f, stmt, 1, &[], top, &mut placed);
        }
        let mut written = Written {
            f,
            bound: &h.bound,
            overwritten: &mut h.overwritten,
        };
        dataflow::backward(
            &mut written,
            &f.body,
            &mut BitSet::with_capacity(f.vars.len()),
        );
        // A variable declared inside an arm or a loop body is gone when the reverse sweep
        // replays that block: its reads cannot be read again either.
        for (i, node) in f.nodes.iter().enumerate() {
            if let Op::ReadVar(v) = node.op
                && h.vars[v.index()].depth > 1
            {
                h.overwritten[i] = true;
            }
        }
        let mut live = Live {
            f,
            act,
            bound: &h.bound,
            heads: HashMap::new(),
        };
        dataflow::backward(&mut live, &f.body, &mut BitSet::with_capacity(f.vars.len()));
        h.live = live.heads;
        h
    }

    fn block(
        &mut self,
        f: &Function,
        block: &'p Block,
        depth: usize,
        loops: &[usize],
        top: usize,
        placed: &mut [bool],
    ) {
        for stmt in &block.stmts {
            self.stmt(f, stmt, depth, loops, top, placed);
        }
    }

    fn stmt(
        &mut self,
        f: &Function,
        stmt: &'p Stmt,
        depth: usize,
        loops: &[usize],
        top: usize,
        placed: &mut [bool],
    ) {
        let home = Home {
            depth,
            loops: loops.to_vec(),
            top,
            bound: true,
        };
        // Floating nodes live where they are evaluated: with the first statement using them.
        let floating = match stmt {
            Stmt::Let(n) => self.bound.evaluated(f, *n).split_off(1),
            _ => self.bound.floating_operands(f, stmt),
        };
        for n in floating {
            if !std::mem::replace(&mut placed[n.index()], true) {
                self.nodes[n.index()] = Home {
                    bound: false,
                    ..home.clone()
                };
            }
        }
        match stmt {
            Stmt::Let(n) => {
                placed[n.index()] = true;
                self.nodes[n.index()] = home;
            }
            Stmt::Decl(v, init) => {
                self.vars[v.index()] = home;
                self.inits[v.index()] = *init;
            }
            Stmt::Branch(branch) => {
                for arm in &branch.arms {
                    self.block(f, &arm.block, depth + 1, loops, top, placed);
                }
                for out in &branch.outputs {
                    self.nodes[out.index()] = home.clone();
                }
            }
            Stmt::Loop(l) => {
                let id = self.loops.len();
                self.loops.push(l);
                self.loop_depths.push(depth);
                let mut inner = loops.to_vec();
                inner.push(id);
                if let LoopKind::While { header, .. } = &l.kind {
                    self.block(f, header, depth + 1, &inner, top, placed);
                }
                if let Some(index) = l.index {
                    self.nodes[index.index()] = Home {
                        depth: depth + 1,
                        loops: inner.clone(),
                        top,
                        bound: true,
                    };
                }
                self.block(f, &l.body, depth + 1, &inner, top, placed);
            }
            Stmt::Assign(..)
            | Stmt::Store(_)
            | Stmt::Pullback(_)
            | Stmt::Effect(_)
            | Stmt::Push(..)
            | Stmt::Rewind(_) => {}
        }
    }

    /// Whether reading `n` again after the forward sweep could give another value: it reads a
    /// variable (or an element of one) that may be written after it.
    pub fn overwritten(&self, f: &Function, n: NodeId) -> bool {
        let root = f.array_root(n);
        matches!(f.node(root).op, Op::ReadVar(_)) && self.overwritten[root.index()]
    }

    /// Whether evaluating the bound node `n` again would read something overwritten through
    /// one of the floating nodes it evaluates — which cannot be taped on its own, having no
    /// `Let` to push after: then `n` itself must be kept.
    pub fn floats_overwritten(&self, f: &Function, n: NodeId) -> bool {
        self.bound
            .evaluated(f, n)
            .into_iter()
            .skip(1)
            .any(|m| self.overwritten(f, m))
    }

    /// The variables whose adjoints the reverse of `l`'s body needs from its first statement.
    pub fn live_at_head(&self, l: &Loop) -> Vec<VarId> {
        let key = std::ptr::from_ref(l) as usize;
        self.live.get(&key).map_or_else(Vec::new, |set| {
            set.iter()
                .map(|i| VarId(u32::try_from(i).unwrap_or(u32::MAX)))
                .collect()
        })
    }
}

/// Backward: the variables that may be written from here to the end of the forward sweep.
struct Written<'a> {
    f: &'a Function,
    bound: &'a Bound,
    overwritten: &'a mut [bool],
}

impl Written<'_> {
    fn reads(&mut self, nodes: &[NodeId], fact: &BitSet) {
        for &n in nodes {
            if let Op::ReadVar(v) = self.f.node(n).op
                && fact.contains(v.index())
            {
                self.overwritten[n.index()] = true;
            }
        }
    }
}

impl Problem for Written<'_> {
    type Fact = BitSet;

    fn join(&mut self, into: &mut BitSet, other: &BitSet) {
        into.union(other);
    }

    fn stmt(&mut self, stmt: &Stmt, fact: &mut BitSet) {
        let read = match stmt {
            Stmt::Let(n) => self.bound.evaluated(self.f, *n),
            _ => self.bound.floating_operands(self.f, stmt),
        };
        self.reads(&read, fact);
        for v in stmt.writes() {
            fact.insert(v.index());
        }
    }

    fn selector(&mut self, branch: &Branch, fact: &mut BitSet) {
        let c = visit::selector(&branch.selector);
        if self.bound.floats(self.f, c) {
            let read = self.bound.evaluated(self.f, c);
            self.reads(&read, fact);
        }
    }
}

/// Backward: the variables whose current value a read carrying a derivative may follow.
struct Live<'a> {
    f: &'a Function,
    act: &'a Activity,
    bound: &'a Bound,
    heads: HashMap<usize, BitSet>,
}

impl Problem for Live<'_> {
    type Fact = BitSet;

    fn join(&mut self, into: &mut BitSet, other: &BitSet) {
        into.union(other);
    }

    fn stmt(&mut self, stmt: &Stmt, fact: &mut BitSet) {
        match stmt {
            Stmt::Let(n) => {
                for m in self.bound.evaluated(self.f, *n) {
                    if let Op::ReadVar(v) = self.f.node(m).op
                        && self.act.active(m)
                    {
                        fact.insert(v.index());
                    }
                }
            }
            // Before a declaration, or a replacement of a scalar, the old value is dead.
            Stmt::Decl(v, _) => {
                fact.remove(v.index());
            }
            Stmt::Assign(v, AssignOp::Set, _) if !self.f.var(*v).ty.is_array() => {
                fact.remove(v.index());
            }
            _ => {}
        }
    }

    fn head(&mut self, l: &Loop, fact: &BitSet) {
        self.heads
            .insert(std::ptr::from_ref(l) as usize, fact.clone());
    }
}
