// The lecture's example: f(x, y, z) = (x + y) · max(y, z).
#[derive_grad]
pub fn f(x: f64, y: f64, z: f64) -> f64 {
    let a = x + y;
    let b = y.max(z);
    a * b
}
