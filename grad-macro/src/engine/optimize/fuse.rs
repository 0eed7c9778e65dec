//! `let mut d = 0.0; d += x;` → `let mut d = x;`: a variable's first contribution is its
//! initial value, as for the adjoints of nodes. (The two differ only in the sign of a zero
//! gradient, which no convention fixes.)

use crate::engine::ir::{AssignOp, Block, Function, Op, Stmt, VarKind};

/// Fuses each zero declaration with an accumulation right after it.
pub fn fuse(f: &mut Function) {
    let mut body = std::mem::take(&mut f.body);
    block(f, &mut body);
    f.body = body;
}

fn block(f: &Function, block: &mut Block) {
    let mut k = 0;
    while k + 1 < block.stmts.len() {
        if let (Stmt::Decl(v, None), Stmt::Assign(w, AssignOp::Add, x)) =
            (&block.stmts[k], &block.stmts[k + 1])
            && v == w
            && f.var(*v).kind == VarKind::Local
            && !f.var(*v).ty.is_array()
            && !reads(f, *x, *v)
        {
            block.stmts[k] = Stmt::Decl(*v, Some(*x));
            block.stmts.remove(k + 1);
        }
        k += 1;
    }
    for stmt in &mut block.stmts {
        match stmt {
            Stmt::Branch(b) => b.arms.iter_mut().for_each(|a| self::block(f, &mut a.block)),
            Stmt::Loop(l) => self::block(f, &mut l.body),
            _ => {}
        }
    }
}

fn reads(f: &Function, n: crate::engine::ir::NodeId, v: crate::engine::ir::VarId) -> bool {
    let node = f.node(n);
    node.op == Op::ReadVar(v) || node.args.iter().any(|&a| reads(f, a, v))
}
