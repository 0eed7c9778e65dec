// Every unsupported construct of a body is reported at once, not just the first.
use grad::derive_grad;

#[derive_grad]
fn f(x: f64, y: f64) -> f64 {
    let g = |v: f64| v + 1.0;
    let z = unsafe { std::ptr::read(&x) };
    let w = y.sin_cos();
    match x {
        _ => g(z),
    }
}

fn main() {}
