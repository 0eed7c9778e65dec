// The lecture's one-hidden-layer score s = u · tanh(W x + b), written with arrays and loops.
// The reverse sweep computes δ = u ∘ tanh′(z) once per hidden unit and reuses it for ∂W, ∂b
// and ∂x.
#[derive_grad]
pub fn score(w: &[[f64; 10]; 8], x: &[f64; 10], b: &[f64; 8], u: &[f64; 8]) -> f64 {
    let mut s = 0.0;
    for i in 0..8 {
        let mut z = b[i];
        for j in 0..10 {
            z += w[i][j] * x[j];
        }
        s += u[i] * z.tanh();
    }
    s
}
