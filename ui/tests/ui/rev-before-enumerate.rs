// `.rev()` must come last in a `for` loop source.
use grad::derive_grad;

#[derive_grad]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, v) in x.iter().rev().enumerate() {
        s += v * (i as f64);
    }
    s
}

fn main() {}
