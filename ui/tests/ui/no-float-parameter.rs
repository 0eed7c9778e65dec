// A function without float parameters has nothing to differentiate.
use grad::derive_grad;

#[derive_grad]
fn f(n: i32) -> f64 {
    n as f64
}

fn main() {}
