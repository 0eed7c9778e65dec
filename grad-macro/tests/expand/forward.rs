// Forward mode: after each value that depends on a parameter comes its tangent `t_…`, the
// same local derivatives as the reverse sweep, multiplied by the operands' tangents. Loops
// and arrays carry a tangent twin; a call goes through the callee's `_jvp`.
#[derive_grad(jvp)]
fn seed(x: f64, y: f64, z: f64) -> f64 {
    let a = x + y;
    let b = y.max(z);
    a * b
}

#[derive_grad(jvp)]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i].tanh();
    }
    s
}

#[derive_grad(jvp)]
fn prefix(x: &[f64; 4]) -> f64 {
    let mut p = [0.0; 4];
    p[0] = x[0];
    for i in 1..4 {
        p[i] = p[i - 1] + x[i] * x[i];
    }
    if p[3] > 1.0 { p[3].sqrt() * p[1] } else { p[1] }
}

#[derive_grad(jvp)]
fn composed(x: f64, y: f64) -> f64 {
    let h = seed(x, y, 1.0);
    grad::sigmoid(h) * x
}
