//! ADBench's LSTM: the loss of a sequence predicted by a stack of LSTM layers with diagonal
//! weights, in plain scalar Rust with the loop structure of its `lstm.h` (including the
//! `+ 2` of its log-sum-exp), differentiated by `#[derive_grad]`.

// Mirrors ADBench's C++ index by index, on purpose.
#![allow(
    clippy::doc_markdown,
    clippy::needless_range_loop,
    clippy::manual_memcpy,
    clippy::unreadable_literal
)]

use super::data;
use grad::derive_grad;

/// One LSTM instance: `l` layers, `c` characters of `b` bits.
pub struct Lstm {
    pub l: usize,
    pub c: usize,
    pub b: usize,
    /// Per layer: weights `[forget, ingate, outgate, change]` (`b` each), then biases.
    pub main_params: Vec<f64>,
    /// `in_weight`, `out_weight`, `out_bias` (`b` each).
    pub extra_params: Vec<f64>,
    /// Per layer: hidden (`b`), then cell (`b`); the initial state of every run.
    pub state: Vec<f64>,
    /// `c` characters of `b` binary digits.
    pub sequence: Vec<f64>,
}

impl Lstm {
    /// Reads `lstm/…` in ADBench's format (`read_lstm_instance`).
    pub fn read(relative: &str) -> Lstm {
        let v = data::numbers(relative);
        let (l, c, b) = (v[0] as usize, v[1] as usize, v[2] as usize);
        let mut at = 3;
        let mut take = |count: usize| {
            let slice = v[at..at + count].to_vec();
            at += count;
            slice
        };
        Lstm {
            l,
            c,
            b,
            main_params: take(8 * l * b),
            extra_params: take(3 * b),
            state: take(2 * l * b),
            sequence: take(c * b),
        }
    }

    /// The loss (`lstm_objective`).
    pub fn objective(&self) -> f64 {
        lstm_objective(
            self.l,
            self.c,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        )
    }

    /// The loss and its gradient `[∂main_params | ∂extra_params]`, by `#[derive_grad]`.
    pub fn gradient(&self) -> (f64, Vec<f64>) {
        let (loss, (mut main, extra)) = lstm_objective_grad(
            self.l,
            self.c,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        );
        main.extend(extra);
        (loss, main)
    }
}

/// ADBench's `lstm_objective`: the state is copied first, so every call starts from `state`
/// (ADBench resets it before each run instead).
#[derive_grad(wrt(main_params, extra_params))]
pub fn lstm_objective(
    l: usize,
    c: usize,
    b: usize,
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
) -> f64 {
    let mut s = vec![0.0; 2 * l * b];
    for i in 0..2 * l * b {
        s[i] = state[i];
    }
    let mut gates = vec![0.0; 4 * b];
    let mut x = vec![0.0; b];
    let mut ypred = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..c - 1 {
        // lstm_predict: the input through every layer, then the output layer.
        for i in 0..b {
            x[i] = sequence[t * b + i] * extra_params[i];
        }
        for layer in 0..l {
            let (w, bias) = (8 * b * layer, 8 * b * layer + 4 * b);
            let (hidden, cell) = (2 * b * layer, 2 * b * layer + b);
            // lstm_model
            for i in 0..b {
                gates[i] = sigmoid(x[i] * main_params[w + i] + main_params[bias + i]);
                gates[b + i] =
                    sigmoid(s[hidden + i] * main_params[w + b + i] + main_params[bias + b + i]);
                gates[2 * b + i] =
                    sigmoid(x[i] * main_params[w + 2 * b + i] + main_params[bias + 2 * b + i]);
                gates[3 * b + i] = (s[hidden + i] * main_params[w + 3 * b + i]
                    + main_params[bias + 3 * b + i])
                    .tanh();
            }
            for i in 0..b {
                s[cell + i] = s[cell + i] * gates[i] + gates[b + i] * gates[3 * b + i];
            }
            for i in 0..b {
                s[hidden + i] = gates[2 * b + i] * s[cell + i].tanh();
                x[i] = s[hidden + i];
            }
        }
        for i in 0..b {
            ypred[i] = x[i] * extra_params[b + i] + extra_params[2 * b + i];
        }
        // logsumexp, ADBench's: no shift, and `+ 2`.
        let mut sum = 0.0;
        for i in 0..b {
            sum += ypred[i].exp();
        }
        let lse = (sum + 2.0).ln();
        for i in 0..b {
            total += sequence[(t + 1) * b + i] * (ypred[i] - lse);
        }
    }
    -total / ((c - 1) * b) as f64
}

/// The logistic function as ADBench writes it.
#[derive_grad]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
