// A `&mut` parameter is refused: derivatives are of pure functions.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, out: &mut f64) -> f64 {
    x * x
}

fn main() {}
