//! The `#[derive_grad]` attribute of [`grad`](https://docs.rs/grad). Use it through `grad`,
//! whose documentation is the user manual.
//!
//! This file is the only one that touches `proc_macro`; everything else is in `engine`,
//! which tests, benchmarks and fuzzers run in-process.

extern crate proc_macro;

mod engine;

/// Generates the derivatives of a function. See the `grad` crate for the manual.
#[proc_macro_attribute]
pub fn derive_grad(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    engine::derive_grad(attr.into(), &item.into()).into()
}
