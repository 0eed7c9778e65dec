//! The one fixpoint solver over structured control flow.
//!
//! An analysis that asks what holds at a point of the program (which variables may hold a
//! varied value, which may be read later, which may still be written) describes a
//! [`Problem`]: its fact, how a plain statement changes it, and optional hooks where a branch
//! or a loop reads its selector or bounds. [`forward`] and [`backward`] walk the blocks, run
//! each arm from the fact before the branch and join the arms after it, and run each loop's
//! body again and again until the fact at the loop's head stops changing, so that what one
//! iteration leaves for the next (the back edge) is never missed — a value updated after its
//! last use in the body still reaches the next iteration. Nested loops reach their own
//! fixpoint inside each pass of the loop around them.
//!
//! Facts only grow (joins are unions, transfers monotone), so every loop terminates: at most
//! one more pass than the number of facts that can turn on.

use super::{Block, Branch, Loop, LoopKind, Stmt};

/// A dataflow problem: a fact per program point, and how statements change it.
pub trait Problem {
    /// What is known at a point.
    type Fact: Clone + PartialEq;

    /// `into ∪= other`.
    fn join(&mut self, into: &mut Self::Fact, other: &Self::Fact);

    /// The effect of a statement without blocks (anything but `Branch` and `Loop`). Forward:
    /// `fact` holds before it and is changed to what holds after; backward, the reverse.
    fn stmt(&mut self, stmt: &Stmt, fact: &mut Self::Fact);

    /// A branch reads its selector: before its arms (forward), after them (backward).
    fn selector(&mut self, _branch: &Branch, _fact: &mut Self::Fact) {}

    /// The values arm `arm` yields become the branch's outputs: at the end of the arm.
    fn yields(&mut self, _branch: &Branch, _arm: usize, _fact: &mut Self::Fact) {}

    /// A loop reads its bounds and adapters once, before its first iteration.
    fn entry(&mut self, _l: &Loop, _fact: &mut Self::Fact) {}

    /// The fact at the head of `l` in this pass: forward, what the body starts from (the
    /// entry joined with what the body leaves); backward, what holds after an iteration (after
    /// the loop, joined with what the body needs). On the last call for a loop it is the
    /// fixpoint.
    fn head(&mut self, _l: &Loop, _fact: &Self::Fact) {}
}

/// Solves `p` forward over `block` from `fact`, leaving in `fact` what holds after it.
pub fn forward<P: Problem>(p: &mut P, block: &Block, fact: &mut P::Fact) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Branch(branch) => {
                p.selector(branch, fact);
                let mut out: Option<P::Fact> = None;
                for (k, arm) in branch.arms.iter().enumerate() {
                    let mut x = fact.clone();
                    forward(p, &arm.block, &mut x);
                    p.yields(branch, k, &mut x);
                    match &mut out {
                        Some(o) => p.join(o, &x),
                        None => out = Some(x),
                    }
                }
                if let Some(o) = out {
                    *fact = o;
                }
            }
            Stmt::Loop(l) => {
                p.entry(l, fact);
                let entry = fact.clone();
                let mut head = entry.clone();
                loop {
                    let mut x = head.clone();
                    if let LoopKind::While { header, .. } = &l.kind {
                        forward(p, header, &mut x);
                    }
                    p.head(l, &x);
                    forward(p, &l.body, &mut x);
                    let mut next = entry.clone();
                    p.join(&mut next, &x);
                    if next == head {
                        break;
                    }
                    head = next;
                }
                // The loop leaves from its head (after a `while`'s last check).
                if let LoopKind::While { header, .. } = &l.kind {
                    forward(p, header, &mut head);
                }
                *fact = head;
            }
            _ => p.stmt(stmt, fact),
        }
    }
}

/// Solves `p` backward over `block` from `fact` (what holds after it), leaving in `fact` what
/// holds before it.
pub fn backward<P: Problem>(p: &mut P, block: &Block, fact: &mut P::Fact) {
    for stmt in block.stmts.iter().rev() {
        match stmt {
            Stmt::Branch(branch) => {
                let mut out: Option<P::Fact> = None;
                for (k, arm) in branch.arms.iter().enumerate() {
                    let mut x = fact.clone();
                    p.yields(branch, k, &mut x);
                    backward(p, &arm.block, &mut x);
                    match &mut out {
                        Some(o) => p.join(o, &x),
                        None => out = Some(x),
                    }
                }
                if let Some(o) = out {
                    *fact = o;
                }
                p.selector(branch, fact);
            }
            Stmt::Loop(l) => {
                let after = fact.clone();
                // `head`: what holds where an iteration may start (before a `while`'s header).
                let mut head = after.clone();
                if let LoopKind::While { header, .. } = &l.kind {
                    backward(p, header, &mut head);
                }
                loop {
                    p.head(l, &head);
                    let mut x = head.clone();
                    backward(p, &l.body, &mut x);
                    let mut next = after.clone();
                    p.join(&mut next, &x);
                    if let LoopKind::While { header, .. } = &l.kind {
                        backward(p, header, &mut next);
                    }
                    p.join(&mut next, &head);
                    if next == head {
                        break;
                    }
                    head = next;
                }
                *fact = head;
                p.entry(l, fact);
            }
            _ => p.stmt(stmt, fact),
        }
    }
}

/// A set of small integers (variable or node indices), the usual fact.
#[derive(Clone, Default, Debug)]
pub struct BitSet(Vec<u64>);

impl PartialEq for BitSet {
    fn eq(&self, other: &BitSet) -> bool {
        let (short, long) = if self.0.len() <= other.0.len() {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        long.iter()
            .enumerate()
            .all(|(k, w)| *w == short.get(k).copied().unwrap_or(0))
    }
}

impl BitSet {
    /// An empty set able to hold `0..n` without growing.
    pub fn with_capacity(n: usize) -> BitSet {
        BitSet(vec![0; n.div_ceil(64)])
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Adds `i`; `true` if it was not there.
    pub fn insert(&mut self, i: usize) -> bool {
        if self.0.len() <= i / 64 {
            self.0.resize(i / 64 + 1, 0);
        }
        let word = &mut self.0[i / 64];
        let bit = 1 << (i % 64);
        let new = *word & bit == 0;
        *word |= bit;
        new
    }

    /// Removes `i`; `true` if it was there.
    pub fn remove(&mut self, i: usize) -> bool {
        let was = self.contains(i);
        if let Some(word) = self.0.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
        was
    }

    /// `self ∪= other`.
    pub fn union(&mut self, other: &BitSet) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// The members, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(k, &w)| {
            (0..64)
                .filter(move |b| w >> b & 1 == 1)
                .map(move |b| k * 64 + b)
        })
    }
}
