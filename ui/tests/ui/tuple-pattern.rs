// A destructuring `let` other than a tuple of names (`let (a, b) = (…, …)`) is refused.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, y: f64) -> f64 {
    let [a, b] = [x * y, x + y];
    let (c, (d, e)) = (a, (b, x));
    a / b + c * d * e
}

fn main() {}
