//! The benchmarks of `grad` live in `benches/` (`cargo bench -p grad-bench`); see BENCHMARKS.md.
