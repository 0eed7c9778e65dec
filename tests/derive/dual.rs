//! The independent oracle: forward-mode dual numbers from `num-dual`, wrapped so that the same
//! function body compiles for `f64` (differentiated by `#[derive_grad]`) and for `D`
//! (differentiated by dual arithmetic, which shares no code with the macro).
//!
//! Beside its tangent, a `D` carries the tangent's *magnitude*: the same chain rule with every
//! local derivative taken in absolute value, Σ over paths of |∏ partials| (a derivative whose
//! formula subtracts, `1 − tanh²`, counted at the size of its terms). Where the tangent is a
//! sum of huge terms that cancel (`x.atan2(y)` next to the origin along a direction where it
//! is constant), any two correct differentiators agree only to about ε · magnitude.
//!
//! And a `D` knows whether an infinite (or NaN) value that depends on the inputs lies on a
//! differentiated path to it ([`D::infinite`]): `x0 / ln(|x|⁻¹ᐟ²)` at x = 0 is finite, but
//! its derivative is a product with ∞ in it, whose value is a convention of the order in
//! which a differentiator multiplies (0 · ∞), not a number to compare.

#![allow(clippy::must_use_candidate, clippy::return_self_not_must_use)]

use num_dual::{Dual64, DualNum};
use std::cmp::Ordering;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

/// A dual number: a value and its derivative along one direction (and that derivative's
/// magnitude, and what lies upstream of it).
#[derive(Clone, Copy, Debug)]
pub struct D(pub Dual64, f64, Upstream);

/// What a value is computed from, along differentiated operations (whatever the direction
/// of the tangent: a path whose partials are 0 along this one still counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Upstream {
    /// Constants only.
    Constant,
    /// An input.
    Input,
    /// An input, through a value that is infinite, NaN, or so large that its square
    /// overflows (`|1e-300|^-0.6`: the derivatives around it overflow in any order).
    Infinity,
}

impl Default for D {
    fn default() -> D {
        D::constant(0.0)
    }
}

/// `|partial| · magnitude`, with a zero on either side winning (as the macro's strong zero).
fn through(partial: f64, magnitude: f64) -> f64 {
    if partial == 0.0 || magnitude == 0.0 {
        0.0
    } else {
        partial.abs() * magnitude
    }
}

impl D {
    pub fn constant(v: f64) -> D {
        D(Dual64::new(v, 0.0), 0.0, Upstream::Constant)
    }
    /// `value + along·ε`.
    pub fn new(value: f64, along: f64) -> D {
        D(Dual64::new(value, along), along.abs(), Upstream::Input)
    }
    /// Σ over the paths from the inputs of |∏ local derivatives · seed|.
    pub fn magnitude(self) -> f64 {
        self.1
    }
    /// Whether this value, or one upstream of it on a differentiated path, depends on an
    /// input and is not finite (or is finite only because its square is not).
    pub fn infinite(self) -> bool {
        self.upstream() == Upstream::Infinity
    }
    fn upstream(self) -> Upstream {
        let huge = self.re().is_nan() || self.re().abs() > f64::MAX.sqrt();
        if self.2 == Upstream::Input && huge {
            Upstream::Infinity
        } else {
            self.2
        }
    }
    /// This value, downstream of `operands` (a constant result that an operand's zero
    /// partial passes through: `|x|` at 0).
    fn after(self, operands: &[D]) -> D {
        let upstream = operands.iter().map(|o| o.upstream()).fold(self.2, Ord::max);
        D(self.0, self.1, upstream)
    }
    /// `f` applied to the tangent, its local derivative applied to the magnitude.
    fn lift(self, f: impl Fn(Dual64) -> Dual64) -> D {
        let partial = f(Dual64::new(self.re(), 1.0)).eps;
        D(f(self.0), through(partial, self.1), self.upstream())
    }
    /// The same for a function of two values.
    fn lift2(self, other: D, f: impl Fn(Dual64, Dual64) -> Dual64) -> D {
        let (a, b) = (self.re(), other.re());
        let pa = f(Dual64::new(a, 1.0), Dual64::from(b)).eps;
        let pb = f(Dual64::from(a), Dual64::new(b, 1.0)).eps;
        D(
            f(self.0, other.0),
            through(pa, self.1) + through(pb, other.1),
            self.upstream().max(other.upstream()),
        )
    }
    /// The same tangent, with the value `f64`'s own operation gives: where num-dual or a
    /// formula here rounds differently (`tanh` as `sinh / cosh`, an unfused `mul_add`), the
    /// oracle would otherwise take another branch further on, unseen when the result does
    /// not depend on it (`0 · h(x)`).
    fn exact(self, value: f64) -> D {
        D(Dual64::new(value, self.eps()), self.1, self.upstream())
    }
    /// The value with local derivatives `partials` along its operands (a zero tangent times
    /// an infinite partial contributes 0).
    fn chain(value: f64, partials: &[(f64, D)]) -> D {
        let (mut eps, mut magnitude) = (0.0, 0.0);
        let upstream = partials
            .iter()
            .map(|(_, o)| o.upstream())
            .fold(Upstream::Constant, Ord::max);
        for &(partial, operand) in partials {
            if operand.eps() != 0.0 {
                eps += partial * operand.eps();
            }
            magnitude += through(partial, operand.1);
        }
        D(Dual64::new(value, eps), magnitude, upstream)
    }
    /// The magnitude of a result whose local derivative is computed as a difference:
    /// `terms` is the size of what is subtracted, `difference` the derivative's size
    /// (`1 − tanh²` at tanh ≈ 1 is known only to ε / (1 − tanh²) relative).
    fn subtracting(self, terms: f64, difference: f64) -> D {
        if self.1 == 0.0 || difference == 0.0 {
            return self;
        }
        D(self.0, self.1 * (terms / difference.abs()).max(1.0), self.2)
    }
    pub fn re(self) -> f64 {
        self.0.re
    }
    pub fn eps(self) -> f64 {
        self.0.eps
    }
    pub fn is_finite(self) -> bool {
        self.re().is_finite()
    }
    pub fn is_nan(self) -> bool {
        self.re().is_nan()
    }
}

impl std::fmt::Display for D {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} + {}ε", self.re(), self.eps())
    }
}

macro_rules! binary {
    ($($trait:ident $method:ident),*) => {$(
        impl $trait for D {
            type Output = D;
            fn $method(self, rhs: D) -> D {
                if rhs.eps() == 0.0 && rhs.1 == 0.0 && rhs.2 == Upstream::Constant {
                    return $trait::$method(self, rhs.re());
                }
                self.lift2(rhs, $trait::$method)
            }
        }
        impl $trait<f64> for D {
            type Output = D;
            // By the scalar (num-dual's `Dual64 / f64` divides the tangent once; dividing
            // by a constant dual squares the divisor, which underflows near 1e-300).
            fn $method(self, rhs: f64) -> D {
                self.lift(|d| $trait::$method(d, rhs))
            }
        }
        impl $trait<D> for f64 {
            type Output = D;
            fn $method(self, rhs: D) -> D {
                D::constant(self).lift2(rhs, $trait::$method)
            }
        }
    )*};
}
binary!(Add add, Sub sub, Mul mul, Div div);

macro_rules! assign {
    ($($trait:ident $method:ident $op:tt),*) => {$(
        impl std::ops::$trait for D {
            fn $method(&mut self, rhs: D) {
                *self = *self $op rhs;
            }
        }
        impl std::ops::$trait<f64> for D {
            fn $method(&mut self, rhs: f64) {
                *self = *self $op rhs;
            }
        }
    )*};
}
assign!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /);

impl Rem for D {
    type Output = D;
    /// `a % b = a − trunc(a/b)·b`, differentiated with the quotient held constant.
    fn rem(self, rhs: D) -> D {
        let q = (self.re() / rhs.re()).trunc();
        (self - rhs * q).exact(self.re() % rhs.re())
    }
}

impl Rem<f64> for D {
    type Output = D;
    fn rem(self, rhs: f64) -> D {
        self % D::constant(rhs)
    }
}

impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D(-self.0, self.1, self.2)
    }
}

thread_local! {
    static INFINITE_BRANCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether an [infinite](D::infinite) value has fed a branch since the last call (and
/// starts again): decided it, or was the value of the arm not taken ([`branch`]). The result
/// does not depend on such a value, but the code before the branch computed it, and that is
/// where `_grad`'s documented NaN lives (`let r = x / y;` before `if y != 0.0 { r } else
/// { 0.0 }` at y = 0: the arm not taken gives `r` an adjoint of 0, times ∂r/∂y = ∞).
pub fn infinite_branch() -> bool {
    INFINITE_BRANCH.with(|c| c.replace(false))
}

fn fed_a_branch(values: &[D]) {
    if values.iter().any(|v| v.infinite()) {
        INFINITE_BRANCH.with(|c| c.set(true));
    }
}

/// `if first_taken { first } else { second }`, with both arms evaluated: the twin of an
/// `if` expression (and the choice `max`, `min` and `clamp` make), which records an
/// infinite value in the arm not taken.
pub fn branch(first_taken: bool, first: D, second: D) -> D {
    if first_taken {
        fed_a_branch(&[second]);
        first
    } else {
        fed_a_branch(&[first]);
        second
    }
}

impl PartialEq for D {
    fn eq(&self, other: &D) -> bool {
        fed_a_branch(&[*self, *other]);
        self.re() == other.re()
    }
}
impl PartialEq<f64> for D {
    fn eq(&self, other: &f64) -> bool {
        fed_a_branch(&[*self]);
        self.re() == *other
    }
}
impl PartialOrd for D {
    fn partial_cmp(&self, other: &D) -> Option<Ordering> {
        fed_a_branch(&[*self, *other]);
        self.re().partial_cmp(&other.re())
    }
}
impl PartialOrd<f64> for D {
    fn partial_cmp(&self, other: &f64) -> Option<Ordering> {
        fed_a_branch(&[*self]);
        self.re().partial_cmp(other)
    }
}

macro_rules! unary {
    ($($name:ident)*) => {$(
        pub fn $name(self) -> D {
            self.lift(|d| DualNum::$name(&d)).exact(self.re().$name())
        }
    )*};
}

/// The methods of the subset, by their `f64` names. Kinks are evaluated away from the kink
/// by the tests that use this oracle.
impl D {
    unary!(sin cos tan atan sinh cosh asinh exp exp2 exp_m1 ln log10 log2 ln_1p sqrt cbrt
        recip);
    pub fn tanh(self) -> D {
        let t = self.lift(|d| d.tanh()).exact(self.re().tanh());
        let t2 = t.re() * t.re();
        t.subtracting(1.0 + t2, 1.0 - t2)
    }
    pub fn atanh(self) -> D {
        self.lift_near_one(|d| d.atanh()).exact(self.re().atanh())
    }
    pub fn asin(self) -> D {
        self.lift_near_one(|d| d.asin()).exact(self.re().asin())
    }
    pub fn acos(self) -> D {
        self.lift_near_one(|d| d.acos()).exact(self.re().acos())
    }
    pub fn acosh(self) -> D {
        self.lift_near_one(|d| d.acosh()).exact(self.re().acosh())
    }
    /// [`D::lift`] for a function whose derivative's formula takes 1 − x² (or x² − 1).
    fn lift_near_one(self, f: impl Fn(Dual64) -> Dual64) -> D {
        let x2 = self.re() * self.re();
        self.lift(f).subtracting(1.0 + x2, 1.0 - x2)
    }
    pub fn powi(self, n: i32) -> D {
        self.lift(|d| d.powi(n)).exact(self.re().powi(n))
    }
    pub fn powf(self, n: D) -> D {
        self.lift2(n, |a, b| a.powd(b))
            .exact(self.re().powf(n.re()))
    }
    pub fn log(self, base: D) -> D {
        (self.ln() / base.ln()).exact(self.re().log(base.re()))
    }
    /// ∂y = x / (x² + y²), ∂x = −y / (x² + y²), with x and y scaled by the larger of them
    /// so that x² + y² neither underflows near the origin nor overflows far from it (num-dual's
    /// own `atan2` goes through y / x, whose square overflows when |x| ≪ |y|); 0 at the
    /// origin, as `#[derive_grad]`'s convention says.
    pub fn atan2(self, x: D) -> D {
        let (y, value) = (self, self.re().atan2(x.re()));
        if y.re() == 0.0 && x.re() == 0.0 {
            return D::constant(value).after(&[y, x]);
        }
        let scale = y.re().abs().max(x.re().abs());
        let (ys, xs) = (y.re() / scale, x.re() / scale);
        let r = (ys * ys + xs * xs) * scale;
        D::chain(value, &[(xs / r, y), (-ys / r, x)])
    }
    /// Scaled by the larger magnitude (a constant) so that squaring neither underflows near
    /// 0 nor overflows; derivative 0 at the origin, as `#[derive_grad]`'s convention says.
    pub fn hypot(self, other: D) -> D {
        let scale = self.re().abs().max(other.re().abs());
        if scale == 0.0 || !scale.is_finite() {
            return D::constant(self.re().hypot(other.re())).after(&[self, other]);
        }
        let (a, b) = (self / scale, other / scale);
        ((a * a + b * b).sqrt() * scale).exact(self.re().hypot(other.re()))
    }
    /// Fused, as `f64::mul_add`: an unfused value could take another branch further on.
    pub fn mul_add(self, a: D, b: D) -> D {
        (self * a + b).exact(self.re().mul_add(a.re(), b.re()))
    }
    /// Derivative 0 at 0, as `#[derive_grad]`'s convention says.
    pub fn abs(self) -> D {
        if self.re() == 0.0 {
            D::constant(0.0).after(&[self])
        } else if self.re() < 0.0 {
            -self
        } else {
            self
        }
    }
    pub fn signum(self) -> D {
        D::constant(self.re().signum())
    }
    /// Half to each operand on a tie, as `#[derive_grad]`'s convention says.
    pub fn max(self, other: D) -> D {
        if self.re() == other.re() {
            D(
                Dual64::new(self.re(), f64::midpoint(self.eps(), other.eps())),
                f64::midpoint(self.1, other.1),
                self.upstream().max(other.upstream()),
            )
        } else if self.re() > other.re() {
            branch(true, self, other)
        } else {
            branch(false, self, other)
        }
    }
    /// Half to each operand on a tie.
    pub fn min(self, other: D) -> D {
        -((-self).max(-other))
    }
    /// The bound that acts gets the derivative; `x` gets it for `lo ≤ x ≤ hi`.
    pub fn clamp(self, lo: D, hi: D) -> D {
        if self.re() < lo.re() {
            branch(true, lo, self)
        } else if self.re() > hi.re() {
            branch(true, hi, self)
        } else {
            self
        }
    }
    pub fn floor(self) -> D {
        D::constant(self.re().floor())
    }
    pub fn ceil(self) -> D {
        D::constant(self.re().ceil())
    }
    pub fn round(self) -> D {
        D::constant(self.re().round())
    }
    pub fn trunc(self) -> D {
        D::constant(self.re().trunc())
    }
    pub fn fract(self) -> D {
        self - self.trunc()
    }
    pub fn to_degrees(self) -> D {
        (self * (180.0 / std::f64::consts::PI)).exact(self.re().to_degrees())
    }
    pub fn to_radians(self) -> D {
        (self * (std::f64::consts::PI / 180.0)).exact(self.re().to_radians())
    }
}

/// The gradient of `f` at `x` by one dual evaluation per component.
pub fn gradient(f: impl Fn(&[D]) -> D, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let args: Vec<D> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| D::new(v, if i == j { 1.0 } else { 0.0 }))
                .collect();
            f(&args).eps()
        })
        .collect()
}

/// `|a − b| ≤ tol · max(1, |b|)` for every component.
pub fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * e.abs().max(1.0),
            "{what}: component {i}: {a} vs {e} (tolerance {tol:e})"
        );
    }
}

/// The `k`-th component of the direction the forward-mode tests differentiate along: every
/// component nonzero and distinct, so that each parameter's tangent matters.
pub fn direction(k: usize) -> f64 {
    [0.7, -1.3, 0.4, 1.1, -0.6][k % 5] * (1.0 + (k / 5) as f64)
}

/// The derivative of `f` at `x` along `t`, by one dual evaluation.
pub fn directional(f: impl Fn(&[D]) -> D, x: &[f64], t: &[f64]) -> f64 {
    let args: Vec<D> = x.iter().zip(t).map(|(&v, &d)| D::new(v, d)).collect();
    f(&args).eps()
}

/// Dual numbers are a `grad::Real`, so the same generic source runs on them: the user's own
/// function gives the oracle's derivatives, and generated functions run on duals give
/// derivatives of derivatives.
macro_rules! real_methods {
    (unary $($name:ident)*; binary $($b:ident)*) => {
        $(fn $name(self) -> D {
            D::$name(self)
        })*
        $(fn $b(self, other: D) -> D {
            D::$b(self, other)
        })*
    };
}

impl grad::Real for D {
    fn from_f64(value: f64) -> D {
        D::constant(value)
    }
    fn from_i32(value: i32) -> D {
        D::constant(f64::from(value))
    }
    fn to_f64(self) -> f64 {
        self.re()
    }
    fn is_nan(self) -> bool {
        self.re().is_nan()
    }
    fn powi(self, n: i32) -> D {
        D::powi(self, n)
    }
    fn clamp(self, lo: D, hi: D) -> D {
        D::clamp(self, lo, hi)
    }
    fn mul_add(self, a: D, b: D) -> D {
        D::mul_add(self, a, b)
    }
    real_methods! {
        unary sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp exp2 exp_m1 ln
            log10 log2 ln_1p sqrt cbrt recip abs signum floor ceil round trunc fract
            to_degrees to_radians;
        binary atan2 log powf hypot max min
    }
}

impl std::iter::Sum for D {
    fn sum<I: Iterator<Item = D>>(iter: I) -> D {
        iter.fold(D::constant(0.0), |a, b| a + b)
    }
}
