// `while let` is refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, mut o: Option<u32>) -> f64 {
    let mut y = x;
    while let Some(n) = o {
        y *= x;
        o = n.checked_sub(1);
    }
    y
}

fn main() {}
