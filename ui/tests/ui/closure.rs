// A closure in the body is outside the subset.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    let square = |v: f64| v * v;
    square(x)
}

fn main() {}
