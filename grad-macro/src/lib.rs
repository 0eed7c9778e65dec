//! The `#[derive_grad]` attribute of [`grad`](https://docs.rs/grad). Use it through `grad`.
extern crate proc_macro;

/// See the `grad` crate.
#[proc_macro_attribute]
pub fn derive_grad(_attr: proc_macro::TokenStream, item: proc_macro::TokenStream) -> proc_macro::TokenStream {
    item
}
