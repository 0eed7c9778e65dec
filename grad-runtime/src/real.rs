//! The float types `#[derive_grad]` differentiates: `f64`, `f32`, and any type implementing
//! [`Real`].

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, Sub, SubAssign};

/// A real scalar: the operations and methods of `f64` that `#[derive_grad]` can differentiate.
///
/// `f64` and `f32` implement it by calling their inherent methods, so a function generic over
/// `T: Real` computes exactly what the concrete version computes. Implement it for your own
/// number type (a dual number, an interval, a logging wrapper) to run generated code on it.
///
/// Method names and signatures are those of `f64`, so the same source reads the same whether
/// it is written for `f64` or for `T: Real`. `Default` is zero, and gives tapes of a constant
/// size their storage without allocation.
///
/// ```
/// # use grad_runtime as grad;
/// use grad::Real;
///
/// fn smooth_abs<T: Real>(x: T, eps: T) -> T {
///     (x * x + eps * eps).sqrt()
/// }
/// assert_eq!(smooth_abs(3.0_f64, 4.0), 5.0);
/// assert_eq!(smooth_abs(3.0_f32, 4.0), 5.0);
/// ```
pub trait Real:
    Copy
    + 'static
    + Default
    + Debug
    + PartialEq
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// Converts an `f64` constant, rounding as `as` does.
    fn from_f64(value: f64) -> Self;
    /// Converts an integer exactly where the type can represent it.
    fn from_i32(value: i32) -> Self;
    /// The value as an `f64` (for reports and comparisons, never for derivatives).
    fn to_f64(self) -> f64;
    /// Additive identity.
    #[must_use]
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    /// Multiplicative identity.
    #[must_use]
    fn one() -> Self {
        Self::from_f64(1.0)
    }
    /// `true` if the value is NaN.
    fn is_nan(self) -> bool;

    /// Sine.
    #[must_use]
    fn sin(self) -> Self;
    /// Cosine.
    #[must_use]
    fn cos(self) -> Self;
    /// Tangent.
    #[must_use]
    fn tan(self) -> Self;
    /// Arcsine.
    #[must_use]
    fn asin(self) -> Self;
    /// Arccosine.
    #[must_use]
    fn acos(self) -> Self;
    /// Arctangent.
    #[must_use]
    fn atan(self) -> Self;
    /// Four-quadrant arctangent of `self` (y) and `other` (x).
    #[must_use]
    fn atan2(self, other: Self) -> Self;
    /// Hyperbolic sine.
    #[must_use]
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    #[must_use]
    fn cosh(self) -> Self;
    /// Hyperbolic tangent.
    #[must_use]
    fn tanh(self) -> Self;
    /// Inverse hyperbolic sine.
    #[must_use]
    fn asinh(self) -> Self;
    /// Inverse hyperbolic cosine.
    #[must_use]
    fn acosh(self) -> Self;
    /// Inverse hyperbolic tangent.
    #[must_use]
    fn atanh(self) -> Self;
    /// `e^self`.
    #[must_use]
    fn exp(self) -> Self;
    /// `2^self`.
    #[must_use]
    fn exp2(self) -> Self;
    /// `e^self − 1`, accurate near zero.
    #[must_use]
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    #[must_use]
    fn ln(self) -> Self;
    /// Logarithm in base `base`.
    #[must_use]
    fn log(self, base: Self) -> Self;
    /// Base-10 logarithm.
    #[must_use]
    fn log10(self) -> Self;
    /// Base-2 logarithm.
    #[must_use]
    fn log2(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    #[must_use]
    fn ln_1p(self) -> Self;
    /// Integer power.
    #[must_use]
    fn powi(self, n: i32) -> Self;
    /// Real power.
    #[must_use]
    fn powf(self, n: Self) -> Self;
    /// Square root.
    #[must_use]
    fn sqrt(self) -> Self;
    /// Cube root.
    #[must_use]
    fn cbrt(self) -> Self;
    /// `sqrt(self² + other²)` without undue overflow.
    #[must_use]
    fn hypot(self, other: Self) -> Self;
    /// Absolute value.
    #[must_use]
    fn abs(self) -> Self;
    /// `1`, `-1` or NaN by the sign of `self`.
    #[must_use]
    fn signum(self) -> Self;
    /// The larger value, ignoring NaN.
    #[must_use]
    fn max(self, other: Self) -> Self;
    /// The smaller value, ignoring NaN.
    #[must_use]
    fn min(self, other: Self) -> Self;
    /// Restricts the value to `[min, max]`.
    #[must_use]
    fn clamp(self, min: Self, max: Self) -> Self;
    /// `self * a + b` with one rounding.
    #[must_use]
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `1 / self`.
    #[must_use]
    fn recip(self) -> Self;
    /// Largest integer not above `self`.
    #[must_use]
    fn floor(self) -> Self;
    /// Smallest integer not below `self`.
    #[must_use]
    fn ceil(self) -> Self;
    /// Nearest integer, half away from zero.
    #[must_use]
    fn round(self) -> Self;
    /// Integer part.
    #[must_use]
    fn trunc(self) -> Self;
    /// Fractional part, `self - self.trunc()`.
    #[must_use]
    fn fract(self) -> Self;
    /// Radians to degrees.
    #[must_use]
    fn to_degrees(self) -> Self;
    /// Degrees to radians.
    #[must_use]
    fn to_radians(self) -> Self;
}

/// Implements [`Real`] for a primitive float by forwarding to its inherent methods, so
/// generic code computes bit for bit what concrete code computes.
macro_rules! impl_real_for_primitive {
    ($t:ident) => {
        impl Real for $t {
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[allow(clippy::cast_lossless, reason = "one body for f64 (lossless) and f32")]
            fn from_i32(value: i32) -> Self {
                value as $t
            }
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            impl_real_for_primitive!(@unary $t: sin cos tan asin acos atan sinh cosh tanh asinh
                acosh atanh exp exp2 exp_m1 ln log10 log2 ln_1p sqrt cbrt abs signum recip floor
                ceil round trunc fract to_degrees to_radians);
            impl_real_for_primitive!(@binary $t: atan2 log powf hypot max min);
            fn powi(self, n: i32) -> Self {
                $t::powi(self, n)
            }
            fn clamp(self, min: Self, max: Self) -> Self {
                $t::clamp(self, min, max)
            }
            fn mul_add(self, a: Self, b: Self) -> Self {
                $t::mul_add(self, a, b)
            }
        }
    };
    (@unary $t:ident: $($name:ident)*) => {
        $(fn $name(self) -> Self {
            $t::$name(self)
        })*
    };
    (@binary $t:ident: $($name:ident)*) => {
        $(fn $name(self, other: Self) -> Self {
            $t::$name(self, other)
        })*
    };
}

impl_real_for_primitive!(f64);
impl_real_for_primitive!(f32);

#[cfg(test)]
mod tests {
    use super::Real;

    fn through_trait<T: Real>(x: T) -> T {
        x.sin().mul_add(x.exp(), x.powi(3)).atan2(x.hypot(x.cbrt()))
    }

    #[test]
    fn generic_code_is_bit_identical_to_concrete_code() {
        for x in [0.3_f64, -1.7, 12.5, 1e-8] {
            let concrete = x.sin().mul_add(x.exp(), x.powi(3)).atan2(x.hypot(x.cbrt()));
            assert_eq!(through_trait(x).to_bits(), concrete.to_bits());
        }
        let x = 0.3_f32;
        let concrete = x.sin().mul_add(x.exp(), x.powi(3)).atan2(x.hypot(x.cbrt()));
        assert_eq!(through_trait(x).to_bits(), concrete.to_bits());
    }
}
