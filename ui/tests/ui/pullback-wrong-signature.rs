// A custom pullback with the wrong signature is a type error at the user's call.
use grad::derive_grad;

fn g(x: f64) -> f64 {
    x * x
}

fn g_pullback(x: f64, d_out: f64) -> f64 {
    2.0 * x * d_out
}

#[derive_grad]
fn f(x: f64) -> f64 {
    let y = g(x) + 1.0;
    y * x
}

fn main() {}
