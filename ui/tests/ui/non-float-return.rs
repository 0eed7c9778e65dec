// The function must return a float.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> i32 {
    x as i32
}

fn main() {}
