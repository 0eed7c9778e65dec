use grad::derive_grad;

#[derive_grad]
pub fn f(x: f64, y: f64, z: f64) -> f64 {
    let a = x + y;
    let b = y.max(z);
    a * b
}

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
fn cube(x: f64) -> f64 {
    let mut y = x;
    y *= x;
    y *= x;
    y
}

#[derive_grad]
fn matched(x: f64, n: i32) -> f64 {
    let mut acc = x;
    if x > 1.0 { acc *= x; } else { acc += 1.0; }
    match n { 0 => acc, k @ 1..=3 => acc * (k as f64), _ => return -acc }
}

fn square(x: f64) -> f64 { x * x }
fn square_pullback(x: f64, d_out: f64, d_x: &mut f64) { *d_x += d_out * 2.0 * x; }

#[derive_grad]
fn composed(x: f64, y: f64) -> f64 {
    square(x) + f(x, y, 1.0) * grad::sigmoid(y)
}

#[test]
fn smoke() {
    assert_eq!(f_grad(1.0, 2.0, 0.0), (6.0, (2.0, 5.0, 0.0)));
    assert_eq!(root_grad(0.0), (0.0, 0.0));
    assert_eq!(root_grad(4.0), (2.0, 0.25));
    assert_eq!(early_grad(-1.0, 3.0), (9.0, (0.0, 6.0)));
    assert_eq!(early_grad(4.0, 3.0), (6.0, (0.75, 2.0)));
    assert_eq!(cube_grad(2.0), (8.0, 12.0));
    assert_eq!(matched_grad(2.0, 2), (8.0, 8.0));
    assert_eq!(matched_grad(2.0, 7), (-4.0, -4.0));
    let (v, (dx, dy)) = composed_grad(0.5, 0.25);
    println!("{v} {dx} {dy}");
}
