//! Gradient checking by central differences, as taught: the independent oracle for a gradient.

use core::fmt;

/// The gradient of `f` at `x` by central differences with step `h`:
/// `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h` for each component `i`.
///
/// `h = 1e-4` is the classic choice for checking by hand; the error is `O(h²)` plus rounding
/// of order `ε·|f| / h`. [`check_gradient`] picks a step scaled to each `xᵢ` instead.
///
/// ```
/// # use grad_runtime as grad;
/// let g = grad::numeric_gradient(|p| (p[0] + p[1]) * p[1].max(p[2]), &[1.0, 2.0, 0.0], 1e-4);
/// assert!((g[0] - 2.0).abs() < 1e-8 && (g[1] - 5.0).abs() < 1e-8 && g[2].abs() < 1e-8);
/// ```
pub fn numeric_gradient<F>(f: F, x: &[f64], h: f64) -> Vec<f64>
where
    F: Fn(&[f64]) -> f64,
{
    let mut point = x.to_vec();
    (0..x.len())
        .map(|i| central_difference(&f, &mut point, i, h))
        .collect()
}

/// One component of the central difference; restores `point[i]` before returning.
fn central_difference<F: Fn(&[f64]) -> f64>(f: &F, point: &mut [f64], i: usize, h: f64) -> f64 {
    let xi = point[i];
    point[i] = xi + h;
    let up = f(point);
    point[i] = xi - h;
    let down = f(point);
    point[i] = xi;
    (up - down) / (2.0 * h)
}

/// The step [`check_gradient`] uses for component value `x`: `ε^(1/3) · max(1, |x|)`, which
/// balances truncation and rounding error for central differences.
#[must_use]
pub fn check_step(x: f64) -> f64 {
    f64::EPSILON.cbrt() * x.abs().max(1.0)
}

/// One component of a [`GradientCheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentCheck {
    /// Index of the component.
    pub index: usize,
    /// The gradient under test.
    pub analytic: f64,
    /// The central-difference estimate.
    pub numeric: f64,
    /// `|analytic − numeric|`.
    pub abs_error: f64,
    /// `|analytic − numeric| / max(|analytic|, |numeric|)`, 0 when both are 0.
    pub rel_error: f64,
    /// Whether `abs_error ≤ tol · max(1, |numeric|)`.
    pub ok: bool,
}

/// The per-component comparison of an analytic gradient with central differences.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientCheck {
    /// The tolerance the components were checked against.
    pub tolerance: f64,
    /// One entry per component, in order.
    pub components: Vec<ComponentCheck>,
}

impl GradientCheck {
    /// `true` when every component is within tolerance.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.components.iter().all(|c| c.ok)
    }

    /// The largest absolute error over the components (0 for an empty gradient).
    #[must_use]
    pub fn max_abs_error(&self) -> f64 {
        self.components
            .iter()
            .map(|c| c.abs_error)
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for GradientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:>24}  {:>24}  {:>10}  {:>10}",
            "i", "analytic", "numeric", "abs err", "rel err"
        )?;
        for c in &self.components {
            writeln!(
                f,
                "{:>5}  {:>24.16e}  {:>24.16e}  {:>10.2e}  {:>10.2e}{}",
                c.index,
                c.analytic,
                c.numeric,
                c.abs_error,
                c.rel_error,
                if c.ok { "" } else { "  <-- over tolerance" }
            )?;
        }
        write!(
            f,
            "{} of {} components within tolerance {:e}",
            self.components.iter().filter(|c| c.ok).count(),
            self.components.len(),
            self.tolerance
        )
    }
}

/// Returned by [`check_gradient`] when some component is over tolerance; holds the report.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientMismatch(pub GradientCheck);

impl fmt::Display for GradientMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "gradient check failed:")?;
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for GradientMismatch {}

/// Compares `analytic` with the central-difference gradient of `f` at `x`, component by
/// component, with step [`check_step`]`(xᵢ)`.
///
/// A component passes when `|analytic − numeric| ≤ tol · max(1, |numeric|)`: absolute near
/// zero, relative elsewhere. Central differences are accurate to about `1e-10` relative for
/// smooth functions of moderate curvature, so `tol = 1e-6` is a safe default.
///
/// # Errors
///
/// [`GradientMismatch`] with the full report when any component is over tolerance.
///
/// # Panics
///
/// If `analytic` and `x` differ in length.
///
/// ```
/// # use grad_runtime as grad;
/// let f = |p: &[f64]| p[0] * p[1].sin();
/// let (x, y) = (1.5, 0.25);
/// let report = grad::check_gradient(f, &[x, y], &[y.sin(), x * y.cos()], 1e-6).unwrap();
/// assert!(report.max_abs_error() < 1e-8);
/// ```
pub fn check_gradient<F>(
    f: F,
    x: &[f64],
    analytic: &[f64],
    tol: f64,
) -> Result<GradientCheck, GradientMismatch>
where
    F: Fn(&[f64]) -> f64,
{
    assert_eq!(
        analytic.len(),
        x.len(),
        "check_gradient: the analytic gradient has {} components but x has {}",
        analytic.len(),
        x.len()
    );
    let mut point = x.to_vec();
    let components = analytic
        .iter()
        .enumerate()
        .map(|(index, &analytic)| {
            let numeric = central_difference(&f, &mut point, index, check_step(x[index]));
            let abs_error = (analytic - numeric).abs();
            let scale = analytic.abs().max(numeric.abs());
            let rel_error = if scale == 0.0 { 0.0 } else { abs_error / scale };
            ComponentCheck {
                index,
                analytic,
                numeric,
                abs_error,
                rel_error,
                ok: abs_error <= tol * numeric.abs().max(1.0),
            }
        })
        .collect();
    let report = GradientCheck {
        tolerance: tol,
        components,
    };
    if report.passed() {
        Ok(report)
    } else {
        Err(GradientMismatch(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_gradient_of_the_lecture_example() {
        let f = |p: &[f64]| (p[0] + p[1]) * p[1].max(p[2]);
        let g = numeric_gradient(f, &[1.0, 2.0, 0.0], 1e-4);
        for (gi, expected) in g.iter().zip([2.0, 5.0, 0.0]) {
            assert!((gi - expected).abs() < 1e-9, "{g:?}");
        }
    }

    #[test]
    fn a_wrong_gradient_is_reported_per_component() {
        let f = |p: &[f64]| p[0] * p[0] + 3.0 * p[1];
        let ok = check_gradient(f, &[2.0, 1.0], &[4.0, 3.0], 1e-7).unwrap();
        assert!(ok.passed());
        let err = check_gradient(f, &[2.0, 1.0], &[4.0, -3.0], 1e-7).unwrap_err();
        assert!(err.0.components[0].ok);
        assert!(!err.0.components[1].ok);
        assert!((err.0.components[1].abs_error - 6.0).abs() < 1e-6);
        let text = err.to_string();
        assert!(
            text.contains("over tolerance") && text.contains("1 of 2"),
            "{text}"
        );
    }

    #[test]
    #[should_panic(expected = "has 1 components but x has 2")]
    fn a_gradient_of_the_wrong_length_panics() {
        let _ = check_gradient(|p| p[0], &[1.0, 2.0], &[1.0], 1e-6);
    }
}
