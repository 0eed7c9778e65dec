// A real `f64` method that is not differentiable (`sin_cos`) is reported with the supported list.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    let pair = x.sin_cos();
    pair.0 * pair.1
}

fn main() {}
