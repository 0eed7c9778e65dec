// Calls differentiate through the callee's `_pullback`: another `#[derive_grad]` function,
// a hand-written custom derivative, or a runtime helper; `no_grad` stops the gradient.
fn square(x: f64) -> f64 {
    x * x
}

fn square_pullback(x: f64, d_out: f64, d_x: &mut f64) {
    *d_x += d_out * 2.0 * x;
}

#[derive_grad]
fn composed(x: f64, y: f64, n: usize) -> f64 {
    let s = square(x) + grad::sigmoid(y);
    let scale = grad::no_grad(s);
    s * scale + (n as f64)
}

// A float by reference: each generated body starts with `let x = *x;`; a call passing `&a`
// keeps the reference, and its buffer is the float's.
#[derive_grad]
fn by_reference(x: &f64, w: f64) -> f64 {
    *x * w
}

#[derive_grad]
fn passes_a_reference(a: f64) -> f64 {
    by_reference(&a, 3.0).sin()
}
