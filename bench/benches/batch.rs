//! A data set's gradient in one thread and with rayon (`cargo bench -p grad-bench --bench
//! batch`): the generated functions hold no tape or global between calls, so a batch
//! parallelises as a map and a sum. BENCHMARKS.md has the speed-up on this machine.

#![allow(
    missing_docs,
    dead_code,
    reason = "the bench calls the generated `_grad`, not the function"
)]

use grad::derive_grad;
use rayon::prelude::*;

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

struct Data {
    samples: Vec<([f64; 8], f64)>,
    w1: [[f64; 8]; 16],
    w2: [f64; 16],
}

fn data() -> Data {
    let mut seed = 7u64;
    let mut rand = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    Data {
        samples: (0..20_000)
            .map(|_| (std::array::from_fn(|_| rand()), rand()))
            .collect(),
        w1: std::array::from_fn(|_| std::array::from_fn(|_| rand())),
        w2: std::array::from_fn(|_| rand()),
    }
}

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn one_thread(bencher: divan::Bencher) {
    let d = data();
    bencher.bench(|| {
        d.samples
            .iter()
            .map(|(x, y)| sample_loss_grad(&d.w1, &d.w2, x, *y).1)
            .fold(zero(), add)
    });
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn rayon(bencher: divan::Bencher) {
    let d = data();
    bencher.bench(|| {
        d.samples
            .par_iter()
            .map(|(x, y)| sample_loss_grad(&d.w1, &d.w2, x, *y).1)
            .reduce(zero, add)
    });
}
