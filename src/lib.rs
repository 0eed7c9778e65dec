//! grad
pub use grad_macro::derive_grad;
pub use grad_runtime::*;
