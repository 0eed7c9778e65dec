//! The gradient of a loss over a data set, on every core: the generated functions are pure
//! (no tape or global survives a call), so a batch is a parallel map and a sum.
//!
//! `cargo run -p grad-bench --release --example batch` prints the gradient computed in one
//! thread and with rayon, checks that they agree, and times both.

use grad::derive_grad;
use rayon::prelude::*;
use std::time::Instant;

/// A two-layer network's squared error on one sample: 8 inputs, 16 hidden units.
#[derive_grad(wrt(w1, w2))]
fn sample_loss(w1: &[[f64; 8]; 16], w2: &[f64; 16], x: &[f64; 8], y: f64) -> f64 {
    let mut out = 0.0;
    for i in 0..16 {
        let mut z = 0.0;
        for j in 0..8 {
            z += w1[i][j] * x[j];
        }
        out += w2[i] * z.tanh();
    }
    let e = out - y;
    0.5 * e * e
}

type Gradient = ([[f64; 8]; 16], [f64; 16]);

/// The sum of two gradients (what a reduction combines: by value, as `fold` passes them).
#[allow(clippy::large_types_passed_by_value)]
fn add(a: Gradient, b: Gradient) -> Gradient {
    let (mut w1, mut w2) = a;
    for (row, other) in w1.iter_mut().zip(&b.0) {
        for (v, o) in row.iter_mut().zip(other) {
            *v += o;
        }
    }
    for (v, o) in w2.iter_mut().zip(&b.1) {
        *v += o;
    }
    (w1, w2)
}

fn zero() -> Gradient {
    ([[0.0; 8]; 16], [0.0; 16])
}

fn main() {
    let n = 200_000;
    let mut seed = 1u64;
    let mut rand = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let data: Vec<([f64; 8], f64)> = (0..n)
        .map(|_| (std::array::from_fn(|_| rand()), rand()))
        .collect();
    let w1: [[f64; 8]; 16] = std::array::from_fn(|_| std::array::from_fn(|_| rand()));
    let w2: [f64; 16] = std::array::from_fn(|_| rand());

    let one = |(x, y): &([f64; 8], f64)| sample_loss_grad(&w1, &w2, x, *y).1;
    let start = Instant::now();
    let sequential = data.iter().map(one).fold(zero(), add);
    let t1 = start.elapsed();
    let start = Instant::now();
    let parallel = data.par_iter().map(one).reduce(zero, add);
    let t2 = start.elapsed();

    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    assert!(close(sequential.1[3], parallel.1[3]) && close(sequential.0[5][2], parallel.0[5][2]));
    println!(
        "{n} samples: one thread {t1:.2?}, {} threads {t2:.2?} (×{:.2})",
        rayon::current_num_threads(),
        t1.as_secs_f64() / t2.as_secs_f64()
    );
    let loss: f64 = data.iter().map(|(x, y)| sample_loss(&w1, &w2, x, *y)).sum();
    println!("loss {loss:.6}, ∂loss/∂w2[3] = {:.6}", sequential.1[3]);
}
