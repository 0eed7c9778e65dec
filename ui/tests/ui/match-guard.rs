// Match guards are refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, n: i32) -> f64 {
    match n {
        k if k > 2 => x * x,
        _ => x,
    }
}

fn main() {}
