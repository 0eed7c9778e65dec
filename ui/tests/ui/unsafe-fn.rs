// `unsafe fn` is refused.
use grad::derive_grad;

#[derive_grad]
unsafe fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
