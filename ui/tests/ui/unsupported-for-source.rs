// A `for` loop over something that is not a range or an array is refused, with the list.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    for k in (0..n).filter(|k| k % 2 == 0) {
        y *= x + (k as f64);
    }
    y
}

fn main() {}
