//! `f32` functions and casts between float types, against hand-derived gradients.

use grad::derive_grad;

#[derive_grad]
pub fn loss(w: f32, x: f32, target: f32) -> f32 {
    let error = w * x - target;
    0.5 * error * error
}

#[test]
fn f32_functions_get_f32_gradients() {
    let (v, (dw, dx, dt)) = loss_grad(2.0, 3.0, 1.0);
    assert_eq!(v.to_bits(), loss(2.0, 3.0, 1.0).to_bits());
    assert_eq!((v, dw, dx, dt), (12.5, 15.0, 10.0, -5.0));
}

#[derive_grad]
fn f32_methods(x: f32) -> f32 {
    x.sin().exp() + x.powi(3) / 3.0 + x.sqrt().to_degrees()
}

#[test]
fn f32_methods_differentiate_in_single_precision() {
    for x in [0.5_f32, 1.5, 3.0] {
        let (v, d) = f32_methods_grad(x);
        assert_eq!(v.to_bits(), f32_methods(x).to_bits());
        let expected = x.cos() * x.sin().exp() + x * x + f32::to_degrees(1.0) * 0.5 / x.sqrt();
        assert!(
            (d - expected).abs() <= 1e-5 * expected.abs(),
            "{d} vs {expected}"
        );
    }
}

#[derive_grad]
fn mixed(x: f64, y: f32) -> f64 {
    let narrow = (x as f32) * y;
    f64::from(1.0_f32) * (narrow as f64) + x
}

#[test]
fn casts_between_float_types_carry_the_derivative() {
    let (v, (dx, dy)) = mixed_grad(1.5, 2.0);
    assert_eq!(v, 4.5);
    assert_eq!(dx, 3.0);
    assert_eq!(dy, 1.5_f32);
}

#[derive_grad(wrt(w))]
fn only_w(w: f32, x: f32) -> f32 {
    (w * x).tanh()
}

#[test]
fn wrt_on_f32() {
    let (v, dw) = only_w_grad(0.5, 2.0);
    let t = (1.0_f32).tanh();
    assert_eq!(v, t);
    assert!((dw - 2.0 * (1.0 - t * t)).abs() < 1e-6);
}

#[derive_grad(jvp)]
fn scaled_root_f32(x: f32, z: f32) -> f32 {
    (x * z).abs().sqrt() + x * z.sqrt()
}

#[test]
fn f32_strong_zeros_test_their_product_in_single_precision() {
    // At z = 0, √z has an infinite derivative met by a zero factor x = 0 and by abs's 0 at
    // the kink: both contribute 0 (the strong zero printed as `f32::is_nan(..)`). Elsewhere,
    // hand-derived: ∂x = √z + sign(xz)·z/(2√|xz|), ∂z = x/(2√z) + sign(xz)·x/(2√|xz|).
    assert_eq!(scaled_root_f32_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
    assert_eq!(scaled_root_f32_jvp(0.0, 0.0, 1.0, 1.0), (0.0, 0.0));
    let (x, z) = (0.5_f32, 4.0_f32);
    let (_, (dx, dz)) = scaled_root_f32_grad(x, z);
    let r = (x * z).sqrt();
    assert!((dx - (z.sqrt() + z / (2.0 * r))).abs() < 1e-5, "{dx}");
    assert!(
        (dz - (x / (2.0 * z.sqrt()) + x / (2.0 * r))).abs() < 1e-5,
        "{dz}"
    );
}
