//! The macro against dual numbers on the random programs `build.rs` generated (1 000 by
//! default; `GRAD_FUZZ_PROGRAMS` and `GRAD_FUZZ_SEED` choose others).

// Random programs are full of what lints flag on purpose (dead values, `k >= 0`, parentheses).
#![allow(
    missing_docs,
    dead_code,
    unused_parens,
    unused_comparisons,
    clippy::all,
    clippy::pedantic
)]

use grad_fuzz::harness::{D, Report, Rng, branch, direction, points, seed, unit};

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

#[test]
fn every_program_agrees_with_dual_numbers() {
    let mut report = Report::default();
    let mut r = Rng::new(7);
    // A panic (a tape popped past its start, an index out of bounds) is a failure of that
    // program, not the end of the run.
    std::panic::set_hook(Box::new(|_| {}));
    // `GRAD_FUZZ_DIGESTS=1`: the running digest after each program, to find where two
    // builds part.
    let trace = std::env::var_os("GRAD_FUZZ_DIGESTS").is_some();
    for &(name, check, same_in_every_build) in CHECKS {
        report.digested = same_in_every_build;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(&mut r, &mut report);
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            report
                .mismatches
                .push(format!("{name}: panicked: {message}"));
        }
        if trace {
            eprintln!("{name} {:016x}", report.digest);
        }
    }
    let _ = std::panic::take_hook();
    eprintln!(
        "{} programs, {} comparisons, {} mismatches, {} skipped (oracle off the path), {} through infinity, {} NaN as documented, {} within cancellation, digest {:016x}",
        report.programs,
        report.comparisons,
        report.mismatches.len(),
        report.diverged,
        report.singular,
        report.documented,
        report.cancelled,
        report.digest
    );
    for m in report.mismatches.iter().take(40) {
        eprintln!("  {m}");
    }
    assert!(
        report.mismatches.is_empty(),
        "{} mismatches",
        report.mismatches.len()
    );
}
