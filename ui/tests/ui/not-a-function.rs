// The attribute applies to functions only.
use grad::derive_grad;

#[derive_grad]
struct Point {
    x: f64,
}

fn main() {}
