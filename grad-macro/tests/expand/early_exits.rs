// `while`, `break` and `return` inside a loop: the forward sweep counts the iterations that
// ran, and the reverse sweep replays exactly those, backwards.
#[derive_grad]
fn grow(x: f64) -> f64 {
    let mut y = x;
    while y < 100.0 {
        y = y * 1.5 + x;
    }
    y
}

#[derive_grad]
fn first_large(x: f64, n: usize) -> f64 {
    let mut y = x;
    for i in 0..n {
        y = y * x + 1.0;
        if y > 20.0 {
            return y * (i as f64);
        }
    }
    y - x
}
