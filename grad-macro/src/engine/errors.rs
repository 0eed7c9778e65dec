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
    /// A type error in the user's own code, which rustc reports on the user's function: the
    /// generated functions become stubs, so that it is reported once, not once per copy.
    rustc_reports: bool,
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

    /// Notes a type error of the user's that rustc reports at the user's line (`f32 * f64`,
    /// `x.powi(2.0)`); no error of the macro's own is added.
    pub fn left_to_rustc(&mut self) {
        self.rustc_reports = true;
    }

    /// `true` when nothing has gone wrong.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && !self.rustc_reports
    }

    /// The errors as `compile_error!` invocations, one per error.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
