// A parameter of a type the macro cannot differentiate (a struct, a tuple, a vector type of
// another crate) is an error naming it, never a silent constant; `wrt(...)` keeps it constant.
use grad::derive_grad;

pub struct Params {
    pub w: f64,
}

#[derive_grad]
pub fn scaled(p: &Params, x: f64) -> f64 {
    p.w * x
}

#[derive_grad]
pub fn first(pair: (f64, f64), x: f64) -> f64 {
    pair.0 * x
}

#[derive_grad]
pub fn nested(rows: &Vec<Vec<Vec<f64>>>, x: f64) -> f64 {
    rows.len() as f64 * x
}

// Excluded by `wrt`, the same parameter is a constant, and this compiles.
#[derive_grad(wrt(x))]
pub fn constant(p: &Params, x: f64) -> f64 {
    p.w * x
}

fn main() {}
