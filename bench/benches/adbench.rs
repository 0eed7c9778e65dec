//! ADBench's real-world objectives — GMM, bundle adjustment, LSTM — timed by ADBench's own
//! protocol (its `docs/Methodology.md`): batches of calls grow until one takes ≥ 0.5 s, up to
//! 10 batches are run, and the minimum time per call is kept. Objective and gradient batches
//! alternate, so that both are timed side by side on the same (shared, noisy) machine, and the
//! table prints t(gradient) / t(objective) with absolute times, the figure ADBench and
//! GradBench publish.
//!
//! `cargo bench -p grad-bench --bench adbench` runs every instance; `cargo bench -p grad-bench --bench adbench -- gmm`
//! only those whose name contains `gmm`. Gradients are checked against ADBench's expected
//! values in `tests/adbench.rs` before they are timed here.

#![allow(
    missing_docs,
    clippy::doc_markdown,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "../../adbench/ba.rs"]
#[allow(dead_code, reason = "the CSR's shape serves tests/adbench.rs")]
mod ba;
#[path = "../../adbench/data.rs"]
#[allow(dead_code, reason = "its checks serve tests/adbench.rs")]
mod data;
#[path = "../../adbench/gmm.rs"]
#[allow(dead_code, reason = "its hand-derived oracle serves tests/adbench.rs")]
mod gmm;
#[path = "../../adbench/lstm.rs"]
mod lstm;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// ADBench's timing, for the objective and the gradient side by side: each call is repeated
/// in batches grown until one takes ≥ 0.5 s, then up to 10 rounds run one batch of each,
/// alternately (so that both see the same machine), and the minimum time per call is kept.
/// Returns (objective, gradient) seconds per call.
fn time_pair<A, B>(
    mut objective: impl FnMut() -> A,
    mut gradient: impl FnMut() -> B,
) -> (f64, f64) {
    let (a, b) = (calibrate(&mut objective), calibrate(&mut gradient));
    let (mut best_a, mut best_b) = (f64::INFINITY, f64::INFINITY);
    let start = Instant::now();
    for _ in 0..10 {
        best_a = best_a.min(batch(&mut objective, a));
        best_b = best_b.min(batch(&mut gradient, b));
        if start.elapsed() > Duration::from_secs(12) {
            break;
        }
    }
    (best_a, best_b)
}

/// How many calls make a batch of at least half a second.
fn calibrate<R>(call: &mut impl FnMut() -> R) -> u32 {
    let mut repeats = 1_u32;
    loop {
        let start = Instant::now();
        for _ in 0..repeats {
            black_box(call());
        }
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= 0.5 {
            return repeats;
        }
        let grow = (0.5 / elapsed.max(1e-9)).ceil().clamp(2.0, 100.0);
        repeats = (f64::from(repeats) * grow) as u32;
    }
}

/// Seconds per call over one batch.
fn batch<R>(call: &mut impl FnMut() -> R, repeats: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..repeats {
        black_box(call());
    }
    start.elapsed().as_secs_f64() / f64::from(repeats)
}

/// One line of the table.
fn report(name: &str, params: usize, objective: f64, gradient: f64) {
    println!(
        "{name:<32} {params:>8} {:>12} {:>12} {:>7.2}",
        seconds(objective),
        seconds(gradient),
        gradient / objective
    );
}

fn seconds(t: f64) -> String {
    match t {
        t if t < 1e-3 => format!("{:.2} µs", t * 1e6),
        t if t < 1.0 => format!("{:.3} ms", t * 1e3),
        t => format!("{t:.3} s"),
    }
}

fn gmm(file: &str) {
    let g = gmm::Gmm::read(file);
    let (objective, gradient) = time_pair(|| g.objective(), || g.gradient());
    let params = g.k * (g.d + 1) * (g.d + 2) / 2;
    report(file, params, objective, gradient);
}

fn ba(file: &str) {
    let problem = ba::Ba::read(file);
    // Outputs are kept from call to call, as ADBench's harness keeps them.
    let (mut reproj, mut w_err) = (Vec::new(), Vec::new());
    let mut j = problem.jacobian();
    let (objective, jacobian) = time_pair(
        || problem.objective_into(&mut reproj, &mut w_err),
        || problem.jacobian_into(&mut j),
    );
    let cols = ba::CAM * problem.n + 3 * problem.m + problem.p;
    report(file, cols, objective, jacobian);
}

fn lstm(file: &str) {
    let problem = lstm::Lstm::read(file);
    let (objective, gradient) = time_pair(|| problem.objective(), || problem.gradient());
    let params = problem.main_params.len() + problem.extra_params.len();
    report(file, params, objective, gradient);
}

/// Times one instance from its file.
type Run = fn(&str);

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters instances by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f));
    println!(
        "{:<32} {:>8} {:>12} {:>12} {:>7}",
        "instance", "params", "objective", "gradient", "ratio"
    );
    let runs: [(&str, Run); 11] = [
        ("gmm/1k/gmm_d2_K5.txt", gmm),
        ("gmm/1k/gmm_d10_K5.txt", gmm),
        ("gmm/1k/gmm_d64_K5.txt", gmm),
        ("gmm/10k/gmm_d2_K5.txt", gmm),
        ("ba/ba1_n49_m7776_p31843.txt", ba),
        ("ba/ba2_n21_m11315_p36455.txt", ba),
        ("ba/ba3_n161_m48126_p182072.txt", ba),
        ("ba/ba4_n372_m47423_p204472.txt", ba),
        ("ba/ba5_n257_m65132_p225911.txt", ba),
        ("lstm/lstm_l2_c1024.txt", lstm),
        ("lstm/lstm_l4_c1024.txt", lstm),
    ];
    for (file, run) in runs {
        if wanted(file) {
            run(file);
        }
    }
}
