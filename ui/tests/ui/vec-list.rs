// `vec![a, b]` is refused: use an array literal.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    let v = vec![x, x * x];
    v[0] + v[1]
}

fn main() {}
