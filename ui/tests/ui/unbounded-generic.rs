// A type parameter that is not the float type (`T: grad::Real`) cannot be differentiated, and
// arrays of the generic float are not supported yet.
use grad::derive_grad;

#[derive_grad]
fn f<T: Copy>(x: f64, marker: T) -> f64 {
    x * x
}

fn main() {}

#[derive_grad]
fn arrays_of_generic<T: grad::Real>(x: &[T; 2]) -> T {
    x[0] * x[1]
}
