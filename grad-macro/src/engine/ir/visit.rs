//! One way to walk the IR: what each statement reads, what it defines, what it writes.
//!
//! Every analysis and pass asks these questions through this file, so that a new statement
//! kind or operand is taught once. "At its own level" means without the statements nested
//! in its blocks (arms, a loop's header and body), which [`Block::walk`] visits.
//!
//! A node without a `Let` anywhere (the right side of `&&`, a recomputation the reverse
//! sweep prints inline) is *floating*: it is evaluated wherever the nodes that use it are,
//! so what it reads is read there. [`Bound`] tells floating nodes apart and
//! [`Bound::evaluated`] lists the nodes a `Let` evaluates, its floating operands included.

use super::{Adapter, Block, BufferArg, Function, LoopKind, NodeId, Op, Selector, Stmt, VarId};
use std::collections::HashSet;

impl Stmt {
    /// The nodes the statement itself refers to, at its own level: the value a variable is
    /// set to, indices, a branch's selector and the values its arms yield, a loop's bounds,
    /// adapters, exit flag and `while` condition, a call's operands. A `Let`'s node is a
    /// definition (its operands are on the node): see [`Stmt::defines`].
    pub fn operands(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        self.each_operand(&mut |n| out.push(n));
        out
    }

    /// Calls `visit` on each of [`Stmt::operands`].
    pub fn each_operand(&self, visit: &mut impl FnMut(NodeId)) {
        match self {
            Stmt::Let(_) | Stmt::Decl(_, None) | Stmt::Rewind(_) => {}
            Stmt::Decl(_, Some(x)) | Stmt::Assign(_, _, x) | Stmt::Push(_, x) => visit(*x),
            Stmt::Store(s) => {
                s.path.iter().copied().for_each(&mut *visit);
                visit(s.value);
            }
            Stmt::Branch(b) => {
                visit(selector(&b.selector));
                b.arms
                    .iter()
                    .flat_map(|a| &a.yields)
                    .copied()
                    .for_each(visit);
            }
            Stmt::Loop(l) => {
                l.control().into_iter().for_each(&mut *visit);
                if let Some(e) = l.exit {
                    visit(e);
                }
            }
            Stmt::Pullback(call) => {
                call.args.iter().copied().for_each(&mut *visit);
                visit(call.d_out);
                for b in &call.buffers {
                    if let BufferArg::Var(_, path) = b {
                        path.iter().copied().for_each(&mut *visit);
                    }
                }
            }
            Stmt::Effect(e) => e.scope.iter().for_each(|(_, n)| visit(*n)),
        }
    }

    /// Rewrites every node reference of the statement and of the statements nested in it
    /// (not the operands stored on nodes, which [`Function::nodes`] owns).
    pub fn rename_operands(&mut self, swap: &mut impl FnMut(&mut NodeId)) {
        match self {
            Stmt::Let(_) | Stmt::Decl(_, None) | Stmt::Rewind(_) => {}
            Stmt::Decl(_, Some(x)) | Stmt::Assign(_, _, x) | Stmt::Push(_, x) => swap(x),
            Stmt::Store(s) => {
                s.path.iter_mut().for_each(&mut *swap);
                swap(&mut s.value);
            }
            Stmt::Branch(b) => {
                let (Selector::If(c) | Selector::Match(c, _)) = &mut b.selector;
                swap(c);
                for arm in &mut b.arms {
                    arm.yields.iter_mut().for_each(&mut *swap);
                    arm.block.rename_operands(swap);
                }
            }
            Stmt::Loop(l) => {
                match &mut l.kind {
                    LoopKind::Range {
                        start,
                        end,
                        adapters,
                        ..
                    } => {
                        swap(start);
                        swap(end);
                        for a in adapters {
                            if let Adapter::StepBy(x) | Adapter::Take(x) = a {
                                swap(x);
                            }
                        }
                    }
                    LoopKind::While { header, cond } => {
                        header.rename_operands(swap);
                        swap(cond);
                    }
                    LoopKind::Infinite => {}
                }
                if let Some(e) = &mut l.exit {
                    swap(e);
                }
                if let Some(t) = &mut l.trips {
                    swap(t);
                }
                l.body.rename_operands(swap);
            }
            Stmt::Pullback(call) => {
                call.args.iter_mut().for_each(&mut *swap);
                swap(&mut call.d_out);
                for b in &mut call.buffers {
                    if let BufferArg::Var(_, path) = b {
                        path.iter_mut().for_each(&mut *swap);
                    }
                }
            }
            Stmt::Effect(e) => e.scope.iter_mut().for_each(|(_, n)| swap(n)),
        }
    }

    /// The nodes the statement defines at its own level: a `Let`'s node, a branch's outputs,
    /// a loop's index (defined inside its body).
    pub fn defines(&self) -> Vec<NodeId> {
        match self {
            Stmt::Let(n) => vec![*n],
            Stmt::Branch(b) => b.outputs.clone(),
            Stmt::Loop(l) => l.index.into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The variables the statement writes at its own level: declared, assigned, stored
    /// into, pushed on, rewound, or lent to a pullback as a buffer.
    pub fn writes(&self) -> Vec<VarId> {
        match self {
            Stmt::Decl(v, _) | Stmt::Assign(v, _, _) | Stmt::Push(v, _) | Stmt::Rewind(v) => {
                vec![*v]
            }
            Stmt::Store(s) => vec![s.var],
            Stmt::Pullback(call) => call
                .buffers
                .iter()
                .filter_map(|b| match b {
                    BufferArg::Var(v, _) => Some(*v),
                    BufferArg::Discard(_) => None,
                })
                .collect(),
            Stmt::Let(_) | Stmt::Branch(_) | Stmt::Loop(_) | Stmt::Effect(_) => Vec::new(),
        }
    }

    /// The variables the statement and everything nested in it write.
    pub fn writes_within(&self) -> Vec<VarId> {
        let mut out = self.writes();
        for block in self.blocks() {
            block.walk(&mut |s| out.extend(s.writes()));
        }
        out
    }
}

impl Block {
    /// [`Stmt::rename_operands`] on every statement.
    pub fn rename_operands(&mut self, swap: &mut impl FnMut(&mut NodeId)) {
        for stmt in &mut self.stmts {
            stmt.rename_operands(swap);
        }
    }
}

impl super::PullbackCall {
    /// For each buffer, the argument it belongs to: the callee has a buffer for each
    /// argument that [`super::Ty::takes_buffer`], in order.
    pub fn owners(&self, f: &Function) -> Vec<NodeId> {
        self.args
            .iter()
            .copied()
            .filter(|&a| f.node(a).ty.takes_buffer())
            .collect()
    }
}

/// The selector node of a branch.
pub fn selector(selector: &Selector) -> NodeId {
    match selector {
        Selector::If(c) | Selector::Match(c, _) => *c,
    }
}

impl Function {
    /// The variable a node reads, if it is a read (`ReadVar`) or a tape's pop (`Pop`).
    pub fn reads_var(&self, n: NodeId) -> Option<VarId> {
        match self.node(n).op {
            Op::ReadVar(v) | Op::Pop(v) => Some(v),
            _ => None,
        }
    }

    /// The array at the root of a chain of element reads and references (`&a[i][j]` → `a`).
    pub fn array_root(&self, mut n: NodeId) -> NodeId {
        while let Op::Index | Op::Ref = self.node(n).op {
            n = self.node(n).args[0];
        }
        n
    }

    /// The parameter `n` is, or is an element (or row) of.
    pub fn param_root(&self, n: NodeId) -> Option<u32> {
        match self.node(self.array_root(n)).op {
            Op::Param(i) => Some(i),
            _ => None,
        }
    }

    /// The variable at the root of a chain of element reads (`a[i][j]` → `a`), if it is one.
    pub fn read_root(&self, n: NodeId) -> Option<VarId> {
        match self.node(self.array_root(n)).op {
            Op::ReadVar(v) => Some(v),
            _ => None,
        }
    }
}

/// Which nodes have a `Let` somewhere (the others float: see the module documentation).
pub struct Bound(HashSet<NodeId>);

impl Bound {
    /// The let-bound nodes of `f`.
    pub fn of(f: &Function) -> Bound {
        let mut bound = HashSet::new();
        f.body.walk(&mut |s| {
            if let Stmt::Let(n) = s {
                bound.insert(*n);
            }
        });
        Bound(bound)
    }

    /// Whether `n` floats: not a leaf, and evaluated wherever it is used.
    pub fn floats(&self, f: &Function, n: NodeId) -> bool {
        !self.0.contains(&n)
            && !f.node(n).op.is_leaf()
            && !matches!(f.node(n).op, Op::Phi(_) | Op::LoopIndex(_))
    }

    /// `n` and the floating nodes it reads, transitively: what evaluating `n` here evaluates.
    pub fn evaluated(&self, f: &Function, n: NodeId) -> Vec<NodeId> {
        let mut out = vec![n];
        let mut k = 0;
        while k < out.len() {
            for &a in &f.node(out[k]).args {
                if self.floats(f, a) && !out.contains(&a) {
                    out.push(a);
                }
            }
            k += 1;
        }
        out
    }

    /// The floating nodes a statement's own operands read (transitively), which are
    /// evaluated where the statement is.
    pub fn floating_operands(&self, f: &Function, stmt: &Stmt) -> Vec<NodeId> {
        let mut out = Vec::new();
        stmt.each_operand(&mut |n| {
            if self.floats(f, n) {
                for m in self.evaluated(f, n) {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        });
        out
    }
}
