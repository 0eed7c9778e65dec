// Items inside the body are refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    fn helper(v: f64) -> f64 {
        v + 1.0
    }
    helper(x)
}

fn main() {}
