// `graph`: the function itself, recording each value of its computation graph with the local
// derivative along each edge; the `Graph` runs the backward sweep when the function returns.
#[derive_grad(graph)]
fn seed(x: f64, y: f64, z: f64) -> f64 {
    let a = x + y;
    let b = y.max(z);
    a * b
}

#[derive_grad(graph)]
fn branchy(x: f64, y: f64) -> f64 {
    let r = if x > y { (x * y).sin() } else { 2.0 };
    r * grad::sigmoid(x)
}
