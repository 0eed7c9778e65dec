// `match` on a float is refused; integers only.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    match x {
        _ => x * 2.0,
    }
}

fn main() {}
