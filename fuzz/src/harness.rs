//! What the generated checks call: input points, dual seeds, and the [`Report`] that compares
//! the macro's results with the oracle's.

pub use crate::dual::{D, branch};
pub use crate::program::Rng;

/// Relative tolerance against the dual oracle: `|g − ref| ≤ TOL · max(1, |ref|)`, widened
/// by [`CANCELLATION`].
pub const TOL: f64 = 1e-10;

/// Where a derivative is a sum of terms far larger than itself, the oracle and the macro sum
/// them in different orders (forward and reverse), and agree only to about ε times the terms'
/// magnitude ([`D::magnitude`]): the tolerance grows by `CANCELLATION · magnitude`, about
/// 500 ulps of it. At ordinary points (magnitude close to |ref|) this changes nothing; next to
/// the origin, where `atan2` has partials of 1e300 that cancel to 1, it is what lets any
/// answer within rounding of the cancellation pass. NaN is never excused.
pub const CANCELLATION: f64 = 1e-13;

/// Special values for NaN hygiene: where the oracle has a derivative, so must the macro.
/// (Huge, infinite and NaN inputs are left out: their overflowing intermediates make `0 · ∞`
/// appear in an order that differs between any two correct differentiators.)
const SPECIAL: [f64; 5] = [0.0, -0.0, 1e-300, -1e-300, 1.0];

/// Points to check a program of `inputs` float inputs at: three inside every operation's
/// domain, and one with some inputs special (0, −0, tiny).
#[must_use]
pub fn points(r: &mut Rng, inputs: usize) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = (0..3)
        .map(|_| (0..inputs).map(|_| r.range(-1.5, 1.5)).collect())
        .collect();
    let special = (0..inputs)
        .map(|_| {
            if r.chance(0.5) {
                SPECIAL[r.below(SPECIAL.len())]
            } else {
                r.range(-1.5, 1.5)
            }
        })
        .collect();
    out.push(special);
    out
}

/// The unit vector `e_j` of dimension `n`.
#[must_use]
pub fn unit(n: usize, j: usize) -> Vec<f64> {
    (0..n).map(|k| if k == j { 1.0 } else { 0.0 }).collect()
}

/// A random direction of dimension `n`.
#[must_use]
pub fn direction(r: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| r.range(-1.0, 1.0)).collect()
}

/// The dual number `value + along·ε`.
#[must_use]
pub fn seed(value: f64, along: f64) -> D {
    D::new(value, along)
}

/// The outcome of checking programs.
#[derive(Debug, Default)]
pub struct Report {
    program: String,
    point: String,
    /// Programs checked.
    pub programs: usize,
    /// Values compared.
    pub comparisons: usize,
    /// Every disagreement, with the program's name.
    pub mismatches: Vec<String>,
    /// A hash of every bit the macro's functions produced (to compare builds), over the
    /// programs whose bits Rust fixes in every build (see `program::Check`).
    pub digest: u64,
    /// Whether the current program's values go into `digest`.
    pub digested: bool,
    /// Comparisons skipped because the dual oracle's own value left the function's (its
    /// arithmetic rounds differently, e.g. an unfused `mul_add`, and took another branch).
    pub diverged: usize,
    /// Comparisons that passed only by the [`CANCELLATION`] allowance.
    pub cancelled: usize,
    /// Comparisons skipped because an infinite value lies on a differentiated path to the
    /// result ([`D::infinite`]): the derivative there is a product with ∞ in it; and NaN
    /// where the oracle's derivative is infinite.
    pub singular: usize,
    /// NaN derivatives accepted as the README documents them: an infinite value fed a
    /// branch ([`crate::dual::infinite_branch`]), and the code before the branch was
    /// differentiated with the zero adjoint of the arm not taken (`0 · ∞`); or one is in
    /// another output of a Jacobian ([`Report::row`]).
    pub documented: usize,
    /// Whether an infinite value fed a branch at the current point.
    infinite_branch: bool,
}

impl Report {
    /// Starts checking `program`.
    pub fn begin(&mut self, program: &str) {
        program.clone_into(&mut self.program);
        self.programs += 1;
    }

    /// The point (and integer argument) being checked, for the messages.
    pub fn at(&mut self, x: &[f64], n: usize) {
        self.point = format!("at {x:?}, n = {n}");
        self.infinite_branch = false;
        crate::dual::infinite_branch();
    }

    fn mix(&mut self, v: f64) {
        if !self.digested {
            return;
        }
        // A NaN's sign and payload are not specified (constant folding and the CPU make
        // different ones), so every NaN counts as the same value.
        let v = if v.is_nan() { f64::NAN } else { v };
        // FNV-1a over the bits.
        let mut h = if self.digest == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.digest
        };
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.digest = h;
    }

    /// The function's value and a generated function's value must be the same bits.
    pub fn bits(&mut self, plain: &[f64], generated: &[f64]) {
        for (&a, &b) in plain.iter().zip(generated) {
            self.comparisons += 1;
            self.mix(b);
            if a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()) {
                self.mismatches.push(format!(
                    "{}: value {a:e} vs generated {b:e} {}",
                    self.program, self.point
                ));
            }
        }
    }

    /// A derivative against the dual oracle evaluated at the same point, whose value must be
    /// the function's, and finite (else the oracle took another path, or there is no
    /// derivative to speak of, and the comparison is skipped).
    pub fn dual(&mut self, ours: f64, oracle: D, plain: f64, what: &str) {
        self.compare(ours, oracle, plain, what, false);
    }

    /// Entry `i` of a Jacobian's column against the oracle's column: an infinite value in
    /// another output is, for this row, the README's documented NaN (the pullback of row `i`
    /// gives the other outputs a zero adjoint, times ∞).
    pub fn row(&mut self, ours: f64, column: &[D], i: usize, plain: f64, what: &str) {
        let other = column
            .iter()
            .enumerate()
            .any(|(k, c)| k != i && c.infinite());
        self.compare(ours, column[i], plain, what, other);
    }

    fn compare(&mut self, ours: f64, oracle: D, plain: f64, what: &str, nan_documented: bool) {
        let (a, b) = (oracle.re(), plain);
        let same_path =
            b.is_finite() && (a == b || (a - b).abs() <= 1e-13 * a.abs().max(b.abs()).max(1.0));
        self.infinite_branch |= crate::dual::infinite_branch();
        // Where the oracle's derivative is infinite (it overflowed: `x^-1.5` at 1e-300), a NaN
        // says as much; a finite answer is still compared (and fails).
        let infinite_derivative = oracle.eps().is_infinite() && ours.is_nan();
        if same_path && (oracle.infinite() || infinite_derivative) {
            self.comparisons += 1;
            self.mix(ours);
            self.singular += 1;
        } else if same_path && ours.is_nan() && (self.infinite_branch || nan_documented) {
            self.comparisons += 1;
            self.mix(ours);
            self.documented += 1;
        } else if same_path {
            self.close(ours, oracle.eps(), CANCELLATION * oracle.magnitude(), what);
        } else {
            self.comparisons += 1;
            self.mix(ours);
            self.diverged += 1;
        }
    }

    /// Reverse against forward: ⟨∇f, t⟩ from the gradient must be the jvp along `t`, to
    /// rounding of the terms Σ |∂ⱼf · tⱼ| and of the oracle's own cancellation (`along` is
    /// the oracle along `t`, for its magnitude). A cheap second check, on top of each against
    /// the oracle: it needs no oracle's value to be on the function's path.
    pub fn identity(&mut self, gradient: &[f64], t: &[f64], jvp: f64, along: D) {
        let terms: Vec<f64> = gradient.iter().zip(t).map(|(g, t)| g * t).collect();
        let dot: f64 = terms.iter().sum();
        if !dot.is_finite() || !jvp.is_finite() {
            // A NaN or infinite gradient entry has no inner product to speak of; the
            // comparisons with the oracle judge it.
            return;
        }
        self.comparisons += 1;
        let size: f64 = terms.iter().map(|v| v.abs()).sum();
        let tolerance = TOL * size.max(jvp.abs()).max(1.0) + CANCELLATION * along.magnitude();
        if (dot - jvp).abs() > tolerance {
            self.mismatches.push(format!(
                "{}: ⟨gradient, t⟩ {dot:e} vs jvp {jvp:e} {}",
                self.program, self.point
            ));
        }
    }

    /// A derivative must agree with the oracle's to `TOL`, and `slack` more (see
    /// [`CANCELLATION`]); NaN only where the oracle's is.
    fn close(&mut self, ours: f64, oracle: f64, slack: f64, what: &str) {
        self.comparisons += 1;
        self.mix(ours);
        let error = (ours - oracle).abs();
        let tolerance = TOL * oracle.abs().max(1.0);
        let agree = if oracle.is_nan() {
            true
        } else if oracle.is_infinite() {
            ours == oracle
        } else if error <= tolerance {
            true
        } else {
            let excused = error <= tolerance + slack;
            self.cancelled += usize::from(excused);
            excused
        };
        if !agree {
            self.mismatches.push(format!(
                "{}: {what} {ours:e} vs oracle {oracle:e} {}",
                self.program, self.point
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut r = Report::default();
        r.begin("p");
        r
    }

    #[test]
    fn magnitude_is_the_sum_of_the_paths_that_cancel() {
        // x·1e300 − x·1e300: tangent 0, paths of 1e300 each way.
        let x = seed(1.0, 1.0);
        let d = x * 1e300 - x * 1e300;
        assert_eq!((d.eps(), d.magnitude()), (0.0, 2e300));
        // tanh at 10 is known only to ε / (1 − tanh²) of its tangent.
        let t = seed(10.0, 1.0).tanh();
        assert!(t.magnitude() > 1e8 * t.eps());
    }

    #[test]
    fn an_infinite_value_upstream_is_singular_and_a_dead_one_is_not() {
        // 1 / ln(|x|⁻¹ᐟ²) at x = 0: finite, through ∞.
        let x = seed(0.0, 1.0);
        let through = x.powf(D::constant(-0.5)).ln().recip();
        assert!(through.re() == 0.0 && through.infinite());
        let mut r = report();
        r.dual(f64::NAN, through, 0.0, "gradient");
        assert_eq!((r.mismatches.len(), r.singular), (0, 1));
        // The same infinity left out of the result: `x + 0 · …` must still be checked.
        let dead = x + D::constant(0.0) * D::constant(through.re());
        assert!(!dead.infinite());
        r.dual(f64::NAN, dead, 0.0, "gradient");
        assert_eq!(r.mismatches.len(), 1);
    }

    #[test]
    fn nan_is_documented_only_where_an_infinite_value_fed_a_branch() {
        let mut r = report();
        r.at(&[0.0], 0);
        let x = seed(0.0, 1.0);
        let pole = x.powf(D::constant(-0.5));
        r.dual(f64::NAN, x, 0.0, "gradient");
        assert_eq!(r.mismatches.len(), 1, "no branch read the pole yet");
        let _ = branch(true, x, pole);
        r.dual(f64::NAN, x, 0.0, "gradient");
        r.dual(2.0, x, 0.0, "gradient");
        assert_eq!(
            (r.mismatches.len(), r.documented),
            (2, 1),
            "{:?}",
            r.mismatches
        );
        r.at(&[0.0], 0);
        r.dual(f64::NAN, x, 0.0, "gradient");
        assert_eq!(r.mismatches.len(), 3, "a new point starts clean");
    }

    #[test]
    fn cancellation_widens_the_tolerance_but_never_excuses_nan() {
        let mut r = report();
        let oracle = seed(1.0, 1.0) * 1e150 - seed(1.0, 1.0) * 1e150 + seed(0.0, 1.0);
        r.dual(1.0 + 1e135, oracle, 0.0, "gradient");
        assert_eq!((r.mismatches.len(), r.cancelled), (0, 1));
        r.dual(f64::NAN, oracle, 0.0, "gradient");
        r.dual(2.0, seed(0.0, 1.0), 0.0, "gradient");
        assert_eq!(r.mismatches.len(), 2, "{:?}", r.mismatches);
    }
}
