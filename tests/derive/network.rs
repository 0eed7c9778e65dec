//! The lecture's one-hidden-layer score, s = u · f(W x + b), written with arrays and loops the
//! way a Rust user would, against the lecture's hand-written gradient:
//! δ = u ∘ f′(z), ∂s/∂W = δ xᵀ, ∂s/∂b = δ, ∂s/∂x = Wᵀ δ, ∂s/∂u = f(z).

use crate::{assert_close, noise};
use grad::derive_grad;

#[derive_grad(jvp)]
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

/// The same score with a sigmoid hidden layer, written with iterator chains.
#[derive_grad(jvp)]
pub fn score_sigmoid(w: &[[f64; 10]; 8], x: &[f64; 10], b: &[f64; 8], u: &[f64; 8]) -> f64 {
    let mut s = 0.0;
    for (i, row) in w.iter().enumerate() {
        let z = b[i] + row.iter().zip(x.iter()).map(|(a, c)| a * c).sum::<f64>();
        s += u[i] * grad::sigmoid(z);
    }
    s
}

type Params = ([[f64; 10]; 8], [f64; 10], [f64; 8], [f64; 8]);

fn params(seed: u64) -> Params {
    let mut r = noise(seed);
    let w = std::array::from_fn(|_| std::array::from_fn(|_| r()));
    (
        w,
        std::array::from_fn(|_| r()),
        std::array::from_fn(|_| r()),
        std::array::from_fn(|_| r()),
    )
}

/// The lecture's gradient, written by hand, for hidden activation `f` with derivative `df`.
fn by_hand(p: &Params, f: impl Fn(f64) -> f64, df: impl Fn(f64) -> f64) -> Params {
    let (w, x, b, u) = p;
    let z: [f64; 8] = std::array::from_fn(|i| b[i] + (0..10).map(|j| w[i][j] * x[j]).sum::<f64>());
    let delta: [f64; 8] = std::array::from_fn(|i| u[i] * df(z[i]));
    let dw = std::array::from_fn(|i| std::array::from_fn(|j| delta[i] * x[j]));
    let dx = std::array::from_fn(|j| (0..8).map(|i| w[i][j] * delta[i]).sum());
    let du = std::array::from_fn(|i| f(z[i]));
    (dw, dx, delta, du)
}

fn assert_params(actual: &Params, expected: &Params, what: &str) {
    assert_close(
        actual.0.as_flattened(),
        expected.0.as_flattened(),
        1e-13,
        &format!("{what}: ∂W"),
    );
    assert_close(&actual.1, &expected.1, 1e-13, &format!("{what}: ∂x"));
    assert_close(&actual.2, &expected.2, 1e-13, &format!("{what}: ∂b"));
    assert_close(&actual.3, &expected.3, 1e-13, &format!("{what}: ∂u"));
}

#[test]
fn the_score_gradient_is_the_lectures() {
    for seed in [1, 2, 3] {
        let p = params(seed);
        let (value, grad) = score_grad(&p.0, &p.1, &p.2, &p.3);
        assert_eq!(value.to_bits(), score(&p.0, &p.1, &p.2, &p.3).to_bits());
        let tanh_prime = |z: f64| 1.0 - z.tanh() * z.tanh();
        assert_params(&grad, &by_hand(&p, f64::tanh, tanh_prime), "tanh");
    }
}

#[test]
fn the_score_gradient_holds_for_a_sigmoid_layer_written_with_iterators() {
    let p = params(7);
    let (value, grad) = score_sigmoid_grad(&p.0, &p.1, &p.2, &p.3);
    assert_eq!(
        value.to_bits(),
        score_sigmoid(&p.0, &p.1, &p.2, &p.3).to_bits()
    );
    let s = grad::sigmoid;
    assert_params(&grad, &by_hand(&p, s, |z| s(z) * (1.0 - s(z))), "sigmoid");
}

#[test]
fn the_score_pullback_scales_and_accumulates() {
    let p = params(11);
    let (_, g) = score_grad(&p.0, &p.1, &p.2, &p.3);
    let (mut dw, mut dx, mut db, mut du) = ([[0.0; 10]; 8], [0.0; 10], [0.0; 8], [0.0; 8]);
    score_pullback(
        &p.0, &p.1, &p.2, &p.3, 0.5, &mut dw, &mut dx, &mut db, &mut du,
    );
    score_pullback(
        &p.0, &p.1, &p.2, &p.3, 0.5, &mut dw, &mut dx, &mut db, &mut du,
    );
    assert_params(&(dw, dx, db, du), &g, "two half pullbacks");
}
