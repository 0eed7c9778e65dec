//! Loops and arrays: every construct of stage 2, against the dual-number oracle (for scalar
//! parameters), hand-derived gradients, and central differences (for arrays, tolerance 1e-7
//! relative to `max(1, |g|)`).

// The functions are written in every form the macro must support, idiomatic or not.
#![allow(
    clippy::ptr_arg,
    clippy::explicit_iter_loop,
    clippy::needless_range_loop
)]

use crate::{assert_close, differentiate};
use grad::derive_grad;

/// Checks a gradient of flattened parameters against central differences.
fn numeric(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    if let Err(mismatch) = grad::check_gradient(f, x, g, 1e-7) {
        panic!("{mismatch}");
    }
}

differentiate! {
    fn cube_by_repeated_multiplication / cube_by_repeated_multiplication_grad / cube_by_repeated_multiplication_jvp (x) {
        let mut y = x;
        for _ in 0..2 {
            y *= x;
        }
        y
    }
    at [2.0], [-1.5], [0.3]
}

#[derive_grad(jvp)]
pub fn power_with_runtime_trips(x: f64, n: usize) -> f64 {
    let mut y = 1.0;
    for _ in 0..n {
        y *= x;
    }
    y
}

#[test]
fn a_mut_accumulator_is_taped_and_its_power_rule_holds() {
    for n in [0, 1, 3, 7] {
        let (v, d) = power_with_runtime_trips_grad(1.3, n);
        assert_eq!(v.to_bits(), power_with_runtime_trips(1.3, n).to_bits());
        let expected = if n == 0 {
            0.0
        } else {
            n as f64 * 1.3f64.powi(n as i32 - 1)
        };
        assert!(
            (d - expected).abs() <= 1e-14 * expected.abs().max(1.0),
            "n = {n}: {d}"
        );
    }
}

differentiate! {
    fn loop_carried_pair / loop_carried_pair_grad / loop_carried_pair_jvp (x, y) {
        let mut a = x;
        let mut b = y;
        for k in 0..4 {
            let t = a * b + (k as f64);
            a = b.sin() + t;
            b = b * x - a / 3.0;
        }
        a * b
    }
    at [0.3, 0.2], [-0.4, 0.5]
}

differentiate! {
    fn value_used_after_a_runtime_loop / value_used_after_a_runtime_loop_grad / value_used_after_a_runtime_loop_jvp (x; n: usize) {
        let mut s = x * 0.5;
        for i in 0..n {
            s += x * (i as f64);
        }
        s * x
    }
    at [1.5; 0], [1.5; 4], [-0.7; 9]
}

differentiate! {
    fn nested_loops / nested_loops_grad / nested_loops_jvp (x, y; n: usize) {
        let mut total = x;
        for i in 0..n {
            let mut row = y;
            for j in 0..=i {
                row += (x * (j as f64)).sin() * y;
            }
            total += row * row;
        }
        total
    }
    at [0.4, 0.3; 3], [-0.2, 1.1; 5]
}

differentiate! {
    fn while_loop / while_loop_grad / while_loop_jvp (x) {
        let mut y = x;
        let mut k = 0;
        while y < 100.0 && k < 50 {
            y = y * 1.5 + x;
            k += 1;
        }
        y
    }
    at [1.0], [7.0], [150.0]
}

differentiate! {
    fn loop_with_break_value / loop_with_break_value_grad / loop_with_break_value_jvp (x) {
        let mut y = x;
        let r = loop {
            y = y * y + 0.25;
            if y > 10.0 {
                break y.ln();
            }
        };
        r * x
    }
    at [0.9], [2.0]
}

differentiate! {
    fn continue_and_break / continue_and_break_grad / continue_and_break_jvp (x; n: usize) {
        let mut s = x;
        for i in 0..n {
            if i % 2 == 0 {
                continue;
            }
            if i > 6 {
                break;
            }
            s = s * x + (i as f64);
        }
        s
    }
    at [0.7; 3], [0.7; 12], [-1.2; 8]
}

differentiate! {
    fn labelled_loops / labelled_loops_grad / labelled_loops_jvp (x; n: usize) {
        let mut s = x;
        'outer: for i in 0..n {
            for j in 0..n {
                if j > i {
                    continue 'outer;
                }
                if i + j > 6 {
                    break 'outer;
                }
                s = s * 0.9 + x * (j as f64);
            }
        }
        s
    }
    at [0.7; 3], [1.3; 6]
}

differentiate! {
    fn early_return_in_a_loop / early_return_in_a_loop_grad / early_return_in_a_loop_jvp (x; n: usize) {
        let mut y = x;
        for i in 0..n {
            y = y * x + 1.0;
            if y > 20.0 {
                return y * (i as f64);
            }
        }
        y - x
    }
    at [1.5; 2], [1.5; 10], [3.0; 10]
}

// A rule's node shared with a recomputed value of an outer block (found by the differential
// fuzzer as an internal error): `atan2`'s rule builds `x * x` inside the arm, and the
// condition recomputed before the arm in the reverse loop must not reuse it.
differentiate! {
    fn rule_node_not_shared_out_of_its_block / rule_node_not_shared_out_of_its_block_grad / rule_node_not_shared_out_of_its_block_jvp (x; n: usize) {
        for _ in 0..n {
            if x * x > 1.57 {
                let l = (x * x).ln() * x;
                return x.atan2(l * l);
            }
        }
        x
    }
    at [1.5; 3], [-2.0; 1], [0.5; 3], [1.5; 0]
}

differentiate! {
    fn ranges_reversed_and_stepped / ranges_reversed_and_stepped_grad / ranges_reversed_and_stepped_jvp (x) {
        let mut y = x;
        for i in (0..7).rev() {
            y = y * 0.5 + x * (i as f64);
        }
        for i in (1..=9).step_by(3) {
            y = y * x - (i as f64);
        }
        for i in (0..10).step_by(4).rev() {
            y += (x * (i as f64)).cos();
        }
        y
    }
    at [0.3], [-0.8]
}

differentiate! {
    fn divisor_inside_a_loop / divisor_inside_a_loop_grad / divisor_inside_a_loop_jvp (x, y) {
        let mut s = x;
        for i in 1..5 {
            s += x * (i as f64) / (1.0 + y * y * (i as f64));
        }
        s * y
    }
    at [0.3, 0.7], [-2.0, 1.5]
}

#[derive_grad]
fn prefix_sums(x: &[f64; 5]) -> f64 {
    let mut p = [0.0; 5];
    p[0] = x[0];
    for i in 1..5 {
        p[i] = p[i - 1] + x[i] * x[i];
    }
    p[4] * p[2]
}

#[test]
fn in_place_prefix_sums_differentiate_like_the_formula() {
    let x = [0.5, -1.0, 2.0, 0.25, 1.5];
    let (v, g) = prefix_sums_grad(&x);
    assert_eq!(v.to_bits(), prefix_sums(&x).to_bits());
    // p2 = x0 + x1² + x2², p4 = p2 + x3² + x4²; f = p4·p2.
    let p2 = x[0] + x[1] * x[1] + x[2] * x[2];
    let p4 = p2 + x[3] * x[3] + x[4] * x[4];
    let dp2 = p4 + p2; // through both factors
    let expected = [
        dp2,
        dp2 * 2.0 * x[1],
        dp2 * 2.0 * x[2],
        p2 * 2.0 * x[3],
        p2 * 2.0 * x[4],
    ];
    assert_close(&g, &expected, 1e-14, "prefix sums");
}

#[derive_grad(jvp)]
pub fn slices_and_iterators(xs: &[f64], ys: &Vec<f64>, w: f64) -> f64 {
    let mut s = 0.0;
    for &v in xs {
        s += v * w;
    }
    for (i, v) in xs.iter().enumerate() {
        s += v * (i as f64);
    }
    for (a, &b) in xs.iter().zip(ys.iter()) {
        s += a * b;
    }
    let squares = ys.iter().map(|v| v * v).sum::<f64>();
    let dot: f64 = xs.iter().zip(ys).map(|(a, b)| a * b).sum();
    s + squares * w + dot + xs.iter().sum::<f64>() * (xs.len() as f64)
}

#[test]
fn slices_vecs_and_iterator_chains() {
    let xs = [0.5, -1.0, 2.0];
    let ys = vec![1.5, 0.25, -0.5, 3.0];
    let (v, (gx, gy, gw)) = slices_and_iterators_grad(&xs, &ys, 0.75);
    assert_eq!(v.to_bits(), slices_and_iterators(&xs, &ys, 0.75).to_bits());
    assert_eq!((gx.len(), gy.len()), (3, 4));
    let mut point: Vec<f64> = xs.to_vec();
    point.extend(&ys);
    point.push(0.75);
    let f = |p: &[f64]| slices_and_iterators(&p[0..3], &p[3..7].to_vec(), p[7]);
    let mut g = gx.clone();
    g.extend(&gy);
    g.push(gw);
    numeric(f, &point, &g);
}

#[derive_grad(jvp)]
pub fn local_arrays(x: f64, y: f64, n: usize) -> f64 {
    let v = [y, x * y, x * x + y];
    let mut buf = vec![0.0; n];
    for i in 0..buf.len() {
        buf[i] = v[i % 3] * (i as f64 + 1.0);
    }
    let mut acc = [0.0; 3];
    for i in 0..n {
        acc[i % 3] += buf[i] * buf[i];
    }
    acc[0] + acc[1] * v[2] + acc[2]
}

#[test]
fn array_literals_repeats_and_vec_macro() {
    for n in [1, 4, 7] {
        let (v, (gx, gy)) = local_arrays_grad(0.7, -1.2, n);
        assert_eq!(v.to_bits(), local_arrays(0.7, -1.2, n).to_bits());
        numeric(|p| local_arrays(p[0], p[1], n), &[0.7, -1.2], &[gx, gy]);
    }
}

#[derive_grad(jvp)]
pub fn matrices(w: &[[f64; 3]; 2], m: [[f64; 2]; 2], rows: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for i in 0..2 {
        for j in 0..3 {
            s += w[i][j] * m[i][j % 2];
        }
    }
    for row in rows.iter() {
        s += row[0] * row[2] - row[1];
    }
    s * s
}

#[test]
fn two_dimensional_arrays_get_gradients_of_their_shape() {
    let w = [[0.5, -1.0, 2.0], [0.25, 1.5, -0.5]];
    let m = [[1.0, 2.0], [-1.0, 0.5]];
    let rows = [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]];
    let (v, (gw, gm, grows)) = matrices_grad(&w, m, &rows);
    assert_eq!(v.to_bits(), matrices(&w, m, &rows).to_bits());
    let flat = |w: &[[f64; 3]; 2], m: &[[f64; 2]; 2], r: &[[f64; 3]]| -> Vec<f64> {
        w.iter()
            .flatten()
            .chain(m.iter().flatten())
            .chain(r.iter().flatten())
            .copied()
            .collect()
    };
    let point = flat(&w, &m, &rows);
    let g = flat(&gw, &gm, &grows);
    let f = |p: &[f64]| {
        let w = [[p[0], p[1], p[2]], [p[3], p[4], p[5]]];
        let m = [[p[6], p[7]], [p[8], p[9]]];
        let rows = [[p[10], p[11], p[12]], [p[13], p[14], p[15]]];
        matrices(&w, m, &rows)
    };
    numeric(f, &point, &g);
}

#[derive_grad(jvp)]
pub fn single_precision(x: &[f32], k: f32) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] * k).tanh();
    }
    s
}

#[test]
fn f32_arrays() {
    let x = [0.5_f32, -1.0, 2.0];
    let (v, (gx, gk)) = single_precision_grad(&x, 0.3);
    assert_eq!(v.to_bits(), single_precision(&x, 0.3).to_bits());
    for i in 0..3 {
        let t = (x[i] * 0.3).tanh();
        assert!((gx[i] - 0.3 * (1.0 - t * t)).abs() < 1e-6);
    }
    let expected: f32 = x
        .iter()
        .map(|&v| v * (1.0 - (v * 0.3).tanh().powi(2)))
        .sum();
    assert!((gk - expected).abs() < 1e-5);
}

#[derive_grad]
fn pullback_into_arrays(x: &[f64; 3], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += x[i] * y[i];
    }
    s
}

#[test]
fn array_pullbacks_accumulate_into_buffers() {
    let x = [1.0, 2.0, 3.0];
    let y = [4.0, 5.0, 6.0];
    let mut dx = [1.0; 3];
    let mut dy = vec![0.0; 3];
    pullback_into_arrays_pullback(&x, &y, 2.0, &mut dx, &mut dy);
    assert_eq!(dx, [9.0, 11.0, 13.0]);
    assert_eq!(dy, vec![2.0, 4.0, 6.0]);
}

/// Regression (found by the differential fuzzer): a heap tape of a loop over `1..4` reserved
/// `4.saturating_sub(1)`, an integer of ambiguous type.
#[derive_grad]
fn literal_bounds_not_from_zero(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 1..4 {
        for _ in 0..n {
            s = s * x + (i as f64);
        }
    }
    s
}

#[test]
fn a_tape_reserved_for_a_literal_range_not_starting_at_zero() {
    let (_, d) = literal_bounds_not_from_zero_grad(0.7, 2);
    numeric(|p| literal_bounds_not_from_zero(p[0], 2), &[0.7], &[d]);
}
