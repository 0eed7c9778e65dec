// Floats are passed by value.
use grad::derive_grad;

#[derive_grad]
fn f(x: &f64) -> f64 {
    *x * *x
}

fn main() {}
