//! Reading ADBench's data files (formats of its `docs/FileFormat.md`).

// Mirrors ADBench's C++ index by index, on purpose.
#![allow(
    clippy::doc_markdown,
    clippy::needless_range_loop,
    clippy::unreadable_literal
)]

use std::path::PathBuf;

/// The path of an ADBench data file, vendored under `data/adbench/` at the workspace's root
/// (the benchmarks' crate is a member below it).
pub fn path(relative: &str) -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = here
        .ancestors()
        .find(|dir| dir.join("data/adbench").is_dir())
        .unwrap_or(&here);
    root.join("data/adbench").join(relative)
}

/// Every whitespace-separated number of a file, in order.
pub fn numbers(relative: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"));
    text.split_whitespace()
        .map(|t| {
            t.parse()
                .unwrap_or_else(|e| panic!("{relative}: {t:?}: {e}"))
        })
        .collect()
}

/// ADBench's difference measure: `|x − y| / max(1, |x| + |y|)`, 0 when equal.
pub fn rho(x: f64, y: f64) -> f64 {
    if x == y {
        0.0
    } else {
        (x - y).abs() / (x.abs() + y.abs()).max(1.0)
    }
}

/// The largest ρ over two equally long vectors.
pub fn max_rho(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(&x, &y)| rho(x, y))
        .fold(0.0, f64::max)
}
