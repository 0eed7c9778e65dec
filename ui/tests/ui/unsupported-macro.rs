// Only assert!/debug_assert!/println!/eprintln! statements are allowed.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64) -> f64 {
    if x < 0.0 {
        panic!("negative input");
    }
    x.sqrt()
}

fn main() {}
