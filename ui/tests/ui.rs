//! Compile-fail cases: every construct outside the subset is a spanned, rustc-style error.
//! Refresh the expected output with `TRYBUILD=overwrite cargo test -p grad-ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
