//! ADBench's objectives, differentiated by `#[derive_grad]`, against ADBench's own expected
//! values (ρ = |x − y| / max(1, |x| + |y|) ≤ 1e-8, as ADBench checks) and against gradients
//! derived by hand.

#![allow(
    missing_docs,
    clippy::doc_markdown,
    clippy::cast_lossless,
    clippy::cast_precision_loss
)]

#[path = "../adbench/data.rs"]
mod data;
#[path = "../adbench/gmm.rs"]
mod gmm;

use gmm::Gmm;

fn expectations() -> String {
    std::fs::read_to_string(data::path("reference/adbench_test_expectations.json"))
        .expect("expectations are vendored")
}

/// The numbers of a JSON array or number value, found after `"key":` (a tiny reader for the
/// one flat file it is used on).
fn json_numbers(text: &str, section: &str, key: &str) -> Vec<f64> {
    let section = &text[text.find(&format!("\"{section}\"")).expect("section")..];
    let start = section.find(&format!("\"{key}\"")).expect("key") + key.len() + 3;
    let rest = section[start..].trim_start();
    let end = if rest.starts_with('[') {
        rest.find(']').expect("array end") + 1
    } else {
        rest.find([',', '}']).expect("value end")
    };
    rest[..end]
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().parse().expect("number"))
        .collect()
}

#[test]
fn gmm_matches_adbenchs_unit_test() {
    let g = Gmm::read("gmm/test.txt");
    let (value, gradient) = g.gradient();
    let text = expectations();
    let objective = json_numbers(&text, "gmm_test", "objective")[0];
    let expected = json_numbers(&text, "gmm_test", "gradient");
    let rho = data::max_rho(&gradient, &expected);
    eprintln!(
        "gmm test: objective ρ = {:.1e}, gradient max ρ = {rho:.1e}",
        data::rho(value, objective)
    );
    assert!(
        data::rho(value, objective) <= 1e-8,
        "{value} vs {objective}"
    );
    assert!(rho <= 1e-8, "ρ = {rho}");
    assert_eq!(value.to_bits(), g.objective().to_bits());
}

#[test]
fn gmm_matches_the_reference_gradient_of_d2_k5() {
    let g = Gmm::read("gmm/1k/gmm_d2_K5.txt");
    let (value, gradient) = g.gradient();
    let objective = data::numbers("reference/gmm_1k_gmm_d2_K5_F.txt")[0];
    let expected = data::numbers("reference/gmm_1k_gmm_d2_K5_J.txt");
    assert_eq!(gradient.len(), 30);
    let rho = data::max_rho(&gradient, &expected);
    eprintln!(
        "gmm 1k d2 K5: objective ρ = {:.1e}, gradient max ρ = {rho:.1e}",
        data::rho(value, objective)
    );
    assert!(data::rho(value, objective) <= 1e-8);
    assert!(rho <= 1e-8, "ρ = {rho}");
}

#[test]
fn gmm_matches_the_hand_derived_gradient_on_the_other_instances() {
    for file in [
        "gmm/test.txt",
        "gmm/1k/gmm_d2_K5.txt",
        "gmm/1k/gmm_d2_K10.txt",
        "gmm/1k/gmm_d10_K5.txt",
    ] {
        let g = Gmm::read(file);
        let (_, gradient) = g.gradient();
        let by_hand = gmm::gradient_by_hand(&g);
        let rho = data::max_rho(&gradient, &by_hand);
        eprintln!(
            "{file}: {} parameters, max ρ against the hand-derived gradient = {rho:.1e}",
            gradient.len()
        );
        assert!(rho <= 1e-8, "{file}: ρ = {rho}");
    }
}
