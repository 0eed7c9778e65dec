// `match` on an integer: the reverse sweep replays the same patterns.
#[derive_grad]
fn matched(x: f64, n: i32) -> f64 {
    match n {
        0 => x,
        k @ 1..=3 => x.powi(k) / (k as f64),
        _ => return -x,
    }
}
