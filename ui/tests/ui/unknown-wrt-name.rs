// `wrt` names a parameter that does not exist.
use grad::derive_grad;

#[derive_grad(wrt(x, q))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
