//! The rows of `f_jacobian` for a function returning `[f64; M]`, by reverse sweeps.
//!
//! The gradient's IR (one forward sweep, then one reverse sweep) becomes: the forward sweep
//! once, then `for i in 0..M` the reverse sweep seeded with the unit vector `eᵢ`, each tape
//! rewound first so that every sweep reads the values the one forward sweep saved, and the
//! adjoints of the parameters copied into row `i`. A function with more outputs than inputs
//! gets forward sweeps instead (one `_jvp` per column, in `generate`).

use super::ir::builder::Builder;
use super::ir::{
    AssignOp, Elem, FloatTy, Function, Loop, LoopKind, NodeId, Op, Stmt, Store, Ty, VarId, VarKind,
};
use super::reverse::Adjoint;
use super::signature::{Column, Offset};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// `f_jacobian`'s IR.
pub struct Rows {
    /// The forward sweep, then the loop of reverse sweeps filling the matrix.
    pub f: Function,
    /// The value.
    pub value: Option<NodeId>,
    /// The matrix, `[[0.0; N]; M]` before the sweeps.
    pub matrix: VarId,
}

/// Wraps the reverse sweep of `adjoint` (built in `Mode::Jacobian`) into one sweep per output.
pub fn rows(adjoint: Adjoint, columns: &[Column], width: &Offset, outputs: &syn::Expr) -> Rows {
    let Adjoint {
        mut f,
        value,
        seed,
        grads,
        sweep,
    } = adjoint;
    let reverse = f.body.stmts.split_off(sweep);
    let forward = std::mem::take(&mut f.body.stmts);
    let tapes: Vec<VarId> = (0..f.vars.len())
        .map(|v| VarId(u32::try_from(v).unwrap_or(u32::MAX)))
        .filter(|&v| matches!(f.var(v).kind, VarKind::Tape(_)))
        .collect();
    let float = f.var(seed).ty.float_ty().unwrap_or(FloatTy::F64);
    let mut r = Sweeps {
        b: Builder::new(f),
        span: Span::call_site(),
    };
    for stmt in forward {
        r.b.push(stmt);
    }
    let (m, width) = (r.size(outputs.to_token_stream()), width.expr());
    let zero = r.b.float(0.0, float, r.span);
    let row = r.repeat(zero, width, float, 1);
    let init = r.repeat(row, outputs.to_token_stream(), float, 2);
    let matrix =
        r.b.f
            .add_var("jacobian", Ty::Array(Elem::Float(float), 2), VarKind::Local);
    r.b.push(Stmt::Decl(matrix, Some(init)));

    let i = r.index("i");
    r.b.open();
    let unit = r.repeat(zero, outputs.to_token_stream(), float, 1);
    r.b.push(Stmt::Decl(seed, Some(unit)));
    let one = r.b.float(1.0, float, r.span);
    r.b.push(Stmt::Store(Store {
        var: seed,
        path: vec![i],
        op: AssignOp::Set,
        value: one,
    }));
    for tape in tapes {
        r.b.push(Stmt::Rewind(tape));
    }
    for stmt in reverse {
        r.b.push(stmt);
    }
    for column in columns {
        if let Some(adjoint) = grads[column.param] {
            r.copy(adjoint, column, matrix, i);
        }
    }
    r.close_loop(i, m);
    let mut f = r.b.finish();
    f.ret = value;
    Rows { f, value, matrix }
}

struct Sweeps {
    b: Builder,
    span: Span,
}

impl Sweeps {
    /// A length: an integer literal, or the constant expression as written.
    fn size(&mut self, tokens: TokenStream) -> NodeId {
        if let Ok(n) = syn::parse2::<syn::LitInt>(tokens.clone())
            && let Ok(n) = n.base10_parse::<i128>()
        {
            return self.b.int(n, self.span);
        }
        let sym = self.b.f.intern(tokens);
        self.b.leaf(Op::Const(sym), Ty::Int, self.span)
    }

    /// `[x; len]`, an array of the given rank.
    fn repeat(&mut self, x: NodeId, len: TokenStream, float: FloatTy, rank: u8) -> NodeId {
        let len = self.b.f.intern(len);
        let ty = Ty::Array(Elem::Float(float), rank);
        self.b.fresh_like(Op::Repeat(len), vec![x], ty, self.span)
    }

    /// A new loop index; the loop's body is opened by the caller.
    fn index(&mut self, name: &str) -> NodeId {
        let k = u32::try_from(self.b.f.nodes.len()).unwrap_or(u32::MAX);
        let index = self.b.unbound(Op::LoopIndex(k), Ty::Int, self.span);
        self.b.f.nodes[index.index()].name = Some(name.into());
        index
    }

    /// Closes the body opened after `index` into `for index in 0..end`.
    fn close_loop(&mut self, index: NodeId, end: NodeId) {
        let body = self.b.close();
        let start = self.b.int(0, self.span);
        self.b.push(Stmt::Loop(Box::new(Loop {
            kind: LoopKind::Range {
                start,
                end,
                inclusive: false,
                adapters: Vec::new(),
                exact: true,
            },
            index: Some(index),
            body,
            exit: None,
            trips: None,
        })));
    }

    /// `matrix[i][offset + k] = d_p[…]` for every element `k` of the parameter, row-major.
    fn copy(&mut self, adjoint: VarId, column: &Column, matrix: VarId, i: NodeId) {
        let ty = self.b.f.var(adjoint).ty;
        let read = self
            .b
            .fresh_like(Op::ReadVar(adjoint), Vec::new(), ty, self.span);
        let offset = self.offset(&column.offset);
        match column.dims.as_slice() {
            [] => {
                let at = offset.unwrap_or_else(|| self.b.int(0, self.span));
                self.store(matrix, i, at, read);
            }
            [len] => {
                let len = self.size(len.to_token_stream());
                let k = self.index("k");
                self.b.open();
                let element = self
                    .b
                    .add(Op::Index, vec![read, k], ty.element(), self.span);
                let at = self.plus(offset, k);
                self.store(matrix, i, at, element);
                self.close_loop(k, len);
            }
            [rows, cols] => {
                let (rows, cols) = (
                    self.size(rows.to_token_stream()),
                    self.size(cols.to_token_stream()),
                );
                let r = self.index("r");
                self.b.open();
                let row = self
                    .b
                    .add(Op::Index, vec![read, r], ty.element(), self.span);
                let c = self.index("c");
                self.b.open();
                let element =
                    self.b
                        .add(Op::Index, vec![row, c], ty.element().element(), self.span);
                let skip = self.b.add(Op::Mul, vec![r, cols], Ty::Int, self.span);
                let at = self.b.add(Op::Add, vec![skip, c], Ty::Int, self.span);
                let at = self.plus(offset, at);
                self.store(matrix, i, at, element);
                self.close_loop(c, cols);
                self.close_loop(r, rows);
            }
            _ => {}
        }
    }

    fn store(&mut self, matrix: VarId, i: NodeId, at: NodeId, value: NodeId) {
        self.b.push(Stmt::Store(Store {
            var: matrix,
            path: vec![i, at],
            op: AssignOp::Set,
            value,
        }));
    }

    fn offset(&mut self, offset: &Offset) -> Option<NodeId> {
        (offset.known != 0 || !offset.named.is_empty()).then(|| self.size(offset.expr()))
    }

    fn plus(&mut self, offset: Option<NodeId>, k: NodeId) -> NodeId {
        match offset {
            Some(o) => self.b.add(Op::Add, vec![o, k], Ty::Int, self.span),
            None => k,
        }
    }
}
