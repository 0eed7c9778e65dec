// `async fn` cannot be differentiated.
use grad::derive_grad;

#[derive_grad]
async fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
