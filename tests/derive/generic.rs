//! Functions generic over their float type (`T: grad::Real`): the generated functions are
//! generic too, so one source serves `f64`, `f32` and dual numbers. The oracle is the user's
//! own function run on dual numbers; the Hessian is checked against `_grad` run on dual
//! numbers (forward over reverse, computed by rustc from the generated code, with none of the
//! macro's Hessian code involved).

#![allow(clippy::needless_range_loop)]

use crate::{D, assert_close};
use grad::{Real, derive_grad};

#[derive_grad(jvp, hessian)]
pub fn softclip<T: Real>(x: T, y: T) -> T {
    let s = (x * y).sin() + T::from_f64(0.5) * x.powi(3);
    if s > T::zero() {
        s.sqrt() * y
    } else {
        s.max(y)
    }
}

#[derive_grad(hessian)]
pub fn composed<T>(x: T, y: T, z: T) -> T
where
    T: Real,
{
    let r = (x * x + y * y + z * z).sqrt();
    let mut acc = T::zero();
    for k in 1..4 {
        acc += (r * T::from_i32(k)).cos() / T::from_i32(k * k) + T::atan2(y, x) * z.tanh();
    }
    acc * x.exp_m1()
}

fn seed(v: f64, along: bool) -> D {
    D::new(v, if along { 1.0 } else { 0.0 })
}

const POINTS: [[f64; 3]; 3] = [[0.7, 1.3, 0.4], [1.5, -0.5, -1.2], [-0.3, 0.8, 2.0]];

#[test]
fn the_gradient_of_a_generic_function_matches_duals_of_the_same_source() {
    for p in POINTS {
        let (v, (dx, dy)) = softclip_grad(p[0], p[1]);
        assert_eq!(v.to_bits(), softclip(p[0], p[1]).to_bits());
        let expected = [
            softclip(seed(p[0], true), seed(p[1], false)).eps(),
            softclip(seed(p[0], false), seed(p[1], true)).eps(),
        ];
        assert_close(&[dx, dy], &expected, 1e-12, "softclip");
        let (_, t) = softclip_jvp(p[0], p[1], 0.3, -1.1);
        assert_close(&[t], &[0.3 * dx - 1.1 * dy], 1e-12, "softclip jvp");
    }
}

#[test]
fn one_source_serves_f32_and_f64() {
    let (v32, (dx32, dy32)) = softclip_grad(0.7_f32, 1.3_f32);
    let (v64, (dx64, dy64)) = softclip_grad(0.7_f64, 1.3_f64);
    assert_eq!(v32.to_bits(), softclip(0.7_f32, 1.3_f32).to_bits());
    for (a, b) in [(v32, v64), (dx32, dx64), (dy32, dy64)] {
        assert!(
            (f64::from(a) - b).abs() < 1e-5 * b.abs().max(1.0),
            "{a} vs {b}"
        );
    }
}

#[test]
fn the_gradient_on_dual_numbers_gives_the_hessian() {
    for p in POINTS {
        let (value, gradient, hessian) = softclip_hessian(p[0], p[1]);
        assert_eq!(value.to_bits(), softclip(p[0], p[1]).to_bits());
        let g = softclip_grad(p[0], p[1]).1;
        assert_eq!(
            [gradient[0].to_bits(), gradient[1].to_bits()],
            [g.0.to_bits(), g.1.to_bits()]
        );
        for j in 0..2 {
            let (_, (dx, dy)) = softclip_grad(seed(p[0], j == 0), seed(p[1], j == 1));
            assert_close(
                &[hessian[0][j], hessian[1][j]],
                &[dx.eps(), dy.eps()],
                1e-12,
                "column",
            );
        }

        let (_, _, hessian) = composed_hessian(p[0], p[1], p[2]);
        for j in 0..3 {
            let (_, (dx, dy, dz)) =
                composed_grad(seed(p[0], j == 0), seed(p[1], j == 1), seed(p[2], j == 2));
            let column = [hessian[0][j], hessian[1][j], hessian[2][j]];
            assert_close(
                &column,
                &[dx.eps(), dy.eps(), dz.eps()],
                1e-12,
                "composed column",
            );
        }
    }
}

/// A generic function calling another: the callee's generic `_pullback` is instantiated at
/// the caller's `T`.
#[derive_grad]
pub fn caller<T: Real>(x: T, y: T) -> T {
    softclip(x, y) * x + softclip(y, x)
}

#[test]
fn generic_functions_compose() {
    for p in POINTS {
        let (_, (dx, dy)) = caller_grad(p[0], p[1]);
        let expected = [
            caller(seed(p[0], true), seed(p[1], false)).eps(),
            caller(seed(p[0], false), seed(p[1], true)).eps(),
        ];
        assert_close(&[dx, dy], &expected, 1e-12, "caller");
    }
}

#[derive_grad(jvp)]
pub fn scaled_power<T: Real>(x: T, a: T, b: T) -> T {
    x * a.powf(b).sqrt()
}

#[test]
fn zero_partials_and_adjoints_keep_their_derivatives_over_duals() {
    // f = x·√(aᵇ). Where x = 0 the adjoint reaching √ is 0, and where b = 0 powf's ∂a is 0;
    // both still have derivatives, which `_grad` and `_jvp` over dual numbers must carry
    // (a strong zero that answered 0 for every zero factor dropped them). Hand-derived:
    // with r = aᵇᐟ², ∂x f = r, ∂a f = x·(b/2)·r/a, ∂b f = x·r·ln(a)/2.
    let hessian = |x: f64, a: f64, b: f64| {
        let r = a.powf(b / 2.0);
        let (ra, rb) = (b / 2.0 * r / a, r * a.ln() / 2.0);
        [
            [0.0, ra, rb],
            [
                ra,
                x * (b / 2.0) * (b / 2.0 - 1.0) * r / (a * a),
                x * (r + b * a.ln() * r / 2.0) / (2.0 * a),
            ],
            [
                rb,
                x * (r + b * a.ln() * r / 2.0) / (2.0 * a),
                x * r * a.ln() * a.ln() / 4.0,
            ],
        ]
    };
    for p in [
        [0.0, 2.0, 0.0],
        [0.0, 1.0, 0.5],
        [0.0, 3.0, 1.5],
        [1.2, 2.0, 0.0],
    ] {
        let h = hessian(p[0], p[1], p[2]);
        for j in 0..3 {
            let at = |k: usize| seed(p[k], k == j);
            let (_, (dx, da, db)) = scaled_power_grad(at(0), at(1), at(2));
            let column = [dx.eps(), da.eps(), db.eps()];
            let expected = [h[0][j], h[1][j], h[2][j]];
            assert_close(
                &column,
                &expected,
                1e-12,
                &format!("∂/∂{j} of the gradient at {p:?}"),
            );
            // The jvp along e_k, differentiated along e_j, is H[k][j].
            for k in 0..3 {
                let t = |i: usize| D::constant(if i == k { 1.0 } else { 0.0 });
                let (_, d) = scaled_power_jvp(at(0), at(1), at(2), t(0), t(1), t(2));
                assert_close(
                    &[d.eps()],
                    &[h[k][j]],
                    1e-12,
                    &format!("jvp {k} along {j} at {p:?}"),
                );
            }
        }
    }
}
