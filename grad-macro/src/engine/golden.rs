//! Golden expansions: every `tests/expand/*.rs` is expanded in-process and pretty-printed
//! with `prettyplease`, then compared with the checked-in `*.expanded.rs` beside it.
//! `GRAD_EXPAND=overwrite cargo test -p grad-macro golden` refreshes them.

use std::path::Path;

/// Expands each `#[derive_grad]` function of a source file; other items stay as they are.
fn expand_file(source: &str) -> String {
    let mut file = syn::parse_file(source).expect("golden input parses");
    let mut items = Vec::new();
    for item in file.items.drain(..) {
        let syn::Item::Fn(mut func) = item else {
            items.push(item);
            continue;
        };
        let Some(pos) = func
            .attrs
            .iter()
            .position(|a| a.path().is_ident("derive_grad"))
        else {
            items.push(syn::Item::Fn(func));
            continue;
        };
        let attr = func.attrs.remove(pos);
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        let expanded = super::derive_grad(args, &quote::quote!(#func));
        let parsed: syn::File = syn::parse2(expanded).expect("expansion parses as items");
        items.extend(parsed.items);
    }
    file.items = items;
    prettyplease::unparse(&file)
}

#[test]
fn golden_expansions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let overwrite = std::env::var("GRAD_EXPAND").is_ok_and(|v| v == "overwrite");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/expand exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && !p.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    inputs.sort();
    // `GRAD_EXPAND_ONLY=name` expands one input (with `GRAD_DEBUG_IR`, to read its IR alone).
    if let Ok(only) = std::env::var("GRAD_EXPAND_ONLY") {
        inputs.retain(|p| p.file_stem().is_some_and(|s| s.to_string_lossy() == only));
    }
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut stale = Vec::new();
    for input in inputs {
        let source = std::fs::read_to_string(&input).expect("readable input");
        let actual = expand_file(&source);
        let golden = input.with_extension("expanded.rs");
        if overwrite {
            std::fs::write(&golden, &actual).expect("writable golden file");
        } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(actual.as_str()) {
            stale.push(golden.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "expansions changed (review, then refresh with GRAD_EXPAND=overwrite): {stale:?}"
    );
}
