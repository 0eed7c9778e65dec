//! Differentiable helpers used in machine learning, in numerically stable forms.
//!
//! Each helper `h` comes with `h_pullback` (reverse mode) and `h_jvp` (forward mode) under the
//! naming convention `#[derive_grad]` uses for calls, so a differentiated function can call
//! `grad::sigmoid(x)` like any other function.

use crate::Real;

/// The logistic function `1 / (1 + e^-x)`, computed without overflow for large `|x|`.
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::sigmoid(0.0), 0.5);
/// assert!(grad::sigmoid(-800.0) >= 0.0);
/// ```
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// Reverse mode of [`sigmoid`]: `d_x += d_out · σ(x)(1 − σ(x))`.
pub fn sigmoid_pullback<T: Real>(x: T, d_out: T, d_x: &mut T) {
    let s = sigmoid(x);
    *d_x += times(s * (T::one() - s), d_out);
}

/// Forward mode of [`sigmoid`]: `(σ(x), σ(x)(1 − σ(x)) · t_x)`.
pub fn sigmoid_jvp<T: Real>(x: T, t_x: T) -> (T, T) {
    let s = sigmoid(x);
    (s, times(s * (T::one() - s), t_x))
}

/// The rectifier `max(x, 0)`. Its derivative is 1 for `x > 0` and 0 otherwise (0 at the kink).
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::relu(-2.0), 0.0);
/// assert_eq!(grad::relu(3.0), 3.0);
/// ```
pub fn relu<T: Real>(x: T) -> T {
    if x > T::zero() { x } else { T::zero() }
}

/// Reverse mode of [`relu`].
pub fn relu_pullback<T: Real>(x: T, d_out: T, d_x: &mut T) {
    if x > T::zero() {
        *d_x += d_out;
    }
}

/// Forward mode of [`relu`].
pub fn relu_jvp<T: Real>(x: T, t_x: T) -> (T, T) {
    if x > T::zero() {
        (x, t_x)
    } else {
        (T::zero(), T::zero())
    }
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it neither overflows nor loses
/// precision.
///
/// ```
/// # use grad_runtime as grad;
/// assert!((grad::softplus(0.0) - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(grad::softplus(1000.0), 1000.0);
/// ```
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Reverse mode of [`softplus`]: its derivative is [`sigmoid`].
pub fn softplus_pullback<T: Real>(x: T, d_out: T, d_x: &mut T) {
    *d_x += times(sigmoid(x), d_out);
}

/// Forward mode of [`softplus`].
pub fn softplus_jvp<T: Real>(x: T, t_x: T) -> (T, T) {
    (softplus(x), times(sigmoid(x), t_x))
}

/// `ln σ(x) = −softplus(−x)`, stable for large `|x|`.
///
/// ```
/// # use grad_runtime as grad;
/// assert!((grad::log_sigmoid(0.0) + 2f64.ln()).abs() < 1e-15);
/// assert_eq!(grad::log_sigmoid(-1000.0), -1000.0);
/// ```
pub fn log_sigmoid<T: Real>(x: T) -> T {
    x.min(T::zero()) - (-x.abs()).exp().ln_1p()
}

/// Reverse mode of [`log_sigmoid`]: its derivative is `σ(−x)`.
pub fn log_sigmoid_pullback<T: Real>(x: T, d_out: T, d_x: &mut T) {
    *d_x += times(sigmoid(-x), d_out);
}

/// Forward mode of [`log_sigmoid`].
pub fn log_sigmoid_jvp<T: Real>(x: T, t_x: T) -> (T, T) {
    (log_sigmoid(x), times(sigmoid(-x), t_x))
}

/// `ln Σ e^xᵢ`, shifted by the maximum so that it does not overflow. An empty slice gives −∞.
///
/// ```
/// # use grad_runtime as grad;
/// let v = grad::logsumexp(&[1000.0, 1000.0]);
/// assert!((v - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
pub fn logsumexp<T: Real>(xs: &[T]) -> T {
    let Some(&first) = xs.first() else {
        return -T::one() / T::zero();
    };
    let m = xs.iter().fold(first, |m, &x| m.max(x));
    // An infinite maximum would turn the shift into ∞ − ∞.
    if m.to_f64().is_infinite() {
        return m;
    }
    let mut sum = T::zero();
    for &x in xs {
        sum += (x - m).exp();
    }
    m + sum.ln()
}

/// Reverse mode of [`logsumexp`]: `d_xs[i] += d_out · softmax(xs)[i]`.
///
/// # Panics
///
/// If `d_xs` is shorter than `xs`.
pub fn logsumexp_pullback<T: Real>(xs: &[T], d_out: T, d_xs: &mut [T]) {
    let lse = logsumexp(xs);
    for (d, &x) in d_xs[..xs.len()].iter_mut().zip(xs) {
        *d += times((x - lse).exp(), d_out);
    }
}

/// Forward mode of [`logsumexp`]: `(lse, Σ softmax(xs)[i] · t_xs[i])`.
///
/// # Panics
///
/// If `t_xs` is shorter than `xs`.
pub fn logsumexp_jvp<T: Real>(xs: &[T], t_xs: &[T]) -> (T, T) {
    let lse = logsumexp(xs);
    let mut tangent = T::zero();
    for (&x, &t) in xs.iter().zip(&t_xs[..xs.len()]) {
        tangent += times((x - lse).exp(), t);
    }
    (lse, tangent)
}

/// Stop-gradient: returns `value` unchanged, and `#[derive_grad]` treats the result as a
/// constant, so no gradient flows through it.
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::no_grad(2.5), 2.5);
/// ```
pub fn no_grad<T>(value: T) -> T {
    value
}

/// `partial · v`, and 0 where the partial is 0 even if `v` is infinite (a caller's `√` at 0):
/// the strong zero generated code uses, so that an underflowed `σ′` does not make NaN. Only
/// the NaN is replaced, so that over dual numbers the product keeps its derivative.
fn times<T: Real>(partial: T, v: T) -> T {
    let product = partial * v;
    if partial == T::zero() && product.is_nan() {
        T::zero()
    } else {
        product
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    fn assert_close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{a} vs {b}");
    }

    #[test]
    fn sigmoid_matches_formula_and_its_pullback_matches_central_differences() {
        for x in [-30.0, -2.5, -0.1, 0.0, 0.7, 4.0, 30.0] {
            assert_close(sigmoid(x), 1.0 / (1.0 + f64::exp(-x)), 1e-15);
            let mut d = 0.0;
            sigmoid_pullback(x, 1.0, &mut d);
            assert_close(d, central(sigmoid, x), 1e-8);
            assert_eq!(sigmoid_jvp(x, 1.0).1, d);
        }
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn relu_has_zero_derivative_at_the_kink() {
        let mut d = 0.0;
        relu_pullback(0.0, 1.0, &mut d);
        assert_eq!(d, 0.0);
        relu_pullback(2.0, 3.0, &mut d);
        assert_eq!(d, 3.0);
        assert_eq!(relu_jvp(-1.0, 5.0), (0.0, 0.0));
    }

    #[test]
    fn softplus_and_log_sigmoid_are_stable_and_differentiate_correctly() {
        for x in [-50.0, -3.0, 0.0, 0.2, 5.0, 50.0] {
            assert_close(softplus(x), f64::ln_1p(f64::exp(x)), 1e-14);
            assert_close(log_sigmoid(x), sigmoid(x).ln(), 1e-14);
            let mut d = 0.0;
            softplus_pullback(x, 1.0, &mut d);
            assert_close(d, central(softplus, x), 1e-8);
            let mut d = 0.0;
            log_sigmoid_pullback(x, 1.0, &mut d);
            assert_close(d, central(log_sigmoid, x), 1e-8);
        }
        assert_eq!(softplus(1e4), 1e4);
        assert_eq!(log_sigmoid(-1e4), -1e4);
    }

    #[test]
    fn logsumexp_is_shifted_and_its_pullback_is_softmax() {
        let xs = [0.5, -1.0, 2.0, 2.0];
        let naive = xs.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
        assert_close(logsumexp(&xs), naive, 1e-15);
        let mut d = [0.0; 4];
        logsumexp_pullback(&xs, 2.0, &mut d);
        for (i, &di) in d.iter().enumerate() {
            let numeric = central(
                |v| {
                    let mut p = xs;
                    p[i] = v;
                    logsumexp(&p)
                },
                xs[i],
            );
            assert_close(di, 2.0 * numeric, 1e-8);
        }
        let t = [1.0, 0.0, -1.0, 0.5];
        let expected: f64 = d.iter().zip(&t).map(|(d, t)| d / 2.0 * t).sum();
        assert_close(logsumexp_jvp(&xs, &t).1, expected, 1e-15);
        assert_eq!(logsumexp::<f64>(&[]), f64::NEG_INFINITY);
        assert_eq!(logsumexp(&[f64::INFINITY, 1.0]), f64::INFINITY);
        assert_close(logsumexp(&[800.0, 800.0]), 800.0 + 2f64.ln(), 1e-15);
    }

    #[test]
    fn an_infinite_tangent_or_adjoint_meets_an_underflowed_derivative_as_zero() {
        assert_eq!(sigmoid_jvp(-800.0, f64::INFINITY), (0.0, 0.0));
        assert_eq!(softplus_jvp(-800.0, f64::INFINITY).1, 0.0);
        assert_eq!(log_sigmoid_jvp(800.0, f64::NEG_INFINITY).1, 0.0);
        let mut d = 0.0;
        sigmoid_pullback(800.0, f64::INFINITY, &mut d);
        softplus_pullback(-800.0, f64::INFINITY, &mut d);
        assert_eq!(d, 0.0);
        let mut d = [0.0; 2];
        logsumexp_pullback(&[0.0, -800.0], f64::INFINITY, &mut d);
        assert_eq!(d, [f64::INFINITY, 0.0]);
        assert_eq!(logsumexp_jvp(&[0.0, -800.0], &[1.0, f64::INFINITY]).1, 1.0);
        assert_eq!(sigmoid_jvp(0.0, f64::INFINITY).1, f64::INFINITY);
    }
}
