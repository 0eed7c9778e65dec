//! Trains a two-layer network with plain SGD on two interleaved spirals, with gradients from
//! `#[derive_grad]`.
//!
//! The loss of one example is an ordinary Rust function over arrays; its generated
//! `_pullback` *adds* `d_out · ∂loss/∂p` into each buffer, so a mini-batch gradient is just a
//! loop of pullbacks with `d_out = 1 / batch` into buffers zeroed once per step.
//!
//! Run with `cargo run --release --example train`.

use grad::derive_grad;

/// Hidden units.
const H: usize = 24;

/// The network's parameters: a hidden tanh layer and a linear output.
struct Net {
    w1: [[f64; 2]; H],
    b1: [f64; H],
    w2: [f64; H],
    b2: f64,
}

/// The logistic loss of one example `(x, y)`, `y` in {−1, +1}: softplus(−y · logit).
#[derive_grad(wrt(w1, b1, w2, b2))]
fn loss(w1: &[[f64; 2]; H], b1: &[f64; H], w2: &[f64; H], b2: f64, x: &[f64; 2], y: f64) -> f64 {
    let mut logit = b2;
    for i in 0..H {
        let z = w1[i][0] * x[0] + w1[i][1] * x[1] + b1[i];
        logit += w2[i] * z.tanh();
    }
    grad::softplus(-y * logit)
}

/// The network's output for `x` (positive: class +1).
fn predict(net: &Net, x: &[f64; 2]) -> f64 {
    let mut logit = net.b2;
    for i in 0..H {
        logit += net.w2[i] * (net.w1[i][0] * x[0] + net.w1[i][1] * x[1] + net.b1[i]).tanh();
    }
    logit
}

/// A small deterministic generator, so the example needs no dependency.
struct Lcg(u64);

impl Lcg {
    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f64 {
        2.0 * self.next() - 1.0
    }
}

/// Two spirals of `n` points each, wound 1.5 times around the origin, with a little noise.
fn spirals(n: usize, rng: &mut Lcg) -> Vec<([f64; 2], f64)> {
    let mut data = Vec::with_capacity(2 * n);
    for k in 0..n {
        let t = 0.25 + 3.0 * std::f64::consts::PI * k as f64 / n as f64;
        let r = t / (3.25 * std::f64::consts::PI);
        for (class, phase) in [(1.0, 0.0), (-1.0, std::f64::consts::PI)] {
            let x = r * (t + phase).cos() + 0.02 * rng.signed();
            let y = r * (t + phase).sin() + 0.02 * rng.signed();
            data.push(([2.0 * x, 2.0 * y], class));
        }
    }
    data
}

fn main() {
    let mut rng = Lcg(7);
    let data = spirals(200, &mut rng);
    let mut net = Net {
        w1: std::array::from_fn(|_| [2.0 * rng.signed(), 2.0 * rng.signed()]),
        b1: std::array::from_fn(|_| rng.signed()),
        w2: std::array::from_fn(|_| 0.5 * rng.signed()),
        b2: 0.0,
    };
    let (batch, epochs, rate) = (20, 600, 0.2);
    let mut order: Vec<usize> = (0..data.len()).collect();
    println!(
        "two spirals, {} points; network 2-{H}-1, tanh; SGD, batch {batch}, rate {rate}",
        data.len()
    );
    println!("{:>6}  {:>8}  {:>8}", "epoch", "loss", "accuracy");
    let mut accuracy = 0.0;
    for epoch in 0..=epochs {
        // Shuffle with Fisher-Yates.
        for i in (1..order.len()).rev() {
            let j = (rng.next() * (i + 1) as f64) as usize;
            order.swap(i, j);
        }
        for chunk in order.chunks(batch) {
            let (mut dw1, mut db1, mut dw2, mut db2) = ([[0.0; 2]; H], [0.0; H], [0.0; H], 0.0);
            let (mut dx, mut dy) = ([0.0; 2], 0.0);
            let scale = 1.0 / chunk.len() as f64;
            for &k in chunk {
                let (x, y) = &data[k];
                loss_pullback(
                    &net.w1, &net.b1, &net.w2, net.b2, x, *y, scale, &mut dw1, &mut db1, &mut dw2,
                    &mut db2, &mut dx, &mut dy,
                );
            }
            for i in 0..H {
                net.w1[i][0] -= rate * dw1[i][0];
                net.w1[i][1] -= rate * dw1[i][1];
                net.b1[i] -= rate * db1[i];
                net.w2[i] -= rate * dw2[i];
            }
            net.b2 -= rate * db2;
        }
        if epoch % 100 == 0 {
            let total: f64 = data
                .iter()
                .map(|(x, y)| loss(&net.w1, &net.b1, &net.w2, net.b2, x, *y))
                .sum();
            let correct = data
                .iter()
                .filter(|(x, y)| predict(&net, x) * y > 0.0)
                .count();
            accuracy = correct as f64 / data.len() as f64;
            println!(
                "{epoch:>6}  {:>8.4}  {:>7.1}%",
                total / data.len() as f64,
                100.0 * accuracy
            );
        }
    }
    // A gradient check of the trained network's loss on one example.
    let (x, y) = &data[3];
    let (_, (dw1, db1, dw2, db2)) = loss_grad(&net.w1, &net.b1, &net.w2, net.b2, x, *y);
    let mut point: Vec<f64> = net.w1.as_flattened().to_vec();
    point.extend(net.b1.iter().chain(&net.w2));
    point.push(net.b2);
    let mut g: Vec<f64> = dw1.as_flattened().to_vec();
    g.extend(db1.iter().chain(&dw2));
    g.push(db2);
    let check = grad::check_gradient(
        |p| {
            let w1 = std::array::from_fn(|i| [p[2 * i], p[2 * i + 1]]);
            let b1 = std::array::from_fn(|i| p[2 * H + i]);
            let w2 = std::array::from_fn(|i| p[3 * H + i]);
            loss(&w1, &b1, &w2, p[4 * H], x, *y)
        },
        &point,
        &g,
        1e-6,
    )
    .unwrap_or_else(|mismatch| panic!("{mismatch}"));
    println!(
        "gradient check of the {} loss components passed (max abs error {:.1e})",
        g.len(),
        check.max_abs_error()
    );
    assert!(accuracy > 0.9, "the network should separate the spirals");
}
