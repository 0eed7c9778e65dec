//! The macro's engine, free of `proc_macro` so that tests, benchmarks and fuzzers can run it
//! in-process. `lib.rs` is the only file that touches `proc_macro`.

pub mod activity;
pub mod args;
pub mod emit;
pub mod errors;
pub mod expand;
pub mod forward;
pub mod generate;
pub mod graph;
pub mod ir;
pub mod jacobian;
pub mod lower;
pub mod optimize;
pub mod plant;
pub mod reverse;
pub mod rules;
pub mod signature;

pub use expand::derive_grad;

#[cfg(test)]
mod golden;
