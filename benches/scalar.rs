//! The scalar and small-vector set: each function as written (`plain`), its gradient written
//! by hand (`hand`), `#[derive_grad]`'s `_grad` (`grad`), and the peers a Rust user would
//! pick: forward duals (`num_dual`, one pass per input), tapes (`echidna`, `reverse`), and the
//! compile-time macros `symdiff` and `mady` where they can express the function.
//!
//! `cargo bench --bench scalar`; BENCHMARKS.md has the ratios and how they are computed.

#![allow(
    missing_docs,
    clippy::unreadable_literal,
    clippy::many_single_char_names,
    clippy::wildcard_imports,
    reason = "benchmark modules share the peers' imports and the paper's names"
)]

use divan::black_box;
use grad::derive_grad;
use mady::prelude::*;
use num_dual::Dual64;
use reverse::Gradient;

fn main() {
    divan::main();
}

/// `num-dual`'s gradient: one forward pass per input, each seeding one tangent.
fn dual_gradient<const N: usize>(f: impl Fn(&[Dual64; N]) -> Dual64, x: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|j| {
        let args: [Dual64; N] =
            std::array::from_fn(|i| Dual64::new(x[i], if i == j { 1.0 } else { 0.0 }));
        f(&args).eps
    })
}

/// The seed of the lecture: f(x, y, z) = (x + y)·max(y, z).
mod seed {
    use super::*;

    #[derive_grad]
    pub fn f(x: f64, y: f64, z: f64) -> f64 {
        let a = x + y;
        let b = y.max(z);
        a * b
    }

    pub fn hand(x: f64, y: f64, z: f64) -> (f64, (f64, f64, f64)) {
        let a = x + y;
        let b = y.max(z);
        let (dy_max, dz_max) = if y == z {
            (0.5, 0.5)
        } else if y > z {
            (1.0, 0.0)
        } else {
            (0.0, 1.0)
        };
        (a * b, (b, b + a * dy_max, a * dz_max))
    }

    #[mady::prelude::grad(f64, f64, f64)]
    #[allow(clippy::used_underscore_binding, reason = "mady's expansion")]
    fn mady_f(x: f64, y: f64, z: f64) -> f64 {
        (x + y) * y.max(z)
    }

    const P: [f64; 3] = [1.0, 2.0, 0.0];

    #[divan::bench]
    fn plain() -> f64 {
        f(black_box(P[0]), black_box(P[1]), black_box(P[2]))
    }

    #[divan::bench]
    fn by_hand() -> (f64, (f64, f64, f64)) {
        hand(black_box(P[0]), black_box(P[1]), black_box(P[2]))
    }

    #[divan::bench]
    fn grad() -> (f64, (f64, f64, f64)) {
        f_grad(black_box(P[0]), black_box(P[1]), black_box(P[2]))
    }

    #[divan::bench]
    fn num_dual() -> [f64; 3] {
        dual_gradient(
            |p| {
                let b = if p[1].re >= p[2].re { p[1] } else { p[2] };
                (p[0] + p[1]) * b
            },
            &black_box(P),
        )
    }

    #[divan::bench]
    fn echidna() -> Vec<f64> {
        echidna::grad(
            |p| {
                let b = if p[1] >= p[2] { p[1] } else { p[2] };
                (p[0] + p[1]) * b
            },
            &black_box(P),
        )
    }

    #[divan::bench]
    fn reverse() -> Vec<f64> {
        let tape = reverse::Tape::new();
        let p = tape.add_vars(&black_box(P));
        let b = if p[1] >= p[2] { p[1] } else { p[2] };
        let out = (p[0] + p[1]) * b;
        out.grad().wrt(&p)
    }

    #[divan::bench]
    fn mady() -> (f64, (f64, f64, f64)) {
        mady_f(black_box(P[0]), black_box(P[1]), black_box(P[2]))
    }
}

/// The extended Rosenbrock function of `N` inputs.
mod rosenbrock {
    use super::*;

    #[derive_grad]
    pub fn f<const N: usize>(x: &[f64; N]) -> f64 {
        let mut s = 0.0;
        for i in 0..N / 2 {
            let a = x[2 * i];
            let b = x[2 * i + 1] - a * a;
            let c = 1.0 - a;
            s += 100.0 * b * b + c * c;
        }
        s
    }

    pub fn hand<const N: usize>(x: &[f64; N]) -> (f64, [f64; N]) {
        let mut s = 0.0;
        let mut g = [0.0; N];
        for i in 0..N / 2 {
            let a = x[2 * i];
            let b = x[2 * i + 1] - a * a;
            let c = 1.0 - a;
            s += 100.0 * b * b + c * c;
            g[2 * i] = -400.0 * a * b - 2.0 * c;
            g[2 * i + 1] = 200.0 * b;
        }
        (s, g)
    }

    fn dual_f(x: &[Dual64]) -> Dual64 {
        let mut s = Dual64::from(0.0);
        for i in 0..x.len() / 2 {
            let a = x[2 * i];
            let b = x[2 * i + 1] - a * a;
            let c = -a + 1.0;
            s += b * b * 100.0 + c * c;
        }
        s
    }

    fn echidna_f(x: &[echidna::Reverse<f64>]) -> echidna::Reverse<f64> {
        let (one, hundred) = (
            echidna::Reverse::constant(1.0),
            echidna::Reverse::constant(100.0),
        );
        let mut s = echidna::Reverse::constant(0.0);
        for i in 0..x.len() / 2 {
            let a = x[2 * i];
            let b = x[2 * i + 1] - a * a;
            let c = one - a;
            s += hundred * b * b + c * c;
        }
        s
    }

    fn reverse_f(tape: &reverse::Tape, x: &[f64]) -> Vec<f64> {
        let p = tape.add_vars(x);
        let mut s = tape.add_var(0.0);
        for i in 0..p.len() / 2 {
            let a = p[2 * i];
            let b = p[2 * i + 1] - a * a;
            let c = 1.0 - a;
            s = s + b * b * 100.0 + c * c;
        }
        s.grad().wrt(&p)
    }

    #[symdiff::gradient(var = x, dim = 2)]
    #[allow(dead_code, reason = "symdiff_2_gradient is benchmarked")]
    fn symdiff_2(x: &[f64]) -> f64 {
        100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2)
    }

    #[mady::prelude::grad(f64, f64)]
    #[allow(clippy::used_underscore_binding, reason = "mady's expansion")]
    fn mady_2(x0: f64, x1: f64) -> f64 {
        let b = x1 - x0 * x0;
        let c = 1.0 - x0;
        100.0 * b * b + c * c
    }

    fn point<const N: usize>() -> [f64; N] {
        std::array::from_fn(|i| if i % 2 == 0 { -1.2 } else { 1.0 } + i as f64 * 0.01)
    }

    #[divan::bench(consts = [2, 100])]
    fn plain<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| f(black_box(&x)));
    }

    #[divan::bench(consts = [2, 100])]
    fn by_hand<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| hand(black_box(&x)));
    }

    #[divan::bench(consts = [2, 100])]
    fn grad<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| f_grad(black_box(&x)));
    }

    #[divan::bench(consts = [2, 100])]
    fn num_dual<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| dual_gradient(|p: &[Dual64; N]| dual_f(p), black_box(&x)));
    }

    #[divan::bench(consts = [2, 100])]
    fn echidna<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| echidna::grad(echidna_f, black_box(&x)));
    }

    #[divan::bench(consts = [2, 100])]
    fn reverse<const N: usize>(b: divan::Bencher) {
        let x = point::<N>();
        b.bench(|| {
            let tape = reverse::Tape::new();
            reverse_f(&tape, black_box(&x))
        });
    }

    #[divan::bench]
    fn symdiff_n2() -> [f64; 2] {
        symdiff_2_gradient(black_box(&point::<2>()))
    }

    #[divan::bench]
    fn mady_n2() -> (f64, (f64, f64)) {
        let x = point::<2>();
        mady_2(black_box(x[0]), black_box(x[1]))
    }
}
