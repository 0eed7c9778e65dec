//! THE rule table: the local derivative of every op, one arm per op.
//!
//! `partial(op, i, cx)` is ∂ op / ∂ operand i, built as IR from the operands and the op's own
//! result (`cx.operand(i)`, `cx.output()`), or `None` for a structural zero. Reverse mode
//! multiplies it into the adjoint (`d_a += d_out * partial`), forward mode into the tangent
//! (`t_out += partial * t_a`): the two modes share this one table. Kinks follow the
//! conventions of API.md, each noted where it is decided.

use super::ir::builder::Builder;
use super::ir::{Cmp, FloatTy, Function, Math, NodeId, Op, Ty};
use super::plant::{Bug, planted};
use proc_macro2::Span;

/// A local derivative: the adjoint is multiplied by it, or divided by it where that reads
/// better and costs less (`d_a += d_out / b`).
#[derive(Clone, Copy, Debug)]
pub enum Partial {
    /// `d · p`
    Times(NodeId),
    /// `d / p`
    Over(NodeId),
}

/// What a rule needs: the op's operands and result as available where the derivative is
/// computed, and a builder for the derivative's nodes.
pub trait RuleCx {
    /// Operand `i`, available here.
    fn operand(&mut self, i: usize) -> NodeId;
    /// The op's own result, available here.
    fn output(&mut self) -> NodeId;
    /// Where derivative nodes are built.
    fn builder(&mut self) -> &mut Builder;
    /// The float type of the op's result.
    fn float_ty(&self) -> FloatTy;
    /// The user's span for the op.
    fn span(&self) -> Span;
}

/// Whether ∂ node / ∂ operand i can be infinite where the value is finite (`√x` at 0, `∛x`
/// at 0, `asin`/`acos` at ±1, `acosh` at 1, `x.powf(y)` at x = 0). Such a derivative is
/// multiplied by a "strong zero": a zero upstream adjoint (or tangent) contributes exactly
/// zero instead of `0 · ∞ = NaN`, so a kink that the result does not depend on, or another
/// row of a Jacobian, cannot turn the gradient into NaN.
pub fn singular(op: Op, i: usize) -> bool {
    matches!(
        (op, i),
        (
            Op::Math(Math::Sqrt | Math::Cbrt | Math::Asin | Math::Acos | Math::Acosh),
            _
        ) | (Op::Math(Math::Powf), 0)
    )
}

/// Whether a tangent carried through operand i of `node` can become infinite where the
/// value is finite: a [`singular`] derivative, or a call of the user's (its body may hold
/// one); the runtime's helpers (`grad::sigmoid`, …) have bounded derivatives.
pub fn unbounded(f: &Function, node: NodeId, i: usize) -> bool {
    let n = f.node(node);
    match n.op {
        Op::Call(callee) => !f.sym(callee).to_string().starts_with("grad ::"),
        op => singular(op, i),
    }
}

/// `if d == 0 && f64::is_nan(product) { 0 } else { product }`, for the product of `d` and a
/// factor that may be infinite: a singular derivative, or a tangent downstream of one.
///
/// Only a NaN product is replaced: where the other factor is finite, `d · x` is already 0 and
/// keeps its own derivative, which second derivatives (the Hessian, `_grad` over dual
/// numbers) need — at `x·√z` with x = 0, ∂²/∂x∂z = 1/(2√z) lives in that product.
pub fn strong_zero(b: &mut Builder, d: NodeId, product: NodeId, ty: Ty, span: Span) -> NodeId {
    // A literal factor decides now (`+`'s partial 1 needs no test).
    if let Some(v) = b.f.float_lit(d) {
        return if v == 0.0 {
            b.float(0.0, ty.float_ty().unwrap_or(FloatTy::F64), span)
        } else {
            product
        };
    }
    let zero = b.float(0.0, ty.float_ty().unwrap_or(FloatTy::F64), span);
    let vanishes = b.add(Op::Cmp(Cmp::Eq), vec![d, zero], Ty::Bool, span);
    let undefined = b.add(Op::IsNan, vec![product], Ty::Bool, span);
    let both = b.add(Op::And, vec![vanishes, undefined], Ty::Bool, span);
    b.add(Op::Select, vec![both, zero, product], ty, span)
}

/// Whether ∂ node / ∂ operand i can be non-zero (decides activity without building
/// anything).
pub fn passes_derivative(f: &Function, node: NodeId, i: usize) -> bool {
    let n = f.node(node);
    let arg_float = n.args.get(i).is_some_and(|&a| f.node(a).ty.float_shaped());
    if !n.ty.float_shaped() || !arg_float {
        return false;
    }
    match n.op {
        // Memory: an array literal or repetition carries the derivatives of its elements, an
        // element or row that of its array (not of its index).
        Op::Neg
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Rem
        | Op::Call(_)
        | Op::Cast(_)
        | Op::ArrayLit
        | Op::Repeat(_)
        | Op::VecRepeat
        | Op::SumAll => true,
        Op::Index | Op::Ref | Op::Copy => i == 0,
        Op::Math(m) => {
            !matches!(
                m,
                Math::Signum | Math::Floor | Math::Ceil | Math::Round | Math::Trunc
            ) && m.float_operand(i)
        }
        Op::Select => i > 0,
        Op::NoGrad
        | Op::Param(_)
        | Op::Lit(_)
        | Op::Const(_)
        | Op::Undef
        | Op::Phi(_)
        | Op::ReadVar(_)
        | Op::Cmp(_)
        | Op::Not
        | Op::IsNan
        | Op::And
        | Op::Or
        | Op::Bit(_)
        | Op::ConstCall(_)
        | Op::Method(_)
        | Op::Field(_)
        | Op::Jvp(_)
        | Op::Len
        | Op::Zeros
        | Op::LoopIndex(_)
        | Op::Pop(_) => false,
    }
}

/// ∂ op / ∂ operand `i`. Calls are not here: they are differentiated by calling the
/// callee's own pullback or jvp.
#[allow(
    clippy::match_same_arms,
    reason = "the table has one arm per op, even when two agree"
)]
pub fn partial(op: Op, i: usize, cx: &mut dyn RuleCx) -> Option<Partial> {
    use Partial::{Over, Times};
    let mut r = R { cx };
    Some(match (op, i) {
        (Op::Neg, _) => Times(r.c(-1.0)), //            d(−a) = −da
        (Op::Add, _) => Times(r.c(1.0)),  //            d(a + b) = da + db
        (Op::Sub, 0) => Times(r.c(1.0)),  //            d(a − b) = da − db
        (Op::Sub, _) => Times(r.c(-1.0)),
        (Op::Mul, 0) => Times(r.arg(1)), //             d(a·b) = b·da + a·db
        (Op::Mul, _) => Times(r.arg(0)),
        (Op::Div, 0) => Over(r.arg(1)), //              d(a/b) = da/b − (a/b)/b·db
        (Op::Div, _) => {
            let (out, b) = (r.out(), r.arg(1));
            let minus_out = r.neg(out);
            Times(r.div(minus_out, b))
        }
        (Op::Rem, 0) => Times(r.c(1.0)), //             d(a % b) = da − trunc(a/b)·db
        (Op::Rem, _) => {
            let (a, b) = (r.arg(0), r.arg(1));
            let q = r.div(a, b);
            let t = r.math(Math::Trunc, &[q]);
            Times(r.neg(t))
        }
        // A float-to-float cast passes the derivative through; the caller converts its type.
        (Op::Cast(_), _) => Times(r.c(1.0)),
        (Op::Select, 0) => return None,
        (Op::Select, k) => {
            // d select(c, a, b) = select(c, da, db)
            let c = r.arg(0);
            let (one, zero) = (r.c(1.0), r.c(0.0));
            let (yes, no) = if k == 1 { (one, zero) } else { (zero, one) };
            Times(r.select(c, yes, no))
        }
        (Op::Math(m), i) => return math(m, i, &mut r),
        _ => return None,
    })
}

#[allow(
    clippy::match_same_arms,
    reason = "the table has one arm per op, even when two agree"
)]
fn math(m: Math, i: usize, r: &mut R<'_>) -> Option<Partial> {
    use Partial::{Over, Times};
    Some(match (m, i) {
        (Math::Sin, _) => {
            let a = r.arg(0); //                        d sin a = cos a · da
            let cos = r.math(Math::Cos, &[a]);
            if planted(Bug::SignFlip) {
                return Some(Times(r.neg(cos)));
            }
            Times(cos)
        }
        (Math::Cos, _) => {
            let a = r.arg(0); //                        d cos a = −sin a · da
            let s = r.math(Math::Sin, &[a]);
            Times(r.neg(s))
        }
        (Math::Tan, _) => {
            let out = r.out(); //                       d tan a = (1 + tan² a) · da
            let sq = r.mul(out, out);
            let one = r.c(1.0);
            Times(r.add(one, sq))
        }
        (Math::Asin, _) => Over(r.sqrt_one_minus_sq()), // d asin a = da / √(1 − a²)
        (Math::Acos, _) => {
            let root = r.sqrt_one_minus_sq(); //        d acos a = −da / √(1 − a²)
            Over(r.neg(root))
        }
        (Math::Atan, _) => {
            let a = r.arg(0); //                        d atan a = da / (1 + a²)
            let sq = r.mul(a, a);
            let one = r.c(1.0);
            Over(r.add(one, sq))
        }
        (Math::Atan2, k) => {
            // d atan2(y, x) = (x·dy − y·dx) / (x² + y²); 0 at the origin, where it has none.
            // Where x² + y² underflows (1e-300) or overflows (1e200), divided twice by
            // hypot(y, x) instead.
            let (y, x) = (r.arg(0), r.arg(1));
            let top = if k == 0 { x } else { r.neg(y) };
            let (yy, xx) = (r.mul(y, y), r.mul(x, x));
            let norm = r.add(xx, yy);
            let (tiny, huge) = (
                r.named_constant("MIN_POSITIVE", f64::MIN_POSITIVE, f32::MIN_POSITIVE),
                r.named_constant("MAX", f64::MAX, f32::MAX),
            );
            let above = r.cmp(Cmp::Ge, norm, tiny, Ty::Bool);
            let below = r.cmp(Cmp::Le, norm, huge, Ty::Bool);
            let normal = r.bin(Op::And, above, below, Ty::Bool);
            let textbook = r.div(top, norm);
            let h = r.math(Math::Hypot, &[y, x]);
            let zero = r.c(0.0);
            let at_origin = r.cmp(Cmp::Eq, h, zero, Ty::Bool);
            let unit = r.div(top, h);
            let scaled = r.div(unit, h);
            let scaled = r.select(at_origin, zero, scaled);
            Times(r.select(normal, textbook, scaled))
        }
        (Math::Sinh, _) => {
            let a = r.arg(0); //                        d sinh a = cosh a · da
            Times(r.math(Math::Cosh, &[a]))
        }
        (Math::Cosh, _) => {
            let a = r.arg(0); //                        d cosh a = sinh a · da
            Times(r.math(Math::Sinh, &[a]))
        }
        (Math::Tanh, _) => {
            let out = r.out(); //                       d tanh a = (1 − tanh² a) · da
            let sq = r.mul(out, out);
            let one = r.c(1.0);
            Times(r.sub(one, sq))
        }
        (Math::Asinh, _) => {
            let a = r.arg(0); //                        d asinh a = da / √(a² + 1)
            let sq = r.mul(a, a);
            let one = r.c(1.0);
            let s = r.add(sq, one);
            Over(r.math(Math::Sqrt, &[s]))
        }
        (Math::Acosh, _) => {
            let a = r.arg(0); //                        d acosh a = da / √(a² − 1)
            let sq = r.mul(a, a);
            let one = r.c(1.0);
            let s = r.sub(sq, one);
            Over(r.math(Math::Sqrt, &[s]))
        }
        (Math::Atanh, _) => {
            let a = r.arg(0); //                        d atanh a = da / (1 − a²)
            let sq = r.mul(a, a);
            let one = r.c(1.0);
            Over(r.sub(one, sq))
        }
        (Math::Exp, _) => Times(r.out()), //            d eᵃ = eᵃ · da
        (Math::Exp2, _) => {
            let out = r.out(); //                       d 2ᵃ = 2ᵃ ln 2 · da
            let ln2 = r.ln2();
            Times(r.mul(out, ln2))
        }
        (Math::ExpM1, _) => {
            let out = r.out(); //                       d (eᵃ − 1) = eᵃ · da
            let one = r.c(1.0);
            Times(r.add(out, one))
        }
        (Math::Ln, _) => Over(r.arg(0)), //             d ln a = da / a
        (Math::Log, 0) => {
            let (a, base) = (r.arg(0), r.arg(1)); //    d log_b a = da / (a ln b)
            let ln_base = r.math(Math::Ln, &[base]);
            Over(r.mul(a, ln_base))
        }
        (Math::Log, _) => {
            let (out, base) = (r.out(), r.arg(1)); //   ∂/∂b log_b a = −log_b a / (b ln b)
            let ln_base = r.math(Math::Ln, &[base]);
            let den = r.mul(base, ln_base);
            let minus = r.neg(out);
            Times(r.div(minus, den))
        }
        (Math::Log10, _) => {
            let a = r.arg(0); //                        d log₁₀ a = da / (a ln 10)
            let ln10 = r.ln10();
            Over(r.mul(a, ln10))
        }
        (Math::Log2, _) => {
            let a = r.arg(0); //                        d log₂ a = da / (a ln 2)
            let ln2 = r.ln2();
            Over(r.mul(a, ln2))
        }
        (Math::Ln1p, _) => {
            let a = r.arg(0); //                        d ln(1 + a) = da / (1 + a)
            let one = r.c(1.0);
            Over(r.add(one, a))
        }
        (Math::Powi, 0) => {
            // d aⁿ = n·aⁿ⁻¹ · da, and exactly 0 when n = 0 (a⁰ = 1 everywhere).
            let (a, n) = (r.arg(0), r.arg(1));
            let zero_i = r.int(0);
            let n_is_zero = r.cmp(Cmp::Eq, n, zero_i, Ty::Bool);
            let one_i = r.int(1);
            let n_minus_1 = r.bin(Op::Sub, n, one_i, Ty::Int);
            let pow = r.math(Math::Powi, &[a, n_minus_1]);
            let n_float = r.int_to_float(n);
            let slope = r.mul(n_float, pow);
            let zero = r.c(0.0);
            let p = r.select(n_is_zero, zero, slope);
            if r.is_zero(p) {
                return None;
            }
            Times(p)
        }
        (Math::Powi, _) => return None,
        (Math::Powf, 0) => {
            // ∂/∂a aᵇ = b·aᵇ⁻¹, and 0 at a = b = 0 (a⁰ = 1 for every a: 0·0⁻¹ is not NaN).
            // Only there: at b = 0 elsewhere the formula is 0 already, and its derivative in
            // b, a⁻¹, is a second derivative's.
            let (a, b) = (r.arg(0), r.arg(1));
            let one = r.c(1.0);
            let b_minus_1 = r.sub(b, one);
            let pow = r.math(Math::Powf, &[a, b_minus_1]);
            let slope = r.mul(b, pow);
            let zero = r.c(0.0);
            let b_is_zero = r.cmp(Cmp::Eq, b, zero, Ty::Bool);
            let a_is_zero = r.cmp(Cmp::Eq, a, zero, Ty::Bool);
            let origin = r.bin(Op::And, b_is_zero, a_is_zero, Ty::Bool);
            Times(r.select(origin, zero, slope))
        }
        (Math::Powf, _) => {
            // ∂/∂b aᵇ = aᵇ ln a, and 0 where a = 0 (0ᵇ is flat in b for b > 0).
            let (a, out) = (r.arg(0), r.out());
            let ln_a = r.math(Math::Ln, &[a]);
            let slope = r.mul(out, ln_a);
            let zero = r.c(0.0);
            let a_is_zero = r.cmp(Cmp::Eq, a, zero, Ty::Bool);
            Times(r.select(a_is_zero, zero, slope))
        }
        (Math::Sqrt, _) => {
            // d √a = da / (2√a): +∞ at a = 0, the true one-sided derivative.
            let out = r.out();
            let half = r.c(0.5);
            Times(r.div(half, out))
        }
        (Math::Cbrt, _) => {
            let out = r.out(); //                       d ∛a = da / (3 ∛a²)
            let three = r.c(3.0);
            let t = r.mul(three, out);
            Over(r.mul(t, out))
        }
        (Math::Hypot, k) => {
            // ∂/∂a √(a² + b²) = a / hypot; 0 at the origin, where it has no derivative.
            let (a, out) = (r.arg(k), r.out());
            let zero = r.c(0.0);
            let at_origin = r.cmp(Cmp::Eq, out, zero, Ty::Bool);
            let slope = r.div(a, out);
            Times(r.select(at_origin, zero, slope))
        }
        (Math::Abs, _) => {
            // d|a| = signum(a)·da for a ≠ 0, and 0 at a = 0 (the kink convention).
            let a = r.arg(0);
            let zero = r.c(0.0);
            let at_zero = r.cmp(Cmp::Eq, a, zero, Ty::Bool);
            let sign = r.math(Math::Signum, &[a]);
            Times(r.select(at_zero, zero, sign))
        }
        (Math::Signum | Math::Floor | Math::Ceil | Math::Round | Math::Trunc, _) => return None,
        (Math::Max | Math::Min, k) => {
            // All to the operand whose value is returned; half each on a tie.
            let (a, b, out) = (r.arg(0), r.arg(1), r.out());
            let mine = r.arg(k);
            let tie = r.cmp(Cmp::Eq, a, b, Ty::Bool);
            let returned = r.cmp(Cmp::Eq, out, mine, Ty::Bool);
            let (half, one, zero) = (r.c(0.5), r.c(1.0), r.c(0.0));
            let won = r.select(returned, one, zero);
            if planted(Bug::Ties) {
                let first = r.c(if k == 0 { 1.0 } else { 0.0 });
                return Some(Times(r.select(tie, first, won)));
            }
            Times(r.select(tie, half, won))
        }
        (Math::Clamp, k) => {
            // 1 to `a` inside [lo, hi]; below or above, the bound that acts gets it.
            let (a, lo, hi) = (r.arg(0), r.arg(1), r.arg(2));
            let (one, zero) = (r.c(1.0), r.c(0.0));
            let acting = match k {
                0 => {
                    let above_lo = r.cmp(Cmp::Le, lo, a, Ty::Bool);
                    let below_hi = r.cmp(Cmp::Le, a, hi, Ty::Bool);
                    r.bin(Op::And, above_lo, below_hi, Ty::Bool)
                }
                1 => r.cmp(Cmp::Lt, a, lo, Ty::Bool),
                _ => r.cmp(Cmp::Gt, a, hi, Ty::Bool),
            };
            Times(r.select(acting, one, zero))
        }
        (Math::MulAdd, 0) => Times(r.arg(1)), //        d(a·b + c) = b·da + a·db + dc
        (Math::MulAdd, 1) => Times(r.arg(0)),
        (Math::MulAdd, _) => Times(r.c(1.0)),
        (Math::Recip, _) => {
            let out = r.out(); //                       d(1/a) = −(1/a)² · da
            let sq = r.mul(out, out);
            Times(r.neg(sq))
        }
        (Math::Fract, _) => Times(r.c(1.0)), //         d(a − trunc a) = da
        (Math::ToDegrees, _) => Times(r.constant(f64::to_degrees(1.0), f32::to_degrees(1.0))),
        (Math::ToRadians, _) => Times(r.constant(f64::to_radians(1.0), f32::to_radians(1.0))),
    })
}

/// Small builders over a [`RuleCx`], folding as they go.
struct R<'c> {
    cx: &'c mut dyn RuleCx,
}

impl R<'_> {
    fn ty(&self) -> Ty {
        Ty::Float(self.cx.float_ty())
    }
    fn arg(&mut self, i: usize) -> NodeId {
        self.cx.operand(i)
    }
    fn out(&mut self) -> NodeId {
        self.cx.output()
    }
    fn c(&mut self, value: f64) -> NodeId {
        let (ty, span) = (self.cx.float_ty(), self.cx.span());
        self.cx.builder().float(value, ty, span)
    }
    /// A constant whose f32 value is not the f64 one rounded (std computes them separately).
    fn constant(&mut self, double: f64, single: f32) -> NodeId {
        match self.cx.float_ty() {
            FloatTy::F32 => self.c(f64::from(single)),
            _ => self.c(double),
        }
    }
    /// `::core::f64::NAME` (or `f32`; `consts::LN_2`, `MAX`): named, exact, and what a reader
    /// expects.
    fn named_constant(&mut self, name: &str, double: f64, single: f32) -> NodeId {
        let (fty, span) = (self.cx.float_ty(), self.cx.span());
        let tokens = match fty {
            FloatTy::F32 => format!("::core::f32::{name}"),
            FloatTy::Generic(_) => return self.constant(double, single),
            FloatTy::F64 | FloatTy::Lit => format!("::core::f64::{name}"),
        };
        let b = self.cx.builder();
        let sym = b.f.intern(tokens.parse().unwrap_or_default());
        b.leaf(Op::Const(sym), Ty::Float(fty), span)
    }
    fn ln2(&mut self) -> NodeId {
        self.named_constant(
            "consts::LN_2",
            std::f64::consts::LN_2,
            std::f32::consts::LN_2,
        )
    }
    fn ln10(&mut self) -> NodeId {
        self.named_constant(
            "consts::LN_10",
            std::f64::consts::LN_10,
            std::f32::consts::LN_10,
        )
    }
    fn int(&mut self, value: i128) -> NodeId {
        let span = self.cx.span();
        self.cx.builder().int(value, span)
    }
    fn bin(&mut self, op: Op, a: NodeId, b: NodeId, ty: Ty) -> NodeId {
        let span = self.cx.span();
        self.cx.builder().add(op, vec![a, b], ty, span)
    }
    fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let ty = self.ty();
        self.bin(Op::Add, a, b, ty)
    }
    fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let ty = self.ty();
        self.bin(Op::Sub, a, b, ty)
    }
    fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let ty = self.ty();
        self.bin(Op::Mul, a, b, ty)
    }
    fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let ty = self.ty();
        self.bin(Op::Div, a, b, ty)
    }
    fn neg(&mut self, a: NodeId) -> NodeId {
        let (ty, span) = (self.ty(), self.cx.span());
        self.cx.builder().add(Op::Neg, vec![a], ty, span)
    }
    fn cmp(&mut self, cmp: Cmp, a: NodeId, b: NodeId, ty: Ty) -> NodeId {
        self.bin(Op::Cmp(cmp), a, b, ty)
    }
    fn math(&mut self, m: Math, args: &[NodeId]) -> NodeId {
        let (ty, span) = (self.ty(), self.cx.span());
        self.cx.builder().add(Op::Math(m), args.to_vec(), ty, span)
    }
    fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        let (ty, span) = (self.ty(), self.cx.span());
        self.cx.builder().add(Op::Select, vec![c, a, b], ty, span)
    }
    fn int_to_float(&mut self, n: NodeId) -> NodeId {
        let (ty, span) = (self.ty(), self.cx.span());
        let target = match self.cx.float_ty() {
            FloatTy::F32 => quote::quote!(f32),
            FloatTy::Generic(sym) => self.cx.builder().f.sym(sym).clone(),
            FloatTy::F64 | FloatTy::Lit => quote::quote!(f64),
        };
        let sym = self.cx.builder().f.intern(target);
        self.cx.builder().add(Op::Cast(sym), vec![n], ty, span)
    }
    /// `√(1 − a²)`, shared by `asin` and `acos`.
    fn sqrt_one_minus_sq(&mut self) -> NodeId {
        let a = self.arg(0);
        let sq = self.mul(a, a);
        let one = self.c(1.0);
        let s = self.sub(one, sq);
        self.math(Math::Sqrt, &[s])
    }
    fn is_zero(&mut self, id: NodeId) -> bool {
        self.cx.builder().f.float_lit(id) == Some(0.0)
    }
}
