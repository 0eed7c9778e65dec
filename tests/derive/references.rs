//! Floats passed by reference (`x: &f64`, as `std::autodiff`'s tests and Enzyme-style code
//! write them): the gradient, buffer and tangent are the float's, in every mode and through
//! calls that pass `&x`. Oracles: hand-derived formulas and central differences.

#![allow(
    clippy::trivially_copy_pass_by_ref,
    clippy::float_cmp,
    clippy::needless_range_loop
)]

use grad::derive_grad;

#[derive_grad(jvp)]
fn mixed(x: &f64, y: f64) -> f64 {
    *x * *x + x.sin() * y + if *x > 0.0 { x * 2.0 } else { 0.0 }
}

#[derive_grad(jvp, hessian)]
fn both(x: &f64, y: &f64) -> f64 {
    x * y * y
}

#[derive_grad(jvp)]
fn passes_references(a: f64) -> f64 {
    let s = mixed(&a, 2.0);
    s * both(&a, &3.0)
}

#[derive_grad(jvp)]
fn pair(x: &f64) -> [f64; 2] {
    [x * 2.0, x.cos()]
}

#[derive_grad(graph)]
fn drawn(x: &f64) -> f64 {
    x.exp()
}

#[derive_grad]
fn scaled_sum(x: &f32, w: &[f32]) -> f32 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * *x;
    }
    s
}

fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn a_float_by_reference_has_the_float_gradient_in_every_mode() {
    let x = 0.7_f64;
    // ∂/∂x (x² + y sin x + 2x) = 2x + y cos x + 2; ∂/∂y = sin x.
    let expected = (2.0 * x + 2.0 * x.cos() + 2.0, x.sin());
    let (v, (dx, dy)) = mixed_grad(&x, 2.0);
    assert_eq!(v.to_bits(), mixed(&x, 2.0).to_bits());
    assert!((dx - expected.0).abs() < 1e-14 && (dy - expected.1).abs() < 1e-15);
    assert!((dx - central(|x| mixed(&x, 2.0), x)).abs() < 1e-7);
    assert_eq!(mixed_jvp(&x, 2.0, 1.0, 0.0).1, dx);
    let (mut bx, mut by) = (1.0, 0.0);
    mixed_pullback(&x, 2.0, 2.0, &mut bx, &mut by);
    assert_eq!((bx, by), (1.0 + 2.0 * dx, 2.0 * dy));
    // x y² at (2, 3): gradient (y², 2xy), Hessian [[0, 2y], [2y, 2x]].
    assert_eq!(both_grad(&2.0, &3.0), (18.0, (9.0, 12.0)));
    assert_eq!(
        both_hessian(&2.0, &3.0),
        (18.0, [9.0, 12.0], [[0.0, 6.0], [6.0, 4.0]])
    );
    assert_eq!(pair_jacobian(&x).1, [[2.0], [-x.sin()]]);
    assert!(drawn_graph(&1.0).to_dot().contains("exp"));
    assert_eq!(
        scaled_sum_grad(&2.0, &[1.0, 3.0]),
        (8.0, (4.0, vec![2.0, 2.0]))
    );
}

#[test]
fn a_call_passing_a_reference_carries_the_gradient() {
    let a = 0.7;
    let (v, d) = passes_references_grad(a);
    assert_eq!(v.to_bits(), passes_references(a).to_bits());
    assert!((d - central(passes_references, a)).abs() < 1e-6);
    assert!((passes_references_jvp(a, 1.0).1 - d).abs() < 1e-13);
}
