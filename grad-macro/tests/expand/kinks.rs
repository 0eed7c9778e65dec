// The kink conventions, as they appear in the reverse sweep.
#[derive_grad]
fn kinks(x: f64, y: f64) -> f64 {
    let a = x.abs() + y.clamp(-1.0, 1.0);
    let b = x.powi(3) + y.powf(x) + x.hypot(y);
    a * b.min(x)
}
