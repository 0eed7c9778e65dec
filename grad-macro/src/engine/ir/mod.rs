//! The intermediate representation: a hash-consed DAG of pure nodes, scheduled into a tree of
//! blocks.
//!
//! * [`Node`]s live in one append-only arena; operands always have smaller ids, so id order is
//!   a topological order. The [`builder`] shares a node when the same `(op, operands)` is
//!   built again in scope, which is common-subexpression elimination by construction.
//! * A [`Block`] is a list of [`Stmt`]s. `Let` places a node's evaluation; `Branch` is an
//!   `if`/`match` whose arms yield the values merged into its output phis. Control flow stays
//!   structured: the reverse sweep replays the arm that was taken.
//! * User scalars are SSA values. Mutable [`Var`]s appear only where the transforms need
//!   state (adjoint accumulators, `&mut` buffers).

pub mod builder;
pub mod dataflow;
pub mod display;
pub mod op;
pub mod verify;
pub mod visit;

use proc_macro2::{Span, TokenStream};
use std::collections::{BTreeSet, HashMap};

pub use op::{Bit, Cmp, Math, Op};

/// Index of a [`Node`] in [`Function::nodes`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NodeId(pub u32);

/// The symbol of a function's generic float type: lowering interns it first.
pub const GENERIC_FLOAT: SymId = SymId(0);

/// Index of a [`Var`] in [`Function::vars`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct VarId(pub u32);

/// Index of a [`Lit`] in [`Function::lits`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LitId(pub u32);

/// Index of an interned token stream in [`Function::syms`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SymId(pub u32);

impl NodeId {
    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl VarId {
    /// The index in [`Function::vars`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A float type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FloatTy {
    /// `f64`
    F64,
    /// `f32`
    F32,
    /// An unsuffixed literal whose precision comes from where it is used.
    Lit,
    /// A type parameter bounded by `Real`; the symbol is its name ([`GENERIC_FLOAT`]).
    Generic(SymId),
}

/// The type of a value, as far as the macro needs to know it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    /// A float: the only kind of value that carries a derivative.
    Float(FloatTy),
    /// Any integer type.
    Int,
    /// `bool`
    Bool,
    /// A type the macro cannot see (a constant, a call's result); never active.
    Unknown,
    /// A type known to hold no float (`char`, strings, `None`, a struct passed as a
    /// constant): never active, and no buffer when passed to a call.
    Other,
    /// An array, slice or `Vec` of `rank` dimensions (1 or 2).
    Array(Elem, u8),
}

/// What an array holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Elem {
    /// Floats: the array carries derivatives.
    Float(FloatTy),
    /// Anything else (indices, flags).
    Other,
}

impl Ty {
    /// `true` for floats.
    pub fn is_float(self) -> bool {
        matches!(self, Ty::Float(_))
    }

    /// Floats and arrays of floats: the values that can carry a derivative.
    pub fn float_shaped(self) -> bool {
        matches!(self, Ty::Float(_) | Ty::Array(Elem::Float(_), _))
    }

    /// Whether a callee's pullback has a buffer for an argument of this type: floats and
    /// float arrays, and values whose type the macro cannot see, which are taken to be floats
    /// (a wrong guess is rustc's argument-count error at the call, never a wrong derivative).
    pub fn takes_buffer(self) -> bool {
        self.float_shaped() || self == Ty::Unknown
    }

    /// `true` for arrays.
    pub fn is_array(self) -> bool {
        matches!(self, Ty::Array(..))
    }

    /// The float type of a float or of an array of floats.
    pub fn float_ty(self) -> Option<FloatTy> {
        match self {
            Ty::Float(t) | Ty::Array(Elem::Float(t), _) => Some(t),
            _ => None,
        }
    }

    /// The type of `a[i]`.
    pub fn element(self) -> Ty {
        match self {
            Ty::Array(Elem::Float(t), 1) => Ty::Float(t),
            Ty::Array(Elem::Other, 1) => Ty::Unknown,
            Ty::Array(e, r) => Ty::Array(e, r - 1),
            _ => Ty::Unknown,
        }
    }

    /// The type of an array of values of this type.
    pub fn array_of(self) -> Ty {
        match self {
            Ty::Float(t) => Ty::Array(Elem::Float(t), 1),
            Ty::Array(e, r) => Ty::Array(e, r.saturating_add(1)),
            _ => Ty::Array(Elem::Other, 1),
        }
    }

    /// The type of `a op b` for an arithmetic op: a known float wins over an unsuffixed
    /// literal or an unknown constant, as Rust's inference would decide.
    pub fn unify(self, other: Ty) -> Ty {
        match (self, other) {
            (Ty::Float(FloatTy::Lit), Ty::Float(t)) | (Ty::Float(t), Ty::Float(FloatTy::Lit)) => {
                Ty::Float(t)
            }
            (Ty::Unknown, t) | (t, Ty::Unknown) => t,
            (a, _) => a,
        }
    }
}

/// The value of a literal.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum LitValue {
    /// A float, with its type.
    Float(f64),
    /// An integer.
    Int(i128),
    /// A boolean.
    Bool(bool),
}

/// A literal, with the tokens the user wrote (if any) so emission reproduces them.
#[derive(Clone, Debug)]
pub struct Lit {
    /// The value, for folding.
    pub value: LitValue,
    /// The user's tokens; `None` for literals made by the transforms.
    pub tokens: Option<TokenStream>,
}

/// What a mutable variable is for; decides how it is declared and written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VarKind {
    /// A `let mut` local.
    Local,
    /// A `&mut` parameter of the generated function: written as `*name += v`.
    Buffer,
    /// A by-value parameter of the generated function (`d_out`).
    Param,
    /// A stack of values saved by the forward sweep for the reverse sweep; `Some(n)` holds at
    /// most `n` values and lives on the stack, `None` is a `Vec` reserved once.
    Tape(Option<u64>),
}

/// A mutable variable.
#[derive(Clone, Debug)]
pub struct Var {
    /// Preferred name, made unique at emission; when `of` is set, the prefix put before the
    /// name of that node (`d_`, `t_`).
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// How it is declared.
    pub kind: VarKind,
    /// The node whose adjoint (or tangent) this is: emission names it after that node.
    pub of: Option<NodeId>,
}

/// A node of the DAG.
#[derive(Clone, Debug)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Operands (node ids, all smaller than this node's id).
    pub args: Vec<NodeId>,
    /// Result type.
    pub ty: Ty,
    /// The user's expression this node comes from: errors in emitted code point here.
    pub span: Span,
    /// The user's name for this value (`let a = …`), if any.
    pub name: Option<String>,
}

/// How a branch chooses its arm.
#[derive(Clone, Debug)]
pub enum Selector {
    /// `if cond`: arm 0 when true, arm 1 when false.
    If(NodeId),
    /// `match scrutinee`: one pattern per arm, tried in order.
    Match(NodeId, Vec<SymId>),
}

/// One arm of a [`Branch`].
#[derive(Clone, Debug, Default)]
pub struct Arm {
    /// The statements of the arm.
    pub block: Block,
    /// One value per output of the branch.
    pub yields: Vec<NodeId>,
}

/// An `if` or `match`: exactly one arm runs, then its yields become the outputs.
#[derive(Clone, Debug)]
pub struct Branch {
    /// What picks the arm.
    pub selector: Selector,
    /// The arms.
    pub arms: Vec<Arm>,
    /// The phi nodes defined by this branch, one per yield.
    pub outputs: Vec<NodeId>,
}

/// Whether an assignment replaces or accumulates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AssignOp {
    /// `v = x`
    Set,
    /// `v += x`
    Add,
}

/// A buffer passed to a pullback call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum BufferArg {
    /// `&mut v` (or `&mut v[i]…`): accumulate into this variable.
    Var(VarId, Vec<NodeId>),
    /// Zeros shaped like this argument of the call (`&mut 0.0`, `&mut zeros_like(&w)`): the
    /// callee's contribution is discarded.
    Discard(NodeId),
}

/// A call of `path_pullback(args…, d_out, buffers…)`.
#[derive(Clone, Debug)]
pub struct PullbackCall {
    /// The callee as the user wrote it (`g`, `grad::sigmoid`).
    pub callee: SymId,
    /// The call's primal operands, as available in the reverse sweep.
    pub args: Vec<NodeId>,
    /// The adjoint of the call's result.
    pub d_out: NodeId,
    /// One buffer per float operand, in order.
    pub buffers: Vec<BufferArg>,
    /// The user's call expression.
    pub span: Span,
}

/// A statement macro of the user (`println!`, `assert!`), kept in the forward sweep.
#[derive(Clone, Debug)]
pub struct Effect {
    /// The macro invocation as written.
    pub tokens: TokenStream,
    /// The user's variables visible there, rebound around the macro so it sees their values.
    pub scope: Vec<(String, NodeId)>,
    /// Generated tokens (graph recording): each scope name is replaced by its value's
    /// expression instead of being rebound.
    pub substitute: bool,
}

/// `a[i][j] op= value` into an array variable.
#[derive(Clone, Debug)]
pub struct Store {
    /// The array.
    pub var: VarId,
    /// The indices, outermost first.
    pub path: Vec<NodeId>,
    /// `=` or `+=`.
    pub op: AssignOp,
    /// The value stored.
    pub value: NodeId,
}

/// An iterator adapter applied to a range, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Adapter {
    /// `.step_by(k)`
    StepBy(NodeId),
    /// `.rev()`
    Rev,
    /// `.take(n)`: in the reverse sweep, the iterations that ran before a `break`.
    Take(NodeId),
}

/// What a loop iterates over.
#[derive(Clone, Debug)]
pub enum LoopKind {
    /// `for i in (start..end).adapters…` (or `..=`).
    Range {
        /// First index.
        start: NodeId,
        /// End of the range.
        end: NodeId,
        /// `..=` rather than `..`.
        inclusive: bool,
        /// Adapters, in order.
        adapters: Vec<Adapter>,
        /// The bounds' integer type has ranges of known length (`ExactSizeIterator`, which
        /// `.step_by(k).rev()` and `.take(n).rev()` need): anything but 64- and 128-bit
        /// integers, and types the macro cannot see.
        exact: bool,
    },
    /// `while cond`: `header` computes `cond` before every iteration.
    While {
        /// Statements evaluating the condition.
        header: Block,
        /// The condition.
        cond: NodeId,
    },
    /// `loop`
    Infinite,
}

/// A loop. `break`, `continue` and `return` inside it are flags: the rest of an interrupted
/// iteration is skipped by a branch, and `exit` ends the loop after the iteration.
#[derive(Clone, Debug)]
pub struct Loop {
    /// What is iterated.
    pub kind: LoopKind,
    /// The loop variable of a range (an `Op::LoopIndex` node).
    pub index: Option<NodeId>,
    /// The body.
    pub body: Block,
    /// Evaluated at the end of the body: `true` leaves the loop.
    pub exit: Option<NodeId>,
    /// The number of iterations that ran, read after the loop (for the reverse sweep).
    pub trips: Option<NodeId>,
}

impl Loop {
    /// The nodes that decide how often the loop runs: a range's bounds and adapter operands,
    /// or a `while`'s condition.
    pub fn control(&self) -> Vec<NodeId> {
        match &self.kind {
            LoopKind::Range {
                start,
                end,
                adapters,
                ..
            } => [*start, *end]
                .into_iter()
                .chain(adapters.iter().filter_map(|a| match a {
                    Adapter::StepBy(x) | Adapter::Take(x) => Some(*x),
                    Adapter::Rev => None,
                }))
                .collect(),
            LoopKind::While { cond, .. } => vec![*cond],
            LoopKind::Infinite => Vec::new(),
        }
    }
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// Evaluate a node here.
    Let(NodeId),
    /// An `if` or `match`.
    Branch(Branch),
    /// Declare a mutable variable, initialised to a node or to zero.
    Decl(VarId, Option<NodeId>),
    /// Assign or accumulate into a variable.
    Assign(VarId, AssignOp, NodeId),
    /// Call a pullback.
    Pullback(PullbackCall),
    /// A side effect: a statement macro of the user's, or a graph recording.
    Effect(Effect),
    /// Store into an array variable.
    Store(Store),
    /// A loop.
    Loop(Box<Loop>),
    /// Push a value on a tape.
    Push(VarId, NodeId),
    /// Make a tape give back its values again, last pushed first (each reverse sweep of a
    /// Jacobian reads the tapes of the one forward sweep).
    Rewind(VarId),
}

/// A list of statements.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// In program order.
    pub stmts: Vec<Stmt>,
}

/// A parameter of a [`Function`].
#[derive(Clone, Debug)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its node (an `Op::Param` leaf).
    pub node: NodeId,
}

/// A function body in IR form.
#[derive(Clone, Debug, Default)]
pub struct Function {
    /// The node arena.
    pub nodes: Vec<Node>,
    /// Mutable variables.
    pub vars: Vec<Var>,
    /// Literals.
    pub lits: Vec<Lit>,
    /// Interned token streams (paths, types, patterns).
    pub syms: Vec<TokenStream>,
    /// Index of interned token streams by their text.
    pub sym_index: HashMap<String, SymId>,
    /// Parameters, in declaration order.
    pub params: Vec<Param>,
    /// The body.
    pub body: Block,
    /// The value the function returns.
    pub ret: Option<NodeId>,
    /// Nodes evaluated inside an arm but read after it (by the reverse sweep): they are
    /// declared before the outermost statement that contains them.
    pub hoisted: BTreeSet<NodeId>,
    /// Nodes given a `let` of their own where they would be printed inline at each use: a
    /// condition the reverse sweep reads after what it reads has changed.
    pub pinned: BTreeSet<NodeId>,
    /// The parameters (by index) whose rows are `Vec`s, which a row read borrows (`&xs[i]`)
    /// rather than copies.
    pub vec_rows: BTreeSet<u32>,
    /// The float parameters (by index) passed by reference (`x: &f64`): every generated
    /// body starts with `let x = *x;`, so that the IR's floats are values.
    pub float_refs: BTreeSet<u32>,
}

impl Function {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The variable with this id.
    pub fn var(&self, id: VarId) -> &Var {
        &self.vars[id.0 as usize]
    }

    /// The literal with this id.
    pub fn lit(&self, id: LitId) -> &Lit {
        &self.lits[id.0 as usize]
    }

    /// The token stream of an interned symbol.
    pub fn sym(&self, id: SymId) -> &TokenStream {
        &self.syms[id.0 as usize]
    }

    /// Interns a token stream (by its text).
    pub fn intern(&mut self, tokens: TokenStream) -> SymId {
        let text = tokens.to_string();
        if let Some(&id) = self.sym_index.get(&text) {
            return id;
        }
        let id = SymId(u32::try_from(self.syms.len()).unwrap_or(u32::MAX));
        self.syms.push(tokens);
        self.sym_index.insert(text, id);
        id
    }

    /// Adds a variable.
    pub fn add_var(&mut self, name: impl Into<String>, ty: Ty, kind: VarKind) -> VarId {
        let id = VarId(u32::try_from(self.vars.len()).unwrap_or(u32::MAX));
        self.vars.push(Var {
            name: name.into(),
            ty,
            kind,
            of: None,
        });
        id
    }

    /// The float value of a literal node, if it is one.
    pub fn float_lit(&self, id: NodeId) -> Option<f64> {
        match self.node(id).op {
            Op::Lit(l) => match self.lit(l).value {
                LitValue::Float(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// The integer value of a literal node, if it is one.
    pub fn int_lit(&self, id: NodeId) -> Option<i128> {
        match self.node(id).op {
            Op::Lit(l) => match self.lit(l).value {
                LitValue::Int(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// The bool value of a literal node, if it is one.
    pub fn bool_lit(&self, id: NodeId) -> Option<bool> {
        match self.node(id).op {
            Op::Lit(l) => match self.lit(l).value {
                LitValue::Bool(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Block {
    /// Visits every statement of this block and of the blocks nested in it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Stmt)) {
        for stmt in &self.stmts {
            visit(stmt);
            for block in stmt.blocks() {
                block.walk(visit);
            }
        }
    }
}

impl Stmt {
    /// Visits this statement, then every statement nested in it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Stmt)) {
        visit(self);
        for block in self.blocks() {
            block.walk(visit);
        }
    }

    /// The blocks nested directly in this statement (arms, a loop's header and body).
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::Branch(branch) => branch.arms.iter().map(|a| &a.block).collect(),
            Stmt::Loop(l) => match &l.kind {
                LoopKind::While { header, .. } => vec![header, &l.body],
                _ => vec![&l.body],
            },
            _ => Vec::new(),
        }
    }
}
