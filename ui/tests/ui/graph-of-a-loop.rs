// `graph` draws scalar code with branches and calls; loops are refused, not traced wrongly.
use grad::derive_grad;

#[derive_grad(graph)]
fn power(x: f64) -> f64 {
    let mut y = 1.0;
    for _ in 0..3 {
        y *= x;
    }
    y
}

fn main() {}
