//! Generates the random programs of the differential test (`tests/differential.rs`):
//! `GRAD_FUZZ_PROGRAMS` programs (default 1 000) from `GRAD_FUZZ_SEED` (default 1).

#[path = "src/program.rs"]
#[allow(dead_code)]
mod program;

fn main() {
    for var in ["GRAD_FUZZ_PROGRAMS", "GRAD_FUZZ_SEED", "GRAD_PLANT"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=src/program.rs");
    let count = std::env::var("GRAD_FUZZ_PROGRAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seed = std::env::var("GRAD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let (source, checks) = program::batch(seed, count, "");
    let list = format!(
        "/// Every program's check, in order, and whether its bits are the same in every build.\npub const CHECKS: &[(&str, fn(&mut Rng, &mut Report), bool)] = &[{}];\n",
        checks
            .iter()
            .map(|c| format!("(\"{0}\", check_{0}, {1})", c.name, c.same_in_every_build))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("programs.rs"), format!("{source}\n{list}")).expect("write programs");
}
