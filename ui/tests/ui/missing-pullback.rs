// Calling a function that has no `_pullback` is an error at the call.
use grad::derive_grad;

fn helper(x: f64) -> f64 {
    x.sin() * 3.0
}

#[derive_grad]
fn f(x: f64) -> f64 {
    helper(x) * x
}

fn main() {}
