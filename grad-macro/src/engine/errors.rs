//! Collecting every error of a function before stopping (serde's `Ctxt` idea).
//!
//! Each pass pushes errors with the span of the offending user tokens and carries on, so one
//! compile shows every unsupported construct at once. The pipeline checks the sink between
//! stages and stops before code generation when it holds anything.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// An error sink.
#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error at `span`.
    pub fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records an error spanning all of `tokens`.
    pub fn spanned(&mut self, tokens: &impl ToTokens, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error from a parser.
    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// `true` when nothing has gone wrong.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors as `compile_error!` invocations, one per error.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
