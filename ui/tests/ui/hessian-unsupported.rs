// `hessian` is for scalar functions of scalar parameters, without calls to other
// differentiated functions (yet); each case says what to do instead.
use grad::derive_grad;

#[derive_grad(hessian)]
fn of_an_array(x: &[f64; 3]) -> f64 {
    x[0] * x[1] * x[2]
}

#[derive_grad(hessian)]
fn vector_valued(x: f64) -> [f64; 2] {
    [x, x * x]
}

#[derive_grad]
fn inner(x: f64) -> f64 {
    x.sin()
}

#[derive_grad(hessian)]
fn through_a_call(x: f64) -> f64 {
    inner(x) * x
}

fn main() {}
