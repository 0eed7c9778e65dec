//! The `_pullback` convention: it accumulates `d_out · ∂f/∂p` into every float buffer.

use grad::derive_grad;

#[derive_grad]
fn f(x: f64, y: f64, n: i32) -> f64 {
    let a = if n > 0 { x * y } else { x - y };
    a.sin() * x
}

#[test]
fn the_pullback_accumulates_the_scaled_gradient() {
    for (x, y, n) in [(0.3, 1.2, 1), (0.3, 1.2, 0), (-2.0, 0.7, 5)] {
        let (_, (gx, gy)) = f_grad(x, y, n);
        let (mut dx, mut dy) = (10.0, -1.0);
        f_pullback(x, y, n, 2.5, &mut dx, &mut dy);
        assert!((dx - (10.0 + 2.5 * gx)).abs() < 1e-13);
        assert!((dy - (-1.0 + 2.5 * gy)).abs() < 1e-13);
    }
}

#[derive_grad]
fn identity(x: f64, _y: f64) -> f64 {
    x
}

#[test]
fn returning_a_parameter_passes_the_seed_to_its_buffer() {
    assert_eq!(identity_grad(4.0, 1.0), (4.0, (1.0, 0.0)));
    let (mut dx, mut dy) = (1.0, 1.0);
    identity_pullback(4.0, 1.0, 3.0, &mut dx, &mut dy);
    assert_eq!((dx, dy), (4.0, 1.0));
}

#[derive_grad]
fn constant(_x: f64) -> f64 {
    2.0 + 0.0 * f64::from(1u8)
}

#[test]
fn a_constant_function_has_a_zero_gradient() {
    assert_eq!(constant_grad(4.0), (2.0, 0.0));
    let mut dx = 0.5;
    constant_pullback(4.0, 1.0, &mut dx);
    assert_eq!(dx, 0.5);
}
