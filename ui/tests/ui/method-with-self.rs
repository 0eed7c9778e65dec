// A method with a `self` receiver is refused.
use grad::derive_grad;

struct Model {
    w: f64,
}

impl Model {
    #[derive_grad]
    fn predict(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
