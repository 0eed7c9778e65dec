// `let mut`, compound assignment and shadowing become SSA values: each version keeps its
// own name, so the reverse sweep can read the value it needs.
#[derive_grad]
fn cube(x: f64) -> f64 {
    let mut y = x;
    y *= x;
    y *= x;
    y
}

#[derive_grad]
fn shadow(x: f64, y: f64) -> f64 {
    let x = x * y;
    let x = x.tanh();
    let mut acc = 1.0;
    if y > 0.0 {
        acc += x;
    } else {
        acc -= x * x;
    }
    acc / y
}
