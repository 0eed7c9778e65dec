//! Composition, custom derivatives, runtime helpers and `no_grad`, against hand-derived
//! gradients and central differences.

use crate::assert_close;
use grad::derive_grad;

#[derive_grad(jvp)]
pub fn inner(a: f64, b: f64) -> f64 {
    a * b.sin()
}

#[derive_grad(jvp)]
pub fn outer(x: f64, y: f64) -> f64 {
    let u = inner(x, y) + inner(y, 2.0);
    u * inner(u, x)
}

#[test]
fn derive_grad_functions_compose() {
    for (x, y) in [(0.7, 1.3), (-2.0, 0.4), (3.0, -1.0)] {
        let (v, (dx, dy)) = outer_grad(x, y);
        assert_eq!(v.to_bits(), outer(x, y).to_bits());
        // Hand-derived: u = x sin y + y sin 2, f = u · u sin x = u² sin x.
        let u = x * y.sin() + y * 2f64.sin();
        let (du_dx, du_dy) = (y.sin(), x * y.cos() + 2f64.sin());
        let df_du = 2.0 * u * x.sin();
        let expected = [df_du * du_dx + u * u * x.cos(), df_du * du_dy];
        assert_close(&[dx, dy], &expected, 1e-12, "outer");
    }
}

/// A function with a hand-written derivative: the rule is `smooth_abs_pullback`, which the
/// macro calls without looking inside `smooth_abs`.
fn smooth_abs(x: f64) -> f64 {
    (x * x + 1e-3).sqrt()
}

fn smooth_abs_pullback(x: f64, d_out: f64, d_x: &mut f64) {
    *d_x += d_out * x / smooth_abs(x);
}

fn smooth_abs_jvp(x: f64, t_x: f64) -> (f64, f64) {
    let s = smooth_abs(x);
    (s, x / s * t_x)
}

#[derive_grad(jvp)]
pub fn uses_custom(x: f64, y: f64) -> f64 {
    smooth_abs(x - y) * y
}

#[test]
fn a_hand_written_pullback_is_a_custom_derivative() {
    let (x, y) = (0.3, 1.1);
    let (v, (dx, dy)) = uses_custom_grad(x, y);
    let s = smooth_abs(x - y);
    let ds = (x - y) / s;
    assert_eq!(v, s * y);
    assert_close(&[dx, dy], &[ds * y, -ds * y + s], 1e-14, "custom");
}

/// A custom derivative that is deliberately not the true one: proves the macro uses it.
fn fake(x: f64) -> f64 {
    x
}

fn fake_pullback(_x: f64, d_out: f64, d_x: &mut f64) {
    *d_x += 10.0 * d_out;
}

#[derive_grad]
fn uses_fake(x: f64) -> f64 {
    fake(x) * 2.0
}

#[test]
fn the_custom_rule_wins_over_the_body() {
    assert_eq!(uses_fake_grad(1.0), (2.0, 20.0));
}

#[derive_grad(jvp)]
pub fn helpers(x: f64, y: f64) -> f64 {
    grad::sigmoid(x) * grad::softplus(y) + grad::log_sigmoid(x * y) - grad::relu(y - x)
}

#[test]
fn runtime_helpers_differentiate_through_their_pullbacks() {
    for p in [[0.3, -1.2], [2.0, 1.5], [-4.0, 0.5]] {
        let (v, (dx, dy)) = helpers_grad(p[0], p[1]);
        assert_eq!(v.to_bits(), helpers(p[0], p[1]).to_bits());
        let report = grad::check_gradient(|q| helpers(q[0], q[1]), &p, &[dx, dy], 1e-6);
        assert!(report.is_ok(), "{}", report.unwrap_err());
    }
}

#[derive_grad]
fn stop_gradient(x: f64, y: f64) -> f64 {
    let scale = grad::no_grad(x * y);
    scale * x + y
}

#[test]
fn no_grad_treats_its_value_as_a_constant() {
    // d/dx (c · x + y) with c = x·y held constant: c; d/dy: 1.
    assert_eq!(stop_gradient_grad(2.0, 3.0), (15.0, (6.0, 1.0)));
}

const SCALE: f64 = 2.5;

fn table(n: usize) -> f64 {
    [1.0, 2.0, 4.0][n % 3]
}

#[derive_grad]
fn constant_calls(x: f64, n: usize) -> f64 {
    x * table(n) + SCALE * x
}

#[test]
fn a_call_with_only_constant_arguments_needs_no_pullback() {
    assert_eq!(constant_calls_grad(2.0, 2), (13.0, 6.5));
}

fn blend(a: f64, w: f64) -> f64 {
    a * w
}

fn blend_pullback(a: f64, w: f64, d_out: f64, d_a: &mut f64, d_w: &mut f64) {
    *d_a += d_out * w;
    *d_w += d_out * a;
}

#[derive_grad]
fn constant_float_argument(x: f64) -> f64 {
    blend(x, 0.25) + blend(2.0, x)
}

#[test]
fn a_constant_float_argument_gets_a_discarded_buffer() {
    assert_eq!(constant_float_argument_grad(4.0), (9.0, 2.25));
}

#[derive_grad(jvp)]
pub fn call_in_branch(x: f64) -> f64 {
    if x > 0.0 {
        inner(x, x)
    } else {
        grad::sigmoid(x)
    }
}

#[test]
fn calls_inside_branches_run_only_when_taken() {
    let (_, d) = call_in_branch_grad(0.5);
    assert!((d - (0.5f64.sin() + 0.5 * 0.5f64.cos())).abs() < 1e-15);
    let (_, d) = call_in_branch_grad(-1.0);
    let s = grad::sigmoid(-1.0);
    assert!((d - s * (1.0 - s)).abs() < 1e-15);
}

/// Regression: a call whose only float arguments were arrays (`logsumexp(&v)`) was taken for a
/// constant, and its gradient silently dropped.
#[derive_grad(jvp)]
pub fn with_logsumexp(xs: &[f64], s: f64) -> f64 {
    let mut v = vec![0.0; xs.len()];
    for i in 0..xs.len() {
        v[i] = xs[i] * s;
    }
    grad::logsumexp(&v) + grad::logsumexp(xs)
}

#[test]
fn a_call_with_only_array_arguments_is_differentiated() {
    let x = [0.5, -1.0, 2.0];
    let (v, (gx, gs)) = with_logsumexp_grad(&x, 0.8);
    assert_eq!(v.to_bits(), with_logsumexp(&x, 0.8).to_bits());
    let mut g = gx.clone();
    g.push(gs);
    let report = grad::check_gradient(
        |p| with_logsumexp(&p[..3], p[3]),
        &[0.5, -1.0, 2.0, 0.8],
        &g,
        1e-6,
    );
    assert!(report.is_ok(), "{}", report.unwrap_err());
}

/// Regression (found by the differential fuzzer): a call argument whose adjoint nothing reads
/// afterwards (`x.powi(0)`) lent a buffer whose declaration dead-code elimination removed.
#[derive_grad]
pub fn dead_buffer(x: f64) -> f64 {
    -inner(grad::no_grad(x.tanh()), x.powi(0)) + x
}

#[test]
fn a_call_argument_with_a_dead_adjoint_gets_a_scratch_buffer() {
    assert_eq!(dead_buffer_grad(0.3).1, 1.0);
}

/// Regression (found by the differential fuzzer): one array element passed twice,
/// `inner(w[1], w[1])`, lent `&mut d_w[1]` twice.
#[derive_grad]
pub fn same_element_twice(x: f64, w: &[f64; 3]) -> f64 {
    inner(w[1], w[1]) * x + inner(w[0], w[2])
}

#[test]
fn an_element_passed_twice_gets_its_adjoint_summed() {
    let w = [0.5, 0.9, -0.4];
    let (_, (dx, dw)) = same_element_twice_grad(1.5, &w);
    let mut g = vec![dx];
    g.extend(dw);
    let report = grad::check_gradient(
        |p| same_element_twice(p[0], &[p[1], p[2], p[3]]),
        &[1.5, w[0], w[1], w[2]],
        &g,
        1e-7,
    );
    assert!(report.is_ok(), "{}", report.unwrap_err());
}
