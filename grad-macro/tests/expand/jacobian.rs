// A function returning `[f64; M]` gets `_jacobian` and a `_pullback` taking `d_out: [f64; M]`.
// With no more outputs than inputs, the Jacobian is one forward sweep and then one reverse
// sweep per output (tapes are rewound between them); with more outputs, one forward sweep
// (the nested `_jvp`) per input.
#[derive_grad]
fn polar(r: f64, theta: f64, w: &[f64; 3]) -> [f64; 2] {
    let s = w[0] + w[1] * w[2];
    [r * theta.cos() * s, r * theta.sin()]
}

#[derive_grad]
fn curve(t: f64) -> [f64; 3] {
    [t.cos(), t.sin(), t * t]
}

#[derive_grad]
fn running(x: &[f64; 3], k: f64) -> [f64; 2] {
    let mut p = 1.0;
    let mut s = 0.0;
    for i in 0..3 {
        p *= x[i] * k;
        s += p.sin();
    }
    [p, s]
}
