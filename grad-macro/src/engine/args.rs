//! The attribute's options: `#[derive_grad(wrt(x, w), jvp, hessian, graph, crate = path)]`.

use super::errors::Errors;
use proc_macro2::TokenStream;
use syn::Ident;
use syn::parse::Parser;

/// Parsed options.
pub struct Options {
    /// `wrt(...)`: the parameters `_grad` differentiates with respect to.
    pub wrt: Option<Vec<Ident>>,
    /// `jvp`: also generate forward mode.
    pub jvp: Option<Ident>,
    /// `hessian`: also generate the Hessian.
    pub hessian: Option<Ident>,
    /// `graph`: also generate the computation graph.
    pub graph: Option<Ident>,
    /// `crate = path`: where the `grad` crate is (default `::grad`).
    pub krate: TokenStream,
}

const EXPECTED: &str = "expected `wrt(...)`, `jvp`, `hessian`, `graph` or `crate = path`";

/// Parses the attribute arguments; problems go to `errors` and the option is left unset.
pub fn parse(attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options {
        wrt: None,
        jvp: None,
        hessian: None,
        graph: None,
        krate: quote::quote!(::grad),
    };
    let mut seen_crate = false;
    let parser = syn::meta::parser(|meta| {
        let Some(key) = meta.path.get_ident().cloned() else {
            return Err(meta.error(format_args!("unknown option; {EXPECTED}")));
        };
        let flag = |slot: &mut Option<Ident>| {
            if slot.is_some() {
                return Err(meta.error(format_args!("`{key}` is given twice")));
            }
            *slot = Some(key.clone());
            Ok(())
        };
        match key.to_string().as_str() {
            "wrt" => {
                if options.wrt.is_some() {
                    return Err(meta.error("`wrt` is given twice"));
                }
                let content;
                syn::parenthesized!(content in meta.input);
                let names = content.parse_terminated(Ident::parse_any_ident, syn::Token![,])?;
                if names.is_empty() {
                    return Err(meta.error("`wrt()` needs at least one parameter name"));
                }
                options.wrt = Some(names.into_iter().collect());
                Ok(())
            }
            "jvp" => flag(&mut options.jvp),
            "hessian" => flag(&mut options.hessian),
            "graph" => flag(&mut options.graph),
            "crate" => {
                if seen_crate {
                    return Err(meta.error("`crate` is given twice"));
                }
                seen_crate = true;
                let path: syn::Path = meta.value()?.parse()?;
                options.krate = quote::ToTokens::to_token_stream(&path);
                Ok(())
            }
            other => Err(meta.error(format_args!("unknown option `{other}`; {EXPECTED}"))),
        }
    });
    if let Err(error) = parser.parse2(attr) {
        errors.push(error);
    }
    options
}

/// Parses an identifier, keywords included, so `wrt(self)` reports "not a parameter" rather
/// than a parse error.
trait ParseAnyIdent {
    fn parse_any_ident(input: syn::parse::ParseStream) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    fn parse_any_ident(input: syn::parse::ParseStream) -> syn::Result<Ident> {
        syn::ext::IdentExt::parse_any(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn all_options_parse() {
        let mut errors = Errors::default();
        let o = parse(
            quote!(wrt(x, w), jvp, hessian, crate = my::grad),
            &mut errors,
        );
        assert!(errors.is_empty());
        let wrt: Vec<String> = o.wrt.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(wrt, ["x", "w"]);
        assert!(o.jvp.is_some() && o.hessian.is_some() && o.graph.is_none());
        assert_eq!(o.krate.to_string(), "my :: grad");
    }

    #[test]
    fn unknown_and_repeated_options_are_errors() {
        for bad in [
            quote!(fast),
            quote!(jvp, jvp),
            quote!(wrt()),
            quote!(wrt(x), wrt(y)),
        ] {
            let mut errors = Errors::default();
            parse(bad, &mut errors);
            assert!(!errors.is_empty());
        }
    }
}
