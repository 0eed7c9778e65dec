// A method on an array other than `.len()`/`.iter()` cannot be differentiated.
use grad::derive_grad;

#[derive_grad]
fn f(x: &[f64]) -> f64 {
    let copy = x.to_vec();
    copy[0]
}

fn main() {}
