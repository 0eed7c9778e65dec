//! ADBench's objectives, differentiated by `#[derive_grad]`, against ADBench's own expected
//! values (ρ = |x − y| / max(1, |x| + |y|) ≤ 1e-8, as ADBench checks) and against gradients
//! derived by hand.

#![allow(
    missing_docs,
    clippy::doc_markdown,
    clippy::cast_lossless,
    clippy::cast_precision_loss
)]

#[path = "../adbench/ba.rs"]
mod ba;
#[path = "../adbench/data.rs"]
mod data;
#[path = "../adbench/gmm.rs"]
mod gmm;
#[path = "../adbench/lstm.rs"]
mod lstm;

use ba::{Ba, CAM};
use gmm::Gmm;
use lstm::Lstm;

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

#[test]
fn ba_matches_adbenchs_unit_test() {
    let problem = Ba::read("ba/test.txt");
    let (reproj, w_err) = problem.objective();
    let j = problem.jacobian();
    let text = expectations();
    let number = |key: &str| json_numbers(&text, "ba_test", key);
    let pair = number("reproj_err_pair");
    let rho_f = data::max_rho(&reproj[..2], &pair).max(data::rho(w_err[0], number("w_err")[0]));
    let rho_j = data::max_rho(&j.vals, &number("J_vals"));
    eprintln!(
        "ba test: objective ρ = {rho_f:.1e}, Jacobian max ρ = {rho_j:.1e} over {} values",
        j.vals.len()
    );
    assert!(rho_f <= 1e-8, "objective ρ = {rho_f}");
    assert_eq!(
        [j.nrows, j.ncols, j.rows.len(), j.cols.len()],
        ["J_nrows", "J_ncols", "J_rows_size", "J_cols_size"].map(|k| number(k)[0] as usize)
    );
    assert!(rho_j <= 1e-8, "Jacobian ρ = {rho_j}");
}

/// Checks the layout of a BA Jacobian and its first block against central differences of the
/// objective; the data replicates one camera, point and weight, so every block must come out
/// the same (computed independently for each observation, as GradBench requires).
fn check_ba(file: &str) {
    let problem = Ba::read(file);
    let j = problem.jacobian();
    let (n, m, p) = (problem.n, problem.m, problem.p);
    assert_eq!((j.nrows, j.ncols), (3 * p, CAM * n + 3 * m + p));
    assert_eq!(
        (j.rows.len(), j.cols.len(), j.vals.len()),
        (3 * p + 1, 31 * p, 31 * p)
    );
    let first = &j.vals[..30];
    for i in 0..p {
        assert_eq!(&j.vals[30 * i..30 * i + 30], first, "{file}: block {i}");
        let (c, pt) = problem.obs[i];
        assert_eq!(j.cols[30 * i], CAM * c);
        assert_eq!(j.cols[30 * i + 11], CAM * n + 3 * pt);
        assert_eq!(j.cols[30 * i + 14], CAM * n + 3 * m + i);
        assert_eq!(j.vals[30 * p + i], -2.0 * problem.w[i]);
    }
    let (cam, x, w, feat) = (
        problem.cams[0],
        problem.x[0],
        problem.w[0],
        problem.feats[0],
    );
    let at = |k: usize, h: f64| {
        let (mut cam, mut x, mut w) = (cam, x, w);
        match k {
            0..11 => cam[k] += h,
            11..14 => x[k - 11] += h,
            _ => w += h,
        }
        ba::reprojection_error(&cam, &x, w, &feat)
    };
    let mut worst: f64 = 0.0;
    for k in 0..15 {
        let h = 1e-6 * [cam.as_slice(), &x, &[w]].concat()[k].abs().max(1.0);
        let (up, down) = (at(k, h), at(k, -h));
        for row in 0..2 {
            let numeric = (up[row] - down[row]) / (2.0 * h);
            worst = worst.max(data::rho(first[15 * row + k], numeric));
        }
    }
    eprintln!(
        "{file}: {p} observations, {} nonzeros, block ρ against central differences = {worst:.1e}",
        j.vals.len()
    );
    assert!(worst <= 1e-6, "{file}: ρ = {worst}");
}

#[test]
fn ba_jacobians_in_csr_layout_for_every_instance() {
    for file in [
        "ba/test.txt",
        "ba/ba1_n49_m7776_p31843.txt",
        "ba/ba2_n21_m11315_p36455.txt",
        "ba/ba3_n161_m48126_p182072.txt",
        "ba/ba4_n372_m47423_p204472.txt",
        "ba/ba5_n257_m65132_p225911.txt",
    ] {
        check_ba(file);
    }
}

#[test]
fn lstm_matches_adbenchs_unit_test() {
    let problem = Lstm::read("lstm/lstm_l2_c1024.txt");
    let (loss, gradient) = problem.gradient();
    let text = expectations();
    let objective = json_numbers(&text, "lstm_test", "objective")[0];
    let expected = json_numbers(&text, "lstm_test", "gradient");
    assert_eq!(gradient.len(), 266);
    let rho = data::max_rho(&gradient, &expected);
    eprintln!(
        "lstm l2 c1024: objective ρ = {:.1e}, gradient max ρ = {rho:.1e}",
        data::rho(loss, objective)
    );
    // The expected objective is printed to 8 decimals.
    assert!(data::rho(loss, objective) <= 1e-8, "{loss} vs {objective}");
    assert!(rho <= 1e-8, "ρ = {rho}");
    assert_eq!(loss.to_bits(), problem.objective().to_bits());
}

/// Parameter `k` of `[main_params | extra_params]`.
fn lstm_param(p: &mut Lstm, k: usize) -> &mut f64 {
    let nm = p.main_params.len();
    if k < nm {
        &mut p.main_params[k]
    } else {
        &mut p.extra_params[k - nm]
    }
}

#[test]
fn lstm_with_four_layers_matches_central_differences() {
    let mut problem = Lstm::read("lstm/lstm_l4_c1024.txt");
    let (_, gradient) = problem.gradient();
    assert_eq!(gradient.len(), 490);
    let mut worst: f64 = 0.0;
    for (k, &derivative) in gradient.iter().enumerate() {
        let mut at = |h: f64| {
            let old = *lstm_param(&mut problem, k);
            *lstm_param(&mut problem, k) = old + h;
            let value = problem.objective();
            *lstm_param(&mut problem, k) = old;
            value
        };
        let h = 1e-5;
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        worst = worst.max(data::rho(derivative, numeric));
    }
    eprintln!("lstm l4 c1024: 490 parameters, max ρ against central differences = {worst:.1e}");
    assert!(worst <= 1e-8, "ρ = {worst}");
}
