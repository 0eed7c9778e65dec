// A destructuring `let` is refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, y: f64) -> f64 {
    let (a, b) = (x * y, x + y);
    a / b
}

fn main() {}
