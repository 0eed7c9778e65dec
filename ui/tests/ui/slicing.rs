// Slicing an array is refused: index single elements in a loop instead.
use grad::derive_grad;

#[derive_grad]
fn f(x: &[f64]) -> f64 {
    let head = &x[0..2];
    head[0] * head[1]
}

fn main() {}
