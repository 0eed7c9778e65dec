//! `#[derive_grad(hessian)]` against hand-derived second derivatives (tolerance
//! `1e-12 · max(1, |H|)`) and, for loops, central differences of the generated gradient
//! (`1e-6`). The value and gradient it returns are bit for bit those of `f` and `f_grad`, and
//! the Hessian is exactly symmetric.

use crate::assert_close;
use grad::derive_grad;

/// Checks value and gradient bits against `f` and `f_grad`, and exact symmetry.
macro_rules! check_consistent {
    ($f:ident, $grad:ident, ($($x:expr),+), $h:expr) => {{
        let (value, gradient, hessian) = $h;
        assert_eq!(value.to_bits(), $f($($x),+).to_bits());
        let g = $grad($($x),+).1;
        assert_eq!(
            gradient.iter().map(|v: &f64| v.to_bits()).collect::<Vec<_>>(),
            crate::Components::components(&g).iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        for i in 0..gradient.len() {
            for j in 0..gradient.len() {
                assert_eq!(hessian[i][j].to_bits(), hessian[j][i].to_bits(), "symmetry");
            }
        }
        hessian
    }};
}

fn assert_matrix<const N: usize>(actual: [[f64; N]; N], expected: [[f64; N]; N], what: &str) {
    for i in 0..N {
        assert_close(&actual[i], &expected[i], 1e-12, &format!("{what}: row {i}"));
    }
}

#[derive_grad(hessian)]
fn cubes(a: f64, b: f64) -> f64 {
    a * a * a + b.powi(3)
}

#[test]
fn sum_of_cubes() {
    for (a, b) in [(1.5, -2.0), (0.0, 3.0), (-0.7, 0.2)] {
        let h = check_consistent!(cubes, cubes_grad, (a, b), cubes_hessian(a, b));
        assert_matrix(h, [[6.0 * a, 0.0], [0.0, 6.0 * b]], "a³ + b³");
    }
}

#[derive_grad(hessian)]
fn projectile(u: f64, t: f64, g: f64) -> f64 {
    u * t + 0.5 * g * t * t
}

#[test]
fn projectile_height() {
    for (u, t, g) in [(3.0, 2.0, -9.81), (-1.0, 0.5, 1.6)] {
        let h = check_consistent!(
            projectile,
            projectile_grad,
            (u, t, g),
            projectile_hessian(u, t, g)
        );
        assert_matrix(
            h,
            [[0.0, 1.0, 0.0], [1.0, g, t], [0.0, t, 0.0]],
            "u·t + ½·g·t²",
        );
    }
}

#[derive_grad(hessian)]
fn tenth_power(x: f64) -> f64 {
    x.powi(10)
}

#[derive_grad(hessian)]
fn tenth_power_by_loop(x: f64) -> f64 {
    let mut y = 1.0;
    for _ in 0..10 {
        y *= x;
    }
    y
}

#[test]
fn x_to_the_tenth() {
    for x in [1.3_f64, -0.8, 2.0] {
        let expected = [[90.0 * x.powi(8)]];
        let h = check_consistent!(tenth_power, tenth_power_grad, (x), tenth_power_hessian(x));
        assert_matrix(h, expected, "x¹⁰ by powi");
        let h = check_consistent!(
            tenth_power_by_loop,
            tenth_power_by_loop_grad,
            (x),
            tenth_power_by_loop_hessian(x)
        );
        assert_matrix(h, expected, "x¹⁰ by a loop with a tape");
    }
}

#[derive_grad(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    let a = 1.0 - x;
    let b = y - x * x;
    a * a + 100.0 * b * b
}

#[test]
fn rosenbrock_valley() {
    for (x, y) in [(1.0, 1.0), (-1.2, 1.0), (0.3, -0.4)] {
        let h = check_consistent!(
            rosenbrock,
            rosenbrock_grad,
            (x, y),
            rosenbrock_hessian(x, y)
        );
        let expected = [
            [2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x],
            [-400.0 * x, 200.0],
        ];
        assert_matrix(h, expected, "Rosenbrock");
    }
}

#[derive_grad(hessian)]
fn branchy(x: f64, y: f64) -> f64 {
    if x > y { (x * y).sin() } else { x.exp() * y }
}

#[test]
fn only_the_branch_taken_is_differentiated_twice() {
    let (x, y) = (1.2, 0.5);
    let h = check_consistent!(branchy, branchy_grad, (x, y), branchy_hessian(x, y));
    let (s, c) = ((x * y).sin(), (x * y).cos());
    let expected = [[-y * y * s, c - x * y * s], [c - x * y * s, -x * x * s]];
    assert_matrix(h, expected, "sin(xy)");
    let (x, y) = (0.2, 0.5);
    let h = check_consistent!(branchy, branchy_grad, (x, y), branchy_hessian(x, y));
    let e = x.exp();
    assert_matrix(h, [[e * y, e], [e, 0.0]], "eˣ·y");
}

#[derive_grad(hessian)]
fn coupled(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let mut s = 0.0;
    let mut p = a;
    for k in 0..4 {
        let w = (k as f64 + 1.0) * 0.3;
        p = (p * b + c).sin() * w + d * p;
        s += p * p;
    }
    s / (1.0 + a * a)
}

#[test]
fn a_loop_with_every_parameter_coupled_matches_differences_of_the_gradient() {
    let x = [0.3, -0.8, 0.5, 0.9];
    let h = check_consistent!(
        coupled,
        coupled_grad,
        (x[0], x[1], x[2], x[3]),
        coupled_hessian(x[0], x[1], x[2], x[3])
    );
    let step = 1e-5;
    for j in 0..4 {
        let at = |s: f64| {
            let mut p = x;
            p[j] += s * step;
            let g = coupled_grad(p[0], p[1], p[2], p[3]).1;
            [g.0, g.1, g.2, g.3]
        };
        let (up, down) = (at(1.0), at(-1.0));
        for i in 0..4 {
            let numeric = (up[i] - down[i]) / (2.0 * step);
            assert!(
                (h[i][j] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0),
                "H[{i}][{j}] = {} vs {numeric}",
                h[i][j]
            );
        }
    }
}

/// Regression (found by the differential fuzzer): forward mode over the gradient folded
/// `−(−t)` to `t`, reaching past the hoisted tangent `−t` of a value of an arm to `t`, which
/// only the arm had.
#[derive_grad(hessian)]
pub fn hoisted_negation<T: grad::Real>(x0: T, x1: T, n: usize) -> T {
    for _ in 0..n {
        if x1 > T::from_f64(-0.49) {
            return T::sin(if x0 >= x1 { x1.ceil() } else { x1 }).powi(1);
        }
    }
    let v6 = -T::sin(x0) - (-x1);
    (-T::from_f64(1.56) - T::from_f64(-1.57) * v6).atan2(
        T::from_f64(0.3)
            / ((x1 * T::from_i32(n as i32) + T::one()) * (x1 * T::from_i32(n as i32) + T::one())
                + T::from_f64(0.5)),
    )
}

#[test]
fn a_hoisted_negated_tangent_is_not_folded_away() {
    for (x0, x1) in [(0.3, -0.7), (0.2, 0.4)] {
        let (_, _, h) = hoisted_negation_hessian(x0, x1, 2);
        let step = 1e-5;
        for j in 0..2 {
            let at = |s: f64| {
                let mut p = [x0, x1];
                p[j] += s * step;
                let g = hoisted_negation_grad(p[0], p[1], 2).1;
                [g.0, g.1]
            };
            let (up, down) = (at(1.0), at(-1.0));
            for i in 0..2 {
                let numeric = (up[i] - down[i]) / (2.0 * step);
                assert!(
                    (h[i][j] - numeric).abs() <= 1e-5 * numeric.abs().max(1.0),
                    "H[{i}][{j}] = {} vs {numeric}",
                    h[i][j]
                );
            }
        }
    }
}

#[derive_grad(hessian)]
fn scaled_root(x: f64, z: f64) -> f64 {
    x * z.sqrt()
}

#[test]
fn a_zero_adjoint_keeps_its_derivative() {
    // At x = 0 the adjoint reaching √z is 0, but its derivative along x is √z's partial:
    // ∂²/∂x∂z = 1/(2√z). A strong zero that answered 0 for any zero adjoint lost it.
    for (x, z) in [(0.0, 4.0), (0.0, 0.25), (1.5, 4.0)] {
        let h = check_consistent!(
            scaled_root,
            scaled_root_grad,
            (x, z),
            scaled_root_hessian(x, z)
        );
        let cross = 0.5 / z.sqrt();
        assert_matrix(
            h,
            [[0.0, cross], [cross, -x / (4.0 * z * z.sqrt())]],
            "x·√z",
        );
    }
}

#[derive_grad(hessian)]
fn power(a: f64, b: f64) -> f64 {
    a.powf(b)
}

#[test]
fn powf_at_a_zero_exponent_and_a_unit_base() {
    // ∂a = b·aᵇ⁻¹ is 0 at b = 0 but its derivative in b, aᵇ⁻¹(1 + b ln a), is not; ∂b = aᵇ ln a
    // is 0 at a = 1 but its derivative in a is not.
    for (a, b) in [(2.0_f64, 0.0_f64), (1.0, 0.5), (0.7, -1.3)] {
        let h = check_consistent!(power, power_grad, (a, b), power_hessian(a, b));
        let (p, ln) = (a.powf(b), a.ln());
        let expected = [
            [
                b * (b - 1.0) * a.powf(b - 2.0),
                a.powf(b - 1.0) * (1.0 + b * ln),
            ],
            [a.powf(b - 1.0) * (1.0 + b * ln), p * ln * ln],
        ];
        assert_matrix(h, expected, "aᵇ");
    }
}
