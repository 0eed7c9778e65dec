// A type parameter without a float bound cannot be differentiated.
use grad::derive_grad;

#[derive_grad]
fn f<T: Copy>(x: f64, marker: T) -> f64 {
    x * x
}

fn main() {}
