//! IEEE-exact constant folding and algebraic identities, applied as derivative code is built.
//!
//! Only rewrites that give the same bits for every input are allowed: `x * 1 → x` is exact,
//! `x * 0 → 0` is not (NaN, ∞, −0), nor is `x + 0 → x` (−0 + 0 = +0), nor any
//! reassociation. Literal arithmetic is folded only when the precision is known, in that
//! precision; transcendental functions are never folded, because the host's libm need not
//! agree with the target's.

use crate::engine::ir::{Cmp, FloatTy, Function, Math, NodeId, Op, Ty};

/// The result of trying to fold.
pub enum Folded {
    /// No rewrite applies.
    No,
    /// The value is this existing node.
    To(NodeId),
    /// The value is this float literal.
    Float(f64),
    /// The value is this integer literal.
    Int(i128),
    /// The value is this bool literal.
    Bool(bool),
    /// The value is `-node`.
    Neg(NodeId),
}

/// Tries the exact rewrites for `op(args)` of type `ty`. A rewrite returns only literals and
/// the operands themselves, never their operands: those need not be available where the new
/// node is built.
pub fn fold(f: &Function, op: Op, args: &[NodeId], ty: Ty) -> Folded {
    let float = |i: usize| args.get(i).and_then(|&a| f.float_lit(a));
    let int = |i: usize| args.get(i).and_then(|&a| f.int_lit(a));
    let boolean = |i: usize| args.get(i).and_then(|&a| f.bool_lit(a));
    let precision = match ty {
        Ty::Float(FloatTy::F64) => Some(false),
        Ty::Float(FloatTy::F32) => Some(true),
        _ => None,
    };
    match op {
        Op::Neg => {
            if let Some(v) = float(0) {
                return Folded::Float(-v);
            }
            if let Some(v) = int(0).and_then(i128::checked_neg) {
                return Folded::Int(v);
            }
            // −(−x) = x is exact, but it would reach through `−x` to a value that may not be
            // available where the outer negation is built (a value of an arm, hoisted only
            // as `−x`): it is left to rustc.
            Folded::No
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            if let (Some(a), Some(b), Some(single)) = (float(0), float(1), precision) {
                return Folded::Float(arith(op, a, b, single));
            }
            if let (Some(a), Some(b)) = (int(0), int(1)) {
                let v = match op {
                    Op::Add => a.checked_add(b),
                    Op::Sub => a.checked_sub(b),
                    Op::Mul => a.checked_mul(b),
                    _ => None,
                };
                if let Some(v) = v {
                    return Folded::Int(v);
                }
            }
            identity(op, args, float(0), float(1))
        }
        Op::Cast(_) => match (int(0), ty) {
            // An integer literal converts exactly when it is small enough to be exact.
            (Some(v), Ty::Float(_)) if v.unsigned_abs() <= 1 << 24 => Folded::Float(v as f64),
            _ => Folded::No,
        },
        Op::Select => match boolean(0) {
            Some(true) => Folded::To(args[1]),
            Some(false) => Folded::To(args[2]),
            None if args[1] == args[2] => Folded::To(args[1]),
            None => Folded::No,
        },
        Op::Cmp(cmp) => match (int(0), int(1)) {
            (Some(a), Some(b)) => Folded::Bool(compare(cmp, a.cmp(&b))),
            _ => Folded::No,
        },
        Op::Not => boolean(0).map_or(Folded::No, |b| Folded::Bool(!b)),
        Op::Math(Math::Powi) if int(1) == Some(1) => Folded::To(args[0]),
        _ => Folded::No,
    }
}

/// `x * 1 = x`, `1 * x = x`, `x * -1 = -x`, `x / 1 = x`, `x - 0 = x`: exact for every `x`.
#[allow(
    clippy::match_same_arms,
    reason = "one identity per arm reads as the list it is"
)]
fn identity(op: Op, args: &[NodeId], a: Option<f64>, b: Option<f64>) -> Folded {
    let one = |v: Option<f64>| v == Some(1.0);
    let minus_one = |v: Option<f64>| v == Some(-1.0);
    match op {
        Op::Mul if one(b) => Folded::To(args[0]),
        Op::Mul if one(a) => Folded::To(args[1]),
        Op::Mul if minus_one(b) => Folded::Neg(args[0]),
        Op::Mul if minus_one(a) => Folded::Neg(args[1]),
        Op::Div if one(b) => Folded::To(args[0]),
        Op::Sub if b == Some(0.0) && b.is_some_and(f64::is_sign_positive) => Folded::To(args[0]),
        _ => Folded::No,
    }
}

/// Literal arithmetic in the literal's own precision.
fn arith(op: Op, a: f64, b: f64, single: bool) -> f64 {
    if single {
        let (a, b) = (a as f32, b as f32);
        f64::from(match op {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            _ => a / b,
        })
    } else {
        match op {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            _ => a / b,
        }
    }
}

fn compare(cmp: Cmp, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match cmp {
        Cmp::Lt => ordering == Less,
        Cmp::Le => ordering != Greater,
        Cmp::Gt => ordering == Greater,
        Cmp::Ge => ordering != Less,
        Cmp::Eq => ordering == Equal,
        Cmp::Ne => ordering != Equal,
    }
}
