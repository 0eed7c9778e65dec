// A type error in the user's own code is reported once, by rustc, at the user's line: not
// again for each generated copy of the expression, and never at the attribute.
use grad::derive_grad;

#[derive_grad(jvp)]
pub fn mixed_precision(x: f32, y: f64) -> f64 {
    (x * y).sin()
}

#[derive_grad(jvp)]
pub fn float_exponent(x: f64) -> f64 {
    x.powi(2.0) + x
}

fn main() {}
