//! Found by an outside tester who wrote physics, ML and statistics code against the public
//! docs only, checking each function with central differences: every case reduced to a few
//! lines, named after what went wrong, and checked against central differences or a hand
//! derivative here.

#![allow(clippy::ptr_arg, clippy::never_loop, clippy::needless_range_loop)]

use grad::derive_grad;

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

fn slope(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[derive_grad(jvp)]
pub fn polar(r: f64, theta: f64) -> [f64; 2] {
    [r * theta.cos(), r * theta.sin()]
}

#[derive_grad(jvp)]
pub fn through_a_vector_valued_call(r: f64, theta: f64) -> f64 {
    let p = polar(r, theta);
    p[0] + p[1] * polar(theta, r)[1]
}

#[test]
fn a_call_returning_an_array_passes_its_gradient_back() {
    let f = |r: f64, t: f64| through_a_vector_valued_call(r, t);
    let (value, (dr, dt)) = through_a_vector_valued_call_grad(2.0, 0.5);
    assert_eq!(value.to_bits(), f(2.0, 0.5).to_bits());
    close(dr, slope(|r| f(r, 0.5), 2.0), "∂r");
    close(dt, slope(|t| f(2.0, t), 0.5), "∂θ");
    let (_, along) = through_a_vector_valued_call_jvp(2.0, 0.5, 0.3, -0.7);
    close(along, 0.3 * dr - 0.7 * dt, "jvp");
}

#[derive_grad(jvp)]
pub fn copy_of_an_array_then_written(x: f64) -> f64 {
    let mut a = [x, 2.0 * x];
    let c = a;
    a[0] = 0.0;
    c[0] * a[1] + a[0]
}

#[derive_grad]
pub fn heat_with_a_previous_state(u0: [f64; 5], alpha: f64) -> f64 {
    let mut u = u0;
    for _ in 0..10 {
        let prev = u;
        for i in 1..4 {
            u[i] = prev[i] + alpha * (prev[i - 1] - 2.0 * prev[i] + prev[i + 1]);
        }
    }
    u[2]
}

#[test]
fn an_immutable_copy_of_an_array_keeps_its_values() {
    let (value, dx) = copy_of_an_array_then_written_grad(1.5);
    assert_eq!(
        value.to_bits(),
        copy_of_an_array_then_written(1.5).to_bits()
    );
    assert_eq!((value, dx), (4.5, 6.0));
    assert_eq!(copy_of_an_array_then_written_jvp(1.5, 1.0), (4.5, 6.0));
    let u0 = [0.0, 1.0, 2.0, 0.5, 0.0];
    let (value, (du, da)) = heat_with_a_previous_state_grad(u0, 0.2);
    assert_eq!(
        value.to_bits(),
        heat_with_a_previous_state(u0, 0.2).to_bits()
    );
    close(da, slope(|a| heat_with_a_previous_state(u0, a), 0.2), "∂α");
    for k in 0..5 {
        let at = |v: f64| {
            let mut u = u0;
            u[k] = v;
            heat_with_a_previous_state(u, 0.2)
        };
        close(du[k], slope(at, u0[k]), "∂u");
    }
}

#[derive_grad(jvp)]
pub fn row_copy_then_overwritten(x: f64) -> f64 {
    let mut g = [[0.0; 2]; 2];
    g[0][0] = x;
    let r = g[0];
    g[0][0] = 0.0;
    r[0] * x + g[0][0]
}

#[test]
fn a_row_copied_before_it_is_overwritten_keeps_its_adjoint() {
    assert_eq!(row_copy_then_overwritten_grad(2.0), (4.0, 4.0));
    assert_eq!(row_copy_then_overwritten_jvp(2.0, 1.0), (4.0, 4.0));
}

#[derive_grad]
pub fn copy_of_a_borrowed_array(v0: &[f64; 2]) -> f64 {
    let mut v = *v0;
    v[0] = v[1] * 2.0;
    v[0] * v0[0] + v[1]
}

#[test]
fn a_copy_of_an_array_parameter_can_be_written() {
    let (value, g) = copy_of_a_borrowed_array_grad(&[3.0, 1.5]);
    assert_eq!(value, 10.5);
    assert_eq!(g, [3.0, 7.0]);
}

#[derive_grad]
pub fn row_of_a_local_assigned(x: f64, y: f64) -> f64 {
    let mut m = [[0.0; 2]; 2];
    m[0] = [x, y];
    let r = [y, x * y];
    m[1] = r;
    m[0][0] * m[0][1] + m[1][1]
}

#[test]
fn a_whole_row_of_a_local_is_assigned() {
    // x·y + x·y
    assert_eq!(row_of_a_local_assigned_grad(3.0, 2.0), (12.0, (4.0, 6.0)));
}

#[derive_grad]
pub fn typed_accumulator_in_a_loop(x: f64) -> f64 {
    let mut m: f64 = 0.0;
    for i in 0..3 {
        m = m.max(x * i as f64);
    }
    let mut acc: f64 = 1.0;
    for _ in 0..2 {
        acc = acc.mul_add(x, 0.5);
    }
    m + acc
}

#[test]
fn a_typed_accumulator_keeps_its_type() {
    close(
        typed_accumulator_in_a_loop_grad(0.7).1,
        slope(typed_accumulator_in_a_loop, 0.7),
        "typed",
    );
}

#[derive_grad(wrt(a))]
pub fn skipping_nan_targets(a: f64, ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for &y in ys {
        if y.is_nan() || !y.is_finite() {
            continue;
        }
        s += (a - y) * (a - y);
    }
    s
}

#[test]
fn float_predicates_decide_branches() {
    assert_eq!(
        skipping_nan_targets_grad(2.0, &[1.0, f64::NAN, 0.5, f64::INFINITY]),
        (3.25, 5.0)
    );
}

#[derive_grad]
pub fn rows_of_a_dataset(scale: f64, rows: &Vec<Vec<f64>>) -> f64 {
    let mut s = 0.0;
    for r in 0..rows.len() {
        for c in 0..rows[r].len() {
            s += scale * rows[r][c] * rows[r][c];
        }
    }
    s
}

#[test]
fn a_dataset_of_rows_is_differentiated_row_by_row() {
    let rows = vec![vec![1.0, 2.0], vec![3.0]];
    let (value, (ds, drows)) = rows_of_a_dataset_grad(0.5, &rows);
    assert_eq!(value, 7.0);
    assert_eq!(ds, 14.0);
    assert_eq!(drows, vec![vec![1.0, 2.0], vec![3.0]]);
}

// ----- Found by the second outside tester (robotics, vision, finance, signals) -----

#[derive_grad(jvp)]
pub fn pair(x: f64) -> [f64; 2] {
    [x, x * x]
}

#[derive_grad(jvp)]
pub fn sum2(p: [f64; 2]) -> f64 {
    p[0] + 2.0 * p[1]
}

#[derive_grad(jvp)]
pub fn call_array_in_a_branch(x: f64) -> f64 {
    let p = if x > 0.0 { pair(x) } else { [x, 1.0] };
    p[0] + p[1]
}

#[derive_grad(jvp)]
pub fn call_arrays_merged_in_a_loop(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let p = if i % 2 == 0 { pair(x) } else { [1.0, x] };
        s += p[1];
    }
    s
}

#[test]
fn a_call_array_yielded_by_a_branch_keeps_its_gradient() {
    assert_eq!(call_array_in_a_branch_grad(2.0), (6.0, 5.0));
    assert_eq!(call_array_in_a_branch_grad(-2.0), (-1.0, 1.0));
    assert_eq!(call_array_in_a_branch_jvp(2.0, 1.0), (6.0, 5.0));
    // x² + x + x² at x = 3: 21, slope 2x + 1 + 2x = 13.
    assert_eq!(call_arrays_merged_in_a_loop_grad(3.0), (21.0, 13.0));
}

#[derive_grad(jvp)]
pub fn call_array_annotated_then_passed(x: f64) -> f64 {
    let p: [f64; 2] = pair(x);
    sum2(p)
}

#[derive_grad]
pub fn call_array_mutated(x: f64) -> f64 {
    let mut p = pair(x);
    p[0] += 1.0;
    p[0] * p[1]
}

#[derive_grad]
pub fn call_array_assigned_in_a_branch(x: f64) -> f64 {
    let q = pair(x);
    let mut p = [0.0; 2];
    if x > 0.0 {
        p = q;
    }
    p[1]
}

#[test]
fn a_call_array_passed_on_mutated_or_assigned() {
    // x + 2x²
    assert_eq!(call_array_annotated_then_passed_grad(3.0), (21.0, 13.0));
    assert_eq!(call_array_annotated_then_passed_jvp(3.0, 1.0), (21.0, 13.0));
    // (x + 1)·x², slope 3x² + 2x
    assert_eq!(call_array_mutated_grad(2.0), (12.0, 16.0));
    assert_eq!(call_array_assigned_in_a_branch_grad(3.0), (9.0, 6.0));
    assert_eq!(call_array_assigned_in_a_branch_grad(-3.0), (0.0, 0.0));
}

#[derive_grad]
pub fn array_broken_out_of_a_loop(x: f64) -> f64 {
    let a = [x, 2.0 * x];
    let p = loop {
        break a;
    };
    p[0] * p[1]
}

#[test]
fn an_array_broken_out_of_a_loop() {
    assert_eq!(array_broken_out_of_a_loop_grad(3.0), (18.0, 12.0));
}

#[derive_grad]
pub fn row_of_a_parameter_chosen_by_a_branch(m: [[f64; 2]; 2]) -> f64 {
    let p = if m[0][0] > 0.0 { m[0] } else { m[1] };
    p[0] * p[1]
}

#[test]
fn a_row_of_an_array_parameter_is_copied_like_any_array() {
    let (v, g) = row_of_a_parameter_chosen_by_a_branch_grad([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!((v, g), (2.0, [[2.0, 1.0], [0.0, 0.0]]));
}

const WEIGHTS: [f64; 2] = [1.0, 2.0];

#[derive_grad]
pub fn dot2(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[derive_grad]
pub fn against_a_constant_array(x: &[f64; 2]) -> f64 {
    dot2(x, &WEIGHTS) + sum2(*x)
}

#[test]
fn a_constant_array_by_reference_and_a_dereferenced_parameter_are_passed_on() {
    assert_eq!(
        against_a_constant_array_grad(&[3.0, 4.0]),
        (22.0, [2.0, 4.0])
    );
}

#[derive_grad(jvp)]
pub fn translation_named_like_a_tangent(x: f64, t_x: f64) -> f64 {
    x * t_x
}

#[test]
fn a_parameter_named_like_a_tangent() {
    assert_eq!(
        translation_named_like_a_tangent_jvp(2.0, 3.0, 1.0, 0.5),
        (6.0, 4.0)
    );
}

#[derive_grad]
pub fn stepped_range_of_i64(x: f64, n: i64) -> f64 {
    let mut s = x;
    for _ in (0..n).step_by(2) {
        s = s * s * 0.5;
    }
    s
}

#[test]
fn a_stepped_range_of_64_bit_integers_runs_backwards_by_count() {
    // Two steps: s = x⁴/8, slope x³/2.
    assert_eq!(stepped_range_of_i64_grad(2.0, 4), (2.0, 4.0));
    assert_eq!(stepped_range_of_i64_grad(2.0, 0), (2.0, 1.0));
}

#[derive_grad]
pub fn grid_of_vecs_written_in_a_loop(x: f64) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    for i in 0..2 {
        g[0][i] = x * (i as f64 + 1.0);
    }
    let row = g[0].clone();
    g[0][0] = 0.0;
    row[0] * g[0][1]
}

#[test]
fn a_local_grid_of_vecs() {
    // x · 2x
    assert_eq!(grid_of_vecs_written_in_a_loop_grad(3.0), (18.0, 12.0));
}
