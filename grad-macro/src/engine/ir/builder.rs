//! Building IR: hash-consing in lexical scopes, and the stack of blocks being filled.
//!
//! `add` returns an existing node when the same `(op, operands, type)` was built in an
//! enclosing scope, otherwise appends a node and a `Let` for it to the current block. Scopes
//! follow blocks, so a value computed in one arm is never reused by another arm or after the
//! branch. With folding on (the transforms turn it on; lowering keeps it off so the forward
//! sweep computes exactly what the user wrote), `add` first applies the IEEE-exact rewrites of
//! [`crate::engine::optimize::fold`].

use super::{Block, FloatTy, Function, Lit, LitId, LitValue, Node, NodeId, Op, Stmt, Ty, VarId};
use crate::engine::optimize::fold::{self, Folded};
use proc_macro2::{Span, TokenStream};
use std::collections::HashMap;

type Key = (Op, Vec<NodeId>, Ty);

/// Builds a [`Function`].
pub struct Builder {
    /// The function under construction.
    pub f: Function,
    /// Whether `add` applies the exact rewrites.
    pub fold: bool,
    /// Each shareable node, and the index of the open block that defines it.
    table: HashMap<Key, (NodeId, usize)>,
    /// The keys added in each open block's scope, forgotten when the block closes.
    logs: Vec<Vec<Key>>,
    blocks: Vec<Vec<Stmt>>,
    lit_index: HashMap<String, LitId>,
    phis: u32,
    /// The read of each variable since its last write in the straight-line code being
    /// built, shared by later reads (`a[0] * a[0]` reads `a` once, so it is taped once).
    reads: HashMap<VarId, NodeId>,
}

impl Builder {
    /// Starts building into `f` (empty, or the clone of a function the transform extends),
    /// with one open block.
    pub fn new(f: Function) -> Builder {
        let mut lit_index = HashMap::new();
        for (i, lit) in f.lits.iter().enumerate() {
            lit_index.insert(lit_key(lit), LitId(u32::try_from(i).unwrap_or(u32::MAX)));
        }
        let phis = u32::try_from(
            f.nodes
                .iter()
                .filter(|n| matches!(n.op, Op::Phi(_)))
                .count(),
        )
        .unwrap_or(u32::MAX);
        Builder {
            f,
            fold: false,
            table: HashMap::new(),
            logs: vec![Vec::new()],
            blocks: vec![Vec::new()],
            lit_index,
            phis,
            reads: HashMap::new(),
        }
    }

    /// How many blocks are open (1 at the top level).
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// Opens a nested block and its scope.
    pub fn open(&mut self) {
        // A read before a nested block is not shared into it: a loop body may run after
        // its own writes.
        self.reads.clear();
        self.blocks.push(Vec::new());
        self.logs.push(Vec::new());
    }

    /// Closes the innermost block, forgetting the values built in it.
    pub fn close(&mut self) -> Block {
        self.reads.clear();
        for key in self.logs.pop().unwrap_or_default() {
            self.table.remove(&key);
        }
        Block {
            stmts: self.blocks.pop().unwrap_or_default(),
        }
    }

    /// Takes the function when building is done; every `open` must have been `close`d.
    pub fn finish(mut self) -> Function {
        debug_assert_eq!(self.blocks.len(), 1, "unbalanced open/close");
        self.f.body = Block {
            stmts: self.blocks.drain(..).next().unwrap_or_default(),
        };
        self.f
    }

    /// The current value of a variable, read here or shared with a read since its last write.
    pub fn read_var(&mut self, var: VarId, ty: Ty, span: Span) -> NodeId {
        if let Some(&read) = self.reads.get(&var) {
            return read;
        }
        let read = self.add(Op::ReadVar(var), Vec::new(), ty, span);
        self.reads.insert(var, read);
        read
    }

    /// Forgets the shared read of what `stmt` writes.
    fn written(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Decl(v, _) | Stmt::Assign(v, _, _) => {
                self.reads.remove(v);
            }
            Stmt::Store(store) => {
                self.reads.remove(&store.var);
            }
            Stmt::Branch(_) | Stmt::Loop(_) => self.reads.clear(),
            Stmt::Let(_)
            | Stmt::Pullback(_)
            | Stmt::Effect(_)
            | Stmt::Push(..)
            | Stmt::Rewind(_) => {}
        }
    }

    /// Appends a statement to the innermost block.
    pub fn push(&mut self, stmt: Stmt) {
        self.written(&stmt);
        if let Some(block) = self.blocks.last_mut() {
            block.push(stmt);
        }
    }

    /// Appends a statement to the block at `depth` (1 = top level), ahead of whatever nested
    /// statement is still being built inside it.
    pub fn push_at(&mut self, depth: usize, stmt: Stmt) {
        self.written(&stmt);
        let i = depth.clamp(1, self.blocks.len()) - 1;
        self.blocks[i].push(stmt);
    }

    /// Puts a statement first in the block at `depth`.
    pub fn push_front_at(&mut self, depth: usize, stmt: Stmt) {
        self.written(&stmt);
        let i = depth.clamp(1, self.blocks.len()) - 1;
        self.blocks[i].insert(0, stmt);
    }

    /// A node that is never shared, with a `Let` here.
    pub fn fresh_like(&mut self, op: Op, args: Vec<NodeId>, ty: Ty, span: Span) -> NodeId {
        let id = self.append(op, args, ty, span);
        self.push(Stmt::Let(id));
        id
    }

    /// A node defined by a statement rather than a `Let` (a loop's variable).
    pub fn unbound(&mut self, op: Op, ty: Ty, span: Span) -> NodeId {
        self.append(op, Vec::new(), ty, span)
    }

    /// Makes an existing node reusable by `add` in the current scope.
    pub fn remember(&mut self, id: NodeId) {
        let node = self.f.node(id);
        if node.op.is_positional() {
            return;
        }
        let key = (node.op, node.args.clone(), node.ty);
        if !self.table.contains_key(&key) {
            self.table.insert(key.clone(), (id, self.logs.len() - 1));
            if let Some(log) = self.logs.last_mut() {
                log.push(key);
            }
        }
    }

    /// The node computing `op(args)`: folded, shared, or new (with a `Let` here).
    pub fn add(&mut self, op: Op, args: Vec<NodeId>, ty: Ty, span: Span) -> NodeId {
        let depth = self.depth();
        self.add_at(depth, op, args, ty, span)
    }

    /// Like `add`, but a new node is placed in (and scoped to) the block at `depth`, ahead of
    /// the nested statement being built there: a value the reverse sweep recomputes goes to
    /// the block of the value it stands for, where every later use can share it.
    pub fn add_at(
        &mut self,
        depth: usize,
        op: Op,
        args: Vec<NodeId>,
        ty: Ty,
        span: Span,
    ) -> NodeId {
        if self.fold {
            match fold::fold(&self.f, op, &args, ty) {
                Folded::No => {}
                Folded::To(id) => return id,
                Folded::Float(v) => {
                    let fty = match ty {
                        Ty::Float(t) => t,
                        _ => FloatTy::F64,
                    };
                    return self.float(v, fty, span);
                }
                Folded::Int(v) => return self.int(v, span),
                Folded::Bool(v) => return self.bool(v, span),
                Folded::Neg(a) => return self.add_at(depth, Op::Neg, vec![a], ty, span),
            }
        }
        if op.is_leaf() {
            return self.leaf(op, ty, span);
        }
        let key = (op, args, ty);
        let i = depth.clamp(1, self.blocks.len()) - 1;
        // A node of a block nested deeper than `i` does not reach block `i`: a new node is
        // built there, and not shared, since the deeper entry shadows it until its block
        // closes.
        let mut share = !op.is_positional();
        if share && let Some(&(id, block)) = self.table.get(&key) {
            if block <= i {
                return id;
            }
            share = false;
        }
        let (op, args, ty) = key;
        let id = self.append(op, args.clone(), ty, span);
        self.blocks[i].push(Stmt::Let(id));
        if share {
            let key = (op, args, ty);
            self.table.insert(key.clone(), (id, i));
            self.logs[i].push(key);
        }
        id
    }

    /// A node with no `Let`: printed wherever it is used (the right side of `&&`).
    pub fn floating(&mut self, op: Op, args: Vec<NodeId>, ty: Ty, span: Span) -> NodeId {
        self.append(op, args, ty, span)
    }

    /// A leaf (shared everywhere, never let-bound).
    pub fn leaf(&mut self, op: Op, ty: Ty, span: Span) -> NodeId {
        let key = (op, Vec::new(), ty);
        if let Some(&(id, _)) = self.table.get(&key) {
            return id;
        }
        let id = self.append(op, Vec::new(), ty, span);
        // Leaves are not logged: they stay valid when the scope that made them closes.
        self.table.insert(key, (id, 0));
        id
    }

    /// A fresh phi (defined by the `Branch` the caller builds; no `Let`).
    pub fn phi(&mut self, ty: Ty, span: Span) -> NodeId {
        self.phis += 1;
        self.append(Op::Phi(self.phis), Vec::new(), ty, span)
    }

    /// A literal float of a known type, made by a transform.
    pub fn float(&mut self, value: f64, ty: FloatTy, span: Span) -> NodeId {
        let lit = Lit {
            value: LitValue::Float(value),
            tokens: None,
        };
        self.literal(lit, Ty::Float(ty), span)
    }

    /// A literal integer made by a transform.
    pub fn int(&mut self, value: i128, span: Span) -> NodeId {
        let lit = Lit {
            value: LitValue::Int(value),
            tokens: None,
        };
        self.literal(lit, Ty::Int, span)
    }

    /// A literal bool.
    pub fn bool(&mut self, value: bool, span: Span) -> NodeId {
        let lit = Lit {
            value: LitValue::Bool(value),
            tokens: None,
        };
        self.literal(lit, Ty::Bool, span)
    }

    /// A literal the user wrote, printed back as written.
    pub fn user_literal(
        &mut self,
        value: LitValue,
        tokens: TokenStream,
        ty: Ty,
        span: Span,
    ) -> NodeId {
        let lit = Lit {
            value,
            tokens: Some(tokens),
        };
        self.literal(lit, ty, span)
    }

    fn literal(&mut self, lit: Lit, ty: Ty, span: Span) -> NodeId {
        let key = lit_key(&lit);
        let id = if let Some(&id) = self.lit_index.get(&key) {
            id
        } else {
            let id = LitId(u32::try_from(self.f.lits.len()).unwrap_or(u32::MAX));
            self.f.lits.push(lit);
            self.lit_index.insert(key, id);
            id
        };
        self.leaf(Op::Lit(id), ty, span)
    }

    fn append(&mut self, op: Op, args: Vec<NodeId>, ty: Ty, span: Span) -> NodeId {
        let id = NodeId(u32::try_from(self.f.nodes.len()).unwrap_or(u32::MAX));
        self.f.nodes.push(Node {
            op,
            args,
            ty,
            span,
            name: None,
        });
        id
    }

    /// Gives a node the user's name, unless it already has one (a shared node keeps the
    /// first name it was given).
    pub fn name(&mut self, id: NodeId, name: &str) {
        let node = &mut self.f.nodes[id.index()];
        if node.name.is_none() && !node.op.is_leaf() {
            node.name = Some(name.to_owned());
        }
    }
}

/// The text that identifies a literal for sharing.
fn lit_key(lit: &Lit) -> String {
    match (&lit.tokens, lit.value) {
        (Some(tokens), _) => format!("user {tokens}"),
        (None, LitValue::Float(v)) => format!("float {:016x}", v.to_bits()),
        (None, LitValue::Int(v)) => format!("int {v}"),
        (None, LitValue::Bool(v)) => format!("bool {v}"),
    }
}
