// `_jacobian` has one column per input: a slice's length is not in its type.
use grad::derive_grad;

#[derive_grad]
fn f(x: &[f64], w: f64) -> [f64; 2] {
    [x[0] * w, x[1]]
}

fn main() {}
