// `wrt` names an integer parameter, which has no gradient.
use grad::derive_grad;

#[derive_grad(wrt(n))]
fn f(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn main() {}
