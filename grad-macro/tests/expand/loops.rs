// Loops run backwards in the reverse sweep. A `mut` value the loop overwrites and the reverse
// sweep needs is taped; everything else is recomputed or read where it is.
#[derive_grad]
fn cube(x: f64) -> f64 {
    let mut y = 1.0;
    for _ in 0..3 {
        y *= x;
    }
    y
}

#[derive_grad]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[derive_grad]
fn prefix(x: &[f64; 4]) -> f64 {
    let mut p = [0.0; 4];
    p[0] = x[0];
    for i in 1..4 {
        p[i] = p[i - 1] + x[i] * x[i];
    }
    p[3] * p[1]
}
