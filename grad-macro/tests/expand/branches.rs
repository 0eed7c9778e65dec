// Branches are replayed, never flattened: the square root of the branch not taken is never
// differentiated, and an early return reads as an `if`/`else`.
#[derive_grad]
fn root(x: f64) -> f64 {
    if x > 0.0 { x.sqrt() } else { 0.0 }
}

#[derive_grad]
fn early(x: f64, y: f64) -> f64 {
    if x < 0.0 {
        return y * y;
    }
    let s = x.sqrt();
    s * y
}

#[derive_grad]
fn piecewise(x: f64) -> f64 {
    let y = if x < -1.0 {
        -x.exp()
    } else if x < 1.0 {
        let t = x * x;
        t.sin()
    } else {
        x.ln()
    };
    y * x
}
