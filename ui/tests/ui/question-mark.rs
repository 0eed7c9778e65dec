// The `?` operator is refused.
use grad::derive_grad;

fn parse(s: &str) -> Option<f64> {
    s.parse().ok()
}

#[derive_grad]
fn f(x: f64, s: &str) -> f64 {
    let v = parse(s)?;
    x * v
}

fn main() {}
