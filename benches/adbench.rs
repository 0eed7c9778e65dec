//! ADBench's real-world objectives — GMM, bundle adjustment, LSTM — timed by ADBench's own
//! protocol (its `docs/Methodology.md`): batches of calls grow until one takes ≥ 0.5 s, up to
//! 10 batches are run, and the minimum time per call is kept. Objective and gradient are timed
//! side by side in one run, and the table prints t(gradient) / t(objective) with absolute
//! times, the figure ADBench and GradBench publish.
//!
//! `cargo bench --bench adbench` runs every instance; `cargo bench --bench adbench -- gmm`
//! only those whose name contains `gmm`. Gradients are checked against ADBench's expected
//! values in `tests/adbench.rs` before they are timed here.

#![allow(
    missing_docs,
    clippy::doc_markdown,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "../adbench/ba.rs"]
#[allow(dead_code, reason = "the CSR's shape serves tests/adbench.rs")]
mod ba;
#[path = "../adbench/data.rs"]
#[allow(dead_code, reason = "its checks serve tests/adbench.rs")]
mod data;
#[path = "../adbench/gmm.rs"]
#[allow(dead_code, reason = "its hand-derived oracle serves tests/adbench.rs")]
mod gmm;
#[path = "../adbench/lstm.rs"]
mod lstm;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// ADBench's timing: the minimum seconds per call over up to 10 batches of ≥ 0.5 s each
/// (fewer, with a ≥ 2 s budget in all, for calls that are slow already).
fn time<R>(mut call: impl FnMut() -> R) -> f64 {
    let mut repeats = 1_u32;
    let mut best = f64::INFINITY;
    let mut spent = Duration::ZERO;
    let mut batches = 0;
    while batches < 10 {
        let start = Instant::now();
        for _ in 0..repeats {
            black_box(call());
        }
        let elapsed = start.elapsed();
        spent += elapsed;
        if elapsed < Duration::from_millis(500) {
            // Too short to count: grow the batch toward half a second.
            let grow = (0.5 / elapsed.as_secs_f64().max(1e-9)).ceil();
            repeats = (f64::from(repeats) * grow.clamp(2.0, 100.0)) as u32;
            continue;
        }
        best = best.min(elapsed.as_secs_f64() / f64::from(repeats));
        batches += 1;
        if spent > Duration::from_secs(8) {
            break;
        }
    }
    best
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
    let objective = time(|| g.objective());
    let gradient = time(|| g.gradient());
    let params = g.k * (g.d + 1) * (g.d + 2) / 2;
    report(file, params, objective, gradient);
}

fn ba(file: &str) {
    let problem = ba::Ba::read(file);
    let objective = time(|| problem.objective());
    let jacobian = time(|| problem.jacobian());
    let cols = ba::CAM * problem.n + 3 * problem.m + problem.p;
    report(file, cols, objective, jacobian);
}

fn lstm(file: &str) {
    let problem = lstm::Lstm::read(file);
    let objective = time(|| problem.objective());
    let gradient = time(|| problem.gradient());
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
