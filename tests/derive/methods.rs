//! Every float method of the subset, in both its method form `x.m()` and its path form
//! `f64::m(x)`, against the dual-number oracle at points inside its domain (kinks are pinned
//! in `kinks.rs`).

/// A unary method: the method form is checked against duals; the path form must give the
/// same bits as the method form.
macro_rules! unary {
    ($($m:ident at $($x:expr),+;)*) => {$(
        mod $m {
            use crate::differentiate;

            differentiate! {
                fn method / method_grad / method_jvp (x) { x.$m() * (x + 0.5) }
                at $([$x]),+
            }

            #[grad::derive_grad]
            fn path(x: f64) -> f64 {
                f64::$m(x) * (x + 0.5)
            }

            #[test]
            fn the_path_form_is_the_method_form() {
                for x in [$($x),+] {
                    let (a, b) = (method_grad(x), path_grad(x));
                    assert_eq!(a.0.to_bits(), b.0.to_bits());
                    assert_eq!(a.1.to_bits(), b.1.to_bits());
                }
            }
        }
    )*};
}

unary! {
    sin at 0.3, -1.2, 2.5;
    cos at 0.3, -1.2, 2.5;
    tan at 0.3, -1.2, 0.9;
    asin at 0.3, -0.7, 0.95;
    acos at 0.3, -0.7, 0.95;
    atan at 0.3, -1.2, 25.0;
    sinh at 0.3, -1.2, 2.5;
    cosh at 0.3, -1.2, 2.5;
    tanh at 0.3, -1.2, 2.5;
    asinh at 0.3, -1.2, 25.0;
    acosh at 1.5, 2.0, 30.0;
    atanh at 0.3, -0.7, 0.95;
    exp at 0.3, -1.2, 2.5;
    exp2 at 0.3, -1.2, 2.5;
    exp_m1 at 1e-6, -1.2, 2.5;
    ln at 0.3, 1.2, 250.0;
    log10 at 0.3, 1.2, 250.0;
    log2 at 0.3, 1.2, 250.0;
    ln_1p at 1e-6, -0.5, 2.5;
    sqrt at 0.3, 1.2, 250.0;
    cbrt at 0.3, -1.2, 250.0;
    recip at 0.3, -1.2, 250.0;
    abs at 0.3, -1.2, 2.5;
    signum at 0.3, -1.2;
    floor at 0.3, -1.2, 2.5;
    ceil at 0.3, -1.2, 2.5;
    round at 0.3, -1.2, 2.5;
    trunc at 0.3, -1.2, 2.5;
    fract at 0.3, -1.2, 2.5;
    to_degrees at 0.3, -1.2, 2.5;
    to_radians at 30.0, -120.0, 2.5;
}

/// A binary method `x.m(y)` and its path form `f64::m(x, y)`.
macro_rules! binary {
    ($($m:ident at $([$x:expr, $y:expr]),+;)*) => {$(
        mod $m {
            use crate::differentiate;

            differentiate! {
                fn method / method_grad / method_jvp (x, y) { x.$m(y) * (x - y) }
                at $([$x, $y]),+
            }

            #[grad::derive_grad]
            fn path(x: f64, y: f64) -> f64 {
                f64::$m(x, y) * (x - y)
            }

            #[test]
            fn the_path_form_is_the_method_form() {
                for (x, y) in [$(($x, $y)),+] {
                    let (a, b) = (method_grad(x, y), path_grad(x, y));
                    assert_eq!(a.0.to_bits(), b.0.to_bits());
                    assert_eq!((a.1).0.to_bits(), (b.1).0.to_bits());
                    assert_eq!((a.1).1.to_bits(), (b.1).1.to_bits());
                }
            }
        }
    )*};
}

binary! {
    atan2 at [0.3, 1.5], [-1.2, -0.5], [2.5, -3.0];
    log at [0.3, 2.0], [5.0, 10.0], [250.0, 0.5];
    powf at [0.3, 1.5], [2.0, -0.5], [5.0, 3.0];
    hypot at [0.3, 1.5], [-1.2, -0.5], [2.5, -3.0];
    max at [0.3, 1.5], [-1.2, -0.5], [2.5, -3.0];
    min at [0.3, 1.5], [-1.2, -0.5], [2.5, -3.0];
}

mod ternary {
    use crate::differentiate;

    differentiate! {
        fn clamp / clamp_grad / clamp_jvp (x, lo, hi) { x.clamp(lo, hi) * (x + lo * hi) }
        at [0.5, -1.0, 1.0], [-2.0, -1.0, 1.0], [3.0, -1.0, 1.0]
    }

    differentiate! {
        fn mul_add / mul_add_grad / mul_add_jvp (x, a, b) { x.mul_add(a, b) * x }
        at [0.5, -1.0, 1.0], [-2.0, 3.0, 0.25]
    }

    differentiate! {
        fn powi / powi_grad / powi_jvp (x; n: i32) { x.powi(n) + x.powi(n + 1) }
        at [1.5; 3], [-0.5; 2], [2.0; -2], [0.7; 0]
    }

    #[grad::derive_grad]
    fn path_forms(x: f64, a: f64, b: f64, n: i32) -> f64 {
        f64::clamp(x, a, b) + f64::mul_add(x, a, b) + f64::powi(x, n)
    }

    #[grad::derive_grad]
    fn method_forms(x: f64, a: f64, b: f64, n: i32) -> f64 {
        x.clamp(a, b) + x.mul_add(a, b) + x.powi(n)
    }

    #[test]
    fn the_path_forms_are_the_method_forms() {
        for p in [(0.5, -1.0, 1.0, 3), (3.0, -1.0, 2.0, -2)] {
            assert_eq!(
                path_forms_grad(p.0, p.1, p.2, p.3),
                method_forms_grad(p.0, p.1, p.2, p.3)
            );
        }
    }
}

/// Regression (found by the differential fuzzer): a literal the derivative code folded to a
/// negative constant was printed unsuffixed as a method receiver, `(-0.47).mul_add(…)`, whose
/// float type Rust cannot infer.
#[grad::derive_grad]
fn folded_negative_receiver(x: f64) -> f64 {
    let mut m = x;
    for _ in 0..2 {
        m = (0.68_f64 - 1.15_f64).mul_add(m - x, x) * m;
    }
    m
}

#[test]
fn a_folded_negative_literal_can_receive_a_method() {
    let (_, d) = folded_negative_receiver_grad(0.8);
    let h = 1e-6;
    let numeric =
        (folded_negative_receiver(0.8 + h) - folded_negative_receiver(0.8 - h)) / (2.0 * h);
    assert!((d - numeric).abs() < 1e-6, "{d} vs {numeric}");
}

/// Regression (found by the differential fuzzer): `f64::cos(no_grad(c))` of a literal was
/// printed `no_grad(0.5).cos()`, whose float type Rust cannot infer.
#[grad::derive_grad]
fn method_on_a_constant_stop_gradient(x: f64) -> f64 {
    f64::cos(grad::no_grad(0.5)) * x
}

#[test]
fn a_stop_gradient_literal_can_receive_a_method() {
    assert_eq!(method_on_a_constant_stop_gradient_grad(2.0).1, 0.5f64.cos());
}
