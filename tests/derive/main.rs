//! Numeric tests of `#[derive_grad]` against independent oracles: forward-mode dual numbers
//! (`num-dual`), hand-derived formulas and central differences.
//!
//! Tolerances: gradients agree with the dual oracle to `1e-12 · max(1, |g|)` (both are exact
//! derivatives that differ only in rounding) and with central differences to `1e-6`.
//! Every differentiated function is also checked to return bit for bit what the function
//! itself returns.

// Each function here exists to be differentiated: the tests call its `_grad`, not itself,
// and its body is written the way users write numeric code (`n as f64`).
#![allow(
    dead_code,
    missing_docs,
    clippy::cast_lossless,
    clippy::missing_panics_doc
)]

mod calls;
mod carried;
mod compiles;
mod constructs;
mod corpus;
mod dual;
mod forward;
mod generic;
mod graph;
mod hessian;
mod kinks;
mod loops;
mod methods;
mod network;
mod outside;
mod precision;
mod pullback;
mod references;
mod vector;

pub use dual::{D, assert_close};

/// Deterministic pseudo-random numbers in [-1, 1).
pub fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The components of a gradient as returned by `_grad` (a bare `f64` or a tuple).
pub trait Components {
    fn components(&self) -> Vec<f64>;
}

impl Components for f64 {
    fn components(&self) -> Vec<f64> {
        vec![*self]
    }
}

macro_rules! tuple_components {
    ($($n:tt),+) => {
        impl Components for ($(tuple_components!(@f64 $n),)+) {
            fn components(&self) -> Vec<f64> {
                vec![$(self.$n),+]
            }
        }
    };
    (@f64 $n:tt) => { f64 };
}
tuple_components!(0, 1);
tuple_components!(0, 1, 2);
tuple_components!(0, 1, 2, 3);
tuple_components!(0, 1, 2, 3, 4);

/// Defines one function twice from one body — `#[derive_grad] fn $name` over `f64`, and a
/// copy over dual numbers — and a test that compares the generated gradient with the dual
/// oracle at each point, and the generated value with the function's own, bit for bit.
///
/// `fn name / name_grad / name_jvp (x, y; n: i32) { body } at [x, y; n], …` — float parameters before
/// the `;`, inactive ones after it.
#[macro_export]
macro_rules! differentiate {
    (
        fn $name:ident / $grad:ident / $jvp:ident ($($p:ident),+ $(; $($i:ident : $it:ty),+)?) $body:block
        at $([$($x:expr),+ $(; $($iv:expr),+)?]),+ $(,)?
    ) => {
        #[grad::derive_grad(jvp)]
        #[allow(clippy::all, unused_mut, unused_assignments)]
        fn $name($($p: f64),+ $(, $($i: $it),+)?) -> f64 $body

        mod $name {
            #![allow(clippy::all, unused_mut, unused_assignments, unused_imports)]
            use super::*;
            use $crate::{D, Components};

            fn dual($($p: D),+ $(, $($i: $it),+)?) -> D $body

            fn check(point: &[f64] $(, $($i: $it),+)?) {
                let &[$($p),+] = point else { panic!("arity") };
                let (value, grad) = super::$grad($($p),+ $(, $($i),+)?);
                let plain = super::$name($($p),+ $(, $($i),+)?);
                assert_eq!(
                    value.to_bits(),
                    plain.to_bits(),
                    "{}: value {} vs {}",
                    stringify!($name),
                    value,
                    plain
                );
                let expected = $crate::dual::gradient(
                    |a| {
                        let [$($p),+] = a else { panic!("arity") };
                        dual($(*$p),+ $(, $($i),+)?)
                    },
                    point,
                );
                $crate::assert_close(
                    &grad.components(),
                    &expected,
                    1e-12,
                    &format!("{} at {:?}", stringify!($name), point),
                );
                // Forward mode along a direction that mixes every parameter.
                let direction: Vec<f64> = (0..point.len()).map($crate::dual::direction).collect();
                let mut t = direction.iter().copied();
                let (value, derivative) = super::$jvp(
                    $($p,)+ $($($i,)+)?
                    $({ let _ = stringify!($p); t.next().expect("arity") }),+
                );
                assert_eq!(value.to_bits(), plain.to_bits(), "{}: jvp value", stringify!($name));
                let expected = $crate::dual::directional(
                    |a| {
                        let [$($p),+] = a else { panic!("arity") };
                        dual($(*$p),+ $(, $($i),+)?)
                    },
                    point,
                    &direction,
                );
                $crate::assert_close(
                    &[derivative],
                    &[expected],
                    1e-12,
                    &format!("{} jvp at {:?}", stringify!($name), point),
                );
            }

            #[test]
            fn matches_the_dual_oracle_and_the_primal_bits() {
                $(check(&[$($x),+] $(, $($iv),+)?);)+
            }
        }
    };
}
