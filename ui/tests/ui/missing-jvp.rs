// In forward mode a call goes through the callee's `_jvp`; a callee with only a `_pullback`
// is an error at the call.
use grad::derive_grad;

#[derive_grad]
fn helper(x: f64) -> f64 {
    x.sin() * 3.0
}

#[derive_grad(jvp)]
fn f(x: f64) -> f64 {
    helper(x) * x
}

fn main() {}
