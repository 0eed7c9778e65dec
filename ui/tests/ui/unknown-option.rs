// An unknown option in the attribute is reported with the list of options.
use grad::derive_grad;

#[derive_grad(fast)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
