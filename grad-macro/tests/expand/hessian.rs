// `hessian`: forward mode over the gradient's own code. The nested `_hvp` computes the value,
// the gradient, and the gradient's derivative along `t`; one sweep per parameter gives the
// columns, and mirroring the lower triangle makes the matrix exactly symmetric.
#[derive_grad(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    let a = 1.0 - x;
    let b = y - x * x;
    a * a + 100.0 * b * b
}

#[derive_grad(hessian)]
fn branchy(x: f64, y: f64) -> f64 {
    if x > y { (x * y).sin() } else { x.exp() * y }
}
