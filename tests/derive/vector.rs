//! Functions returning `[f64; M]`: `_jacobian` (reverse sweeps when M ≤ N, forward sweeps
//! otherwise), `_pullback` with `d_out: [f64; M]` and `_jvp`, against dual numbers (each
//! column of the Jacobian is one dual evaluation; tolerance `1e-12 · max(1, |J|)`), central
//! differences for array parameters (`1e-6`), and the identity `⟨jvp(t), c⟩ = ⟨t, vjp(c)⟩`
//! on random `t`, `c` (`1e-12` relative to the sum of the terms' magnitudes).

#![allow(clippy::needless_range_loop, clippy::if_not_else)]

use crate::{D, assert_close, noise};
use grad::derive_grad;

/// `⟨a, b⟩` and `Σ|aᵢ bᵢ|`, the scale its rounding error is relative to.
fn dot(a: &[f64], b: &[f64]) -> (f64, f64) {
    a.iter()
        .zip(b)
        .fold((0.0, 0.0), |(s, m), (x, y)| (s + x * y, m + (x * y).abs()))
}

/// Checks `⟨jvp(t), c⟩ = ⟨t, vjp(c)⟩`.
fn assert_adjoint(jvp_t: &[f64], c: &[f64], t: &[f64], vjp_c: &[f64], what: &str) {
    let (left, l) = dot(jvp_t, c);
    let (right, r) = dot(t, vjp_c);
    assert!(
        (left - right).abs() <= 1e-12 * l.max(r).max(1.0),
        "{what}: ⟨jvp(t), c⟩ = {left} vs ⟨t, vjp(c)⟩ = {right}"
    );
}

/// Defines a function of scalar parameters returning `[f64; M]` over `f64` (with every
/// generated function) and over dual numbers, and checks at each point: the value bits, the
/// Jacobian against duals, the pullback against `Jᵀc`, the jvp against `J t`, and the
/// adjoint identity.
macro_rules! vector {
    (
        fn $name:ident / $jac:ident / $pb:ident / $jvp:ident ($($p:ident),+) -> [$m:literal] $body:block
        at $([$($x:expr),+]),+ $(,)?
    ) => {
        #[derive_grad(jvp)]
        pub fn $name($($p: f64),+) -> [f64; $m] $body

        mod $name {
            use super::*;

            fn dual($($p: D),+) -> [D; $m] $body

            #[test]
            fn jacobian_pullback_and_jvp_agree_with_dual_numbers() {
                let mut r = noise($m);
                for point in [$([$($x),+]),+] {
                    let n = point.len();
                    let [$($p),+] = point;
                    let (value, jacobian) = super::$jac($($p),+);
                    let plain = super::$name($($p),+);
                    assert_eq!(value.map(f64::to_bits), plain.map(f64::to_bits), "value");
                    // Column j of the Jacobian is the dual derivative along e_j.
                    let mut expected = [[0.0; 16]; $m];
                    for j in 0..n {
                        let mut k = 0;
                        let out = dual($({
                            let _ = $p;
                            k += 1;
                            D::new(point[k - 1], if k - 1 == j { 1.0 } else { 0.0 })
                        }),+);
                        for i in 0..$m {
                            expected[i][j] = out[i].eps();
                        }
                    }
                    for i in 0..$m {
                        assert_close(&jacobian[i], &expected[i][..n], 1e-12, &format!("row {i}"));
                    }
                    let c: Vec<f64> = (0..$m).map(|_| r()).collect();
                    let t: Vec<f64> = (0..n).map(|_| r()).collect();
                    let mut buffers = vec![0.0; n];
                    {
                        let mut it = buffers.iter_mut();
                        super::$pb($($p,)+ c.clone().try_into().unwrap(), $({ let _ = $p; it.next().unwrap() }),+);
                    }
                    let jtc: Vec<f64> = (0..n).map(|j| (0..$m).map(|i| jacobian[i][j] * c[i]).sum()).collect();
                    assert_close(&buffers, &jtc, 1e-12, "pullback");
                    let mut it = t.iter().copied();
                    let (v, jt) = super::$jvp($($p,)+ $({ let _ = $p; it.next().unwrap() }),+);
                    assert_eq!(v.map(f64::to_bits), plain.map(f64::to_bits), "jvp value");
                    let expected_jt: Vec<f64> = (0..$m).map(|i| (0..n).map(|j| jacobian[i][j] * t[j]).sum()).collect();
                    assert_close(&jt, &expected_jt, 1e-12, "jvp");
                    assert_adjoint(&jt, &c, &t, &buffers, stringify!($name));
                }
            }
        }
    };
}

// Fewer outputs than inputs: reverse sweeps.
vector! {
    fn polar / polar_jacobian / polar_pullback / polar_jvp (r, theta, z) -> [2] {
        let s = r * theta.cos();
        [s * z.exp(), r * theta.sin() / (1.0 + z * z)]
    }
    at [2.0, 0.5, 0.1], [0.3, -2.0, 1.5]
}

// More outputs than inputs: forward sweeps.
vector! {
    fn helix / helix_jacobian / helix_pullback / helix_jvp (t) -> [3] {
        [t.cos(), t.sin(), t * t]
    }
    at [0.5], [-2.0]
}

// As many outputs as inputs, with branches and a loop with a tape.
vector! {
    fn rotate / rotate_jacobian / rotate_pullback / rotate_jvp (x, y) -> [2] {
        let mut a = x;
        let mut b = y;
        for _ in 0..3 {
            let c = if a > b { a * 0.5 } else { b.sin() };
            a = a * c + b;
            b -= c * a;
        }
        [a, b.tanh()]
    }
    at [0.3, 0.7], [1.5, -0.4], [-0.2, -0.9]
}

/// The reprojection of one point, as bundle adjustment writes it: array parameters, a
/// branch, constants named by `const`.
const CAMERA: usize = 6;

#[derive_grad(jvp)]
pub fn project(cam: &[f64; CAMERA], x: &[f64; 3], w: f64) -> [f64; 2] {
    let mut p = [0.0; 3];
    for i in 0..3 {
        p[i] = x[i] - cam[3 + i];
    }
    // Rodrigues' rotation, with its first-order form at θ = 0 as ADBench writes it.
    let sq = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    let q = if sq != 0.0 {
        let theta = sq.sqrt();
        let k = [cam[0] / theta, cam[1] / theta, cam[2] / theta];
        let c = theta.cos();
        let s = theta.sin();
        let kp = k[0] * p[0] + k[1] * p[1] + k[2] * p[2];
        [
            p[0] * c + (k[1] * p[2] - k[2] * p[1]) * s + k[0] * kp * (1.0 - c),
            p[1] * c + (k[2] * p[0] - k[0] * p[2]) * s + k[1] * kp * (1.0 - c),
            p[2] * c + (k[0] * p[1] - k[1] * p[0]) * s + k[2] * kp * (1.0 - c),
        ]
    } else {
        [
            p[0] + cam[1] * p[2] - cam[2] * p[1],
            p[1] + cam[2] * p[0] - cam[0] * p[2],
            p[2] + cam[0] * p[1] - cam[1] * p[0],
        ]
    };
    [w * q[0] / q[2], w * q[1] / q[2]]
}

fn flat(cam: &[f64; 6], x: &[f64; 3], w: f64) -> Vec<f64> {
    cam.iter().chain(x).copied().chain([w]).collect()
}

fn project_flat(p: &[f64]) -> [f64; 2] {
    let cam: [f64; 6] = p[..6].try_into().unwrap();
    let x: [f64; 3] = p[6..9].try_into().unwrap();
    project(&cam, &x, p[9])
}

#[test]
fn array_parameters_flatten_into_columns_in_declaration_order() {
    let mut r = noise(11);
    for theta_scale in [1.0, 0.0] {
        let cam: [f64; 6] = std::array::from_fn(|i| r() * if i < 3 { theta_scale } else { 1.0 });
        let x = [r(), r(), 3.0 + r()];
        let w = 0.8;
        let (value, jacobian) = project_jacobian(&cam, &x, w);
        assert_eq!(value, project(&cam, &x, w));
        let point = flat(&cam, &x, w);
        let h = 1e-6;
        for j in 0..10 {
            let mut up = point.clone();
            let mut down = point.clone();
            up[j] += h;
            down[j] -= h;
            let (a, b) = (project_flat(&up), project_flat(&down));
            for i in 0..2 {
                let numeric = (a[i] - b[i]) / (2.0 * h);
                assert!(
                    (jacobian[i][j] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0),
                    "J[{i}][{j}] = {} vs {numeric}",
                    jacobian[i][j]
                );
            }
        }
        // The adjoint identity through `_pullback` and `_jvp`.
        let c = [r(), r()];
        let t: Vec<f64> = (0..10).map(|_| r()).collect();
        let (mut d_cam, mut d_x, mut d_w) = ([0.0; 6], [0.0; 3], 0.0);
        project_pullback(&cam, &x, w, c, &mut d_cam, &mut d_x, &mut d_w);
        let (_, jt) = project_jvp(
            &cam,
            &x,
            w,
            t[..6].try_into().unwrap(),
            t[6..9].try_into().unwrap(),
            t[9],
        );
        assert_adjoint(&jt, &c, &t, &flat(&d_cam, &d_x, d_w), "project");
    }
}

/// `wrt` picks the columns; a runtime-bound loop keeps a heap tape that every reverse sweep
/// rewinds.
#[derive_grad(wrt(x))]
pub fn moments(x: &[f64; 4], scale: f64, n: usize) -> [f64; 3] {
    let mut m = [0.0; 3];
    let mut p = 1.0;
    for k in 0..n {
        p *= x[k % 4] * scale;
        m[k % 3] += p.sin();
    }
    m
}

#[test]
fn wrt_selects_columns_and_tapes_are_rewound_for_each_row() {
    let x = [0.5, -0.7, 0.9, 1.1];
    for n in [0, 2, 9] {
        let (value, jacobian) = moments_jacobian(&x, 0.8, n);
        assert_eq!(value, moments(&x, 0.8, n));
        for i in 0..3 {
            let numeric =
                grad::numeric_gradient(|p| moments(&p.try_into().unwrap(), 0.8, n)[i], &x, 1e-6);
            assert_close(&jacobian[i], &numeric, 1e-7, &format!("n = {n}, row {i}"));
        }
    }
}

#[derive_grad]
pub fn single(x: f32, y: f32) -> [f32; 2] {
    [x * y, (x - y).exp()]
}

#[test]
fn f32_vector_outputs() {
    let (v, j) = single_jacobian(1.5, 0.5);
    assert_eq!(v, single(1.5, 0.5));
    let e = 1.0f32.exp();
    assert_eq!(j, [[0.5, 1.5], [e, -e]]);
}

/// Regression (found by the differential fuzzer): `return [a, b]` inside a loop gave the
/// returned array's adjoint no shape (`zeros_like(&Default::default())`) and zeroed it as a
/// scalar (`d = 0.0`).
#[derive_grad]
pub fn returns_an_array_from_a_loop(x: f64, n: usize) -> [f64; 2] {
    let mut m = x;
    for _ in 0..n {
        if m > 3.0 {
            return [m, m * x];
        }
        m *= x;
    }
    [m, x]
}

#[test]
fn a_vector_returned_from_inside_a_loop() {
    for (x, n) in [(1.7, 4), (1.2, 2), (0.5, 3)] {
        let (value, j) = returns_an_array_from_a_loop_jacobian(x, n);
        assert_eq!(value, returns_an_array_from_a_loop(x, n));
        let h = 1e-6;
        let (up, down) = (
            returns_an_array_from_a_loop(x + h, n),
            returns_an_array_from_a_loop(x - h, n),
        );
        for i in 0..2 {
            let numeric = (up[i] - down[i]) / (2.0 * h);
            assert!(
                (j[i][0] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                "{j:?}"
            );
        }
    }
}

/// Regression (found by the differential fuzzer): the tangent of the placeholder an arm that
/// returned yields was `zeros_like(&Default::default())`, which does not type-check.
#[derive_grad(jvp)]
#[allow(clippy::collapsible_if, reason = "the nesting is what is tested")]
pub fn returns_an_array_from_a_nested_branch(x: f64, y: f64) -> [f64; 2] {
    let v = x * y;
    if x < y {
        if v > 0.08 {
            return [v, v.sin()];
        }
    }
    [v, y]
}

#[test]
fn a_vector_returned_from_a_nested_branch_in_forward_mode() {
    for (x, y) in [(0.5, 0.7), (0.1, 0.2), (2.0, 1.0)] {
        let (_, j) = returns_an_array_from_a_nested_branch_jacobian(x, y);
        let (value, t) = returns_an_array_from_a_nested_branch_jvp(x, y, 1.0, -2.0);
        assert_eq!(value, returns_an_array_from_a_nested_branch(x, y));
        for i in 0..2 {
            assert!((t[i] - (j[i][0] - 2.0 * j[i][1])).abs() < 1e-14);
        }
    }
}

/// Regression (found by the differential fuzzer): a row of the Jacobian turned NaN when
/// another output had a singular local derivative (`∛0`): its zero seed times `∞` gave NaN,
/// and the NaN flowed into the adjoints every row shares. A zero upstream now contributes
/// exactly zero through a singular derivative ("strong zero").
#[derive_grad(jvp)]
pub fn kink_in_another_row(x: f64, y: f64) -> [f64; 2] {
    let s = x * y;
    let flat = (y.tanh() * 0.1).floor() + 1.0; // 0 near y = 0, locally constant
    [s, (flat * s).cbrt() + x]
}

#[test]
fn a_singular_derivative_in_one_row_leaves_the_others_finite() {
    let (_, j) = kink_in_another_row_jacobian(0.0, 0.5);
    assert_eq!(j[0], [0.5, 0.0]);
    assert!(
        j[1][0].is_infinite(),
        "∂∛(xy)/∂x at x = 0 is infinite: {:?}",
        j[1]
    );
    let (_, t) = kink_in_another_row_jvp(0.0, 0.5, 0.0, 1.0);
    assert_eq!(t[0], 0.0);
}
