// Bit operators do not apply to floats (rustc agrees, and the macro says so once).
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, n: u32) -> f64 {
    let m = n << 2;
    x * (m as f64) + (x & 1.0)
}

fn main() {}
