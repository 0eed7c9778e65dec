// A function generic over its float type: the generated functions are generic too, and
// every constant of the derivative is `T::from_f64(…)`, so one source serves f32, f64 and
// any other `grad::Real`, dual numbers included.
#[derive_grad(jvp, hessian)]
fn softclip<T: grad::Real>(x: T, y: T) -> T {
    let s = (x * y).sin() + T::from_f64(0.5) * x.powi(3);
    if s > T::zero() { s.sqrt() * y } else { s.max(y) }
}
