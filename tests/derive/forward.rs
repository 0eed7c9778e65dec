//! Forward mode (`#[derive_grad(jvp)]`) on arrays, loops, calls and helpers, against two
//! independent oracles along random tangents `t`: the reverse-mode identity
//! `jvp(x; t) = ⟨t, ∇f(x)⟩` (tolerance `1e-12 · Σ|tᵢ ∂ᵢf|`, both exact up to rounding) and
//! central differences `(f(x + h t) − f(x − h t)) / 2h` (tolerance `1e-6`).
//! Scalar functions are checked against dual numbers by `differentiate!` in every test file.

#![allow(clippy::ptr_arg)]

use crate::calls::{
    call_in_branch, call_in_branch_jvp, helpers, helpers_jvp, outer, outer_jvp, uses_custom,
    uses_custom_jvp, with_logsumexp, with_logsumexp_jvp,
};
use crate::loops::{
    local_arrays, local_arrays_grad, local_arrays_jvp, matrices, matrices_grad, matrices_jvp,
    power_with_runtime_trips, power_with_runtime_trips_jvp, single_precision,
    single_precision_grad, single_precision_jvp, slices_and_iterators, slices_and_iterators_grad,
    slices_and_iterators_jvp,
};
use crate::network::{score, score_grad, score_jvp, score_sigmoid, score_sigmoid_jvp};
use crate::noise;

/// Checks the directional derivatives `jvp(t)` of `f` at `x` (all flattened) along three
/// random tangents: the value bit for bit, the derivative against `⟨t, gradient⟩` when a
/// gradient is given, and against central differences.
fn check_directions(
    what: &str,
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    gradient: Option<&[f64]>,
    jvp: impl Fn(&[f64]) -> (f64, f64),
) {
    let mut r = noise(x.len() as u64);
    for _ in 0..3 {
        let t: Vec<f64> = x.iter().map(|_| r()).collect();
        let (value, derivative) = jvp(&t);
        assert_eq!(value.to_bits(), f(x).to_bits(), "{what}: value");
        if let Some(g) = gradient {
            let terms: Vec<f64> = t.iter().zip(g).map(|(a, b)| a * b).collect();
            let scale: f64 = terms.iter().map(|v| v.abs()).sum();
            let expected: f64 = terms.iter().sum();
            assert!(
                (derivative - expected).abs() <= 1e-12 * scale.max(1.0),
                "{what}: jvp {derivative} vs ⟨t, ∇f⟩ {expected}"
            );
        }
        let h = 1e-6;
        let at = |s: f64| -> Vec<f64> { x.iter().zip(&t).map(|(a, b)| a + s * h * b).collect() };
        let numeric = (f(&at(1.0)) - f(&at(-1.0))) / (2.0 * h);
        assert!(
            (derivative - numeric).abs() <= 1e-6 * derivative.abs().max(1.0),
            "{what}: jvp {derivative} vs central difference {numeric}"
        );
    }
}

fn matrix<const R: usize, const C: usize>(p: &[f64]) -> [[f64; C]; R] {
    std::array::from_fn(|i| std::array::from_fn(|j| p[i * C + j]))
}

fn vector<const N: usize>(p: &[f64]) -> [f64; N] {
    std::array::from_fn(|i| p[i])
}

#[test]
fn the_network_score_along_random_directions() {
    let mut r = noise(7);
    let x: Vec<f64> = (0..80 + 10 + 8 + 8).map(|_| r()).collect();
    let split = |p: &[f64]| {
        (
            matrix::<8, 10>(&p[..80]),
            vector::<10>(&p[80..90]),
            vector::<8>(&p[90..98]),
            vector::<8>(&p[98..]),
        )
    };
    let (w, xs, b, u) = split(&x);
    let (_, (gw, gx, gb, gu)) = score_grad(&w, &xs, &b, &u);
    let g: Vec<f64> = gw
        .iter()
        .flatten()
        .chain(&gx)
        .chain(&gb)
        .chain(&gu)
        .copied()
        .collect();
    let f = |p: &[f64]| {
        let (w, x, b, u) = split(p);
        score(&w, &x, &b, &u)
    };
    let jvp = |t: &[f64]| {
        let (tw, tx, tb, tu) = split(t);
        score_jvp(&w, &xs, &b, &u, tw, tx, tb, tu)
    };
    check_directions("score", f, &x, Some(&g), jvp);
    let f = |p: &[f64]| {
        let (w, x, b, u) = split(p);
        score_sigmoid(&w, &x, &b, &u)
    };
    let jvp = |t: &[f64]| {
        let (tw, tx, tb, tu) = split(t);
        score_sigmoid_jvp(&w, &xs, &b, &u, tw, tx, tb, tu)
    };
    check_directions("score_sigmoid", f, &x, None, jvp);
}

#[test]
fn slices_vecs_and_iterator_chains() {
    let x = [0.5, -1.0, 2.0, 1.5, 0.25, -0.5, 3.0, 0.75];
    let split = |p: &[f64]| (p[0..3].to_vec(), p[3..7].to_vec(), p[7]);
    let (xs, ys, w) = split(&x);
    let (_, (gx, gy, gw)) = slices_and_iterators_grad(&xs, &ys, w);
    let mut g = gx;
    g.extend(gy);
    g.push(gw);
    let f = |p: &[f64]| {
        let (xs, ys, w) = split(p);
        slices_and_iterators(&xs, &ys, w)
    };
    let jvp = |t: &[f64]| slices_and_iterators_jvp(&xs, &ys, w, &t[0..3], &t[3..7], t[7]);
    check_directions("slices", f, &x, Some(&g), jvp);
}

#[test]
fn local_arrays_with_runtime_lengths() {
    for n in [1, 4, 7] {
        let x = [0.7, -1.2];
        let (_, (gx, gy)) = local_arrays_grad(x[0], x[1], n);
        let f = |p: &[f64]| local_arrays(p[0], p[1], n);
        let jvp = |t: &[f64]| local_arrays_jvp(x[0], x[1], n, t[0], t[1]);
        check_directions("local arrays", f, &x, Some(&[gx, gy]), jvp);
    }
}

#[test]
fn two_dimensional_arrays_and_slices_of_rows() {
    let x = [
        0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 1.0, 2.0, -1.0, 0.5, 1.0, 2.0, 3.0, -1.0, 0.5, 2.0,
    ];
    let split = |p: &[f64]| {
        let rows: Vec<[f64; 3]> = p[10..].chunks(3).map(vector::<3>).collect();
        (matrix::<2, 3>(&p[..6]), matrix::<2, 2>(&p[6..10]), rows)
    };
    let (w, m, rows) = split(&x);
    let (_, (gw, gm, grows)) = matrices_grad(&w, m, &rows);
    let g: Vec<f64> = gw
        .iter()
        .flatten()
        .chain(gm.iter().flatten())
        .chain(grows.iter().flatten())
        .copied()
        .collect();
    let f = |p: &[f64]| {
        let (w, m, rows) = split(p);
        matrices(&w, m, &rows)
    };
    let jvp = |t: &[f64]| {
        let (tw, tm, trows) = split(t);
        matrices_jvp(&w, m, &rows, tw, tm, &trows)
    };
    check_directions("matrices", f, &x, Some(&g), jvp);
}

#[test]
fn a_runtime_bound_loop_with_a_taped_accumulator() {
    for n in [0, 1, 3, 7] {
        let x = [1.3];
        let f = |p: &[f64]| power_with_runtime_trips(p[0], n);
        let expected = if n == 0 {
            0.0
        } else {
            n as f64 * 1.3f64.powi(n as i32 - 1)
        };
        let jvp = |t: &[f64]| power_with_runtime_trips_jvp(x[0], n, t[0]);
        check_directions("power", f, &x, Some(&[expected]), jvp);
    }
}

#[test]
fn single_precision_tangents() {
    let (x, k) = ([0.5_f32, -1.0, 2.0], 0.3_f32);
    let (value, (gx, gk)) = single_precision_grad(&x, k);
    let t = [0.25_f32, -0.5, 1.0];
    let (v, d) = single_precision_jvp(&x, k, &t, 2.0);
    assert_eq!(v.to_bits(), single_precision(&x, k).to_bits());
    assert_eq!(v.to_bits(), value.to_bits());
    let expected: f32 = gx.iter().zip(&t).map(|(g, t)| g * t).sum::<f32>() + gk * 2.0;
    assert!((d - expected).abs() <= 1e-5, "{d} vs {expected}");
}

#[test]
fn calls_go_through_the_callees_jvp() {
    for x in [[0.7, 1.3], [-2.0, 0.4], [3.0, -1.0]] {
        let f = |p: &[f64]| outer(p[0], p[1]);
        let jvp = |t: &[f64]| outer_jvp(x[0], x[1], t[0], t[1]);
        check_directions("composition", f, &x, None, jvp);
        let f = |p: &[f64]| uses_custom(p[0], p[1]);
        let jvp = |t: &[f64]| uses_custom_jvp(x[0], x[1], t[0], t[1]);
        check_directions("custom jvp", f, &x, None, jvp);
        let f = |p: &[f64]| helpers(p[0], p[1]);
        let jvp = |t: &[f64]| helpers_jvp(x[0], x[1], t[0], t[1]);
        check_directions("runtime helpers", f, &x, None, jvp);
    }
    for x in [0.5, -1.0] {
        let f = |p: &[f64]| call_in_branch(p[0]);
        let jvp = |t: &[f64]| call_in_branch_jvp(x, t[0]);
        check_directions("call in a branch", f, &[x], None, jvp);
    }
}

/// A custom derivative that is deliberately not the true one: proves forward mode uses it.
fn fake(x: f64) -> f64 {
    x
}

fn fake_jvp(x: f64, t_x: f64) -> (f64, f64) {
    (x, 10.0 * t_x)
}

#[grad::derive_grad(jvp)]
fn uses_fake(x: f64) -> f64 {
    fake(x) * 2.0
}

fn fake_pullback(_x: f64, d_out: f64, d_x: &mut f64) {
    *d_x += 10.0 * d_out;
}

#[test]
fn the_custom_tangent_rule_wins_over_the_body() {
    assert_eq!(uses_fake_jvp(1.0, 1.0), (2.0, 20.0));
}

#[test]
fn a_slice_helper_gets_tangent_slices() {
    let x = [0.5, -1.0, 2.0, 0.8];
    let f = |p: &[f64]| with_logsumexp(&p[..3], p[3]);
    let jvp = |t: &[f64]| with_logsumexp_jvp(&x[..3], x[3], &t[..3], t[3]);
    check_directions("logsumexp", f, &x, None, jvp);
}
