// `if let` is refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, o: Option<i32>) -> f64 {
    if let Some(n) = o { x.powi(n) } else { x }
}

fn main() {}
