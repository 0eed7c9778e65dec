//! The compile-fail cases of `grad` live in `tests/ui/` (`cargo test -p grad-ui`).
