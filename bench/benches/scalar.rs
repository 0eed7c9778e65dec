//! The scalar and small-vector set: each function as written (`plain`), its gradient written
//! by hand (`hand`), `#[derive_grad]`'s `_grad` (`grad`), and the peers a Rust user would
//! pick: forward duals (`num_dual`, one pass per input), tapes (`echidna`, `reverse`), and the
//! compile-time macros `symdiff` and `mady` where they can express the function: `mady`
//! knows only `+ - * /`, `min` and `max`, and neither knows loops, arrays or `tanh`, so
//! `g` has no `mady` twin and the network neither (its 106 inputs unrolled by hand are
//! beyond both).
//!
//! `cargo bench -p grad-bench --bench scalar`; BENCHMARKS.md has the ratios and how they are computed.

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
use num_dual::{Dual64, DualNum};
use reverse::Gradient;

fn main() {
    // Every contender must compute the same gradient before any is timed.
    seed::agree();
    rosenbrock::agree();
    g::agree();
    score::agree();
    divan::main();
}

/// Asserts two gradients agree to 1e-12, relative.
fn assert_close(what: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0),
            "{what}[{i}]: {a} vs {b}"
        );
    }
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

    pub fn agree() {
        let (_, (x, y, z)) = f_grad(P[0], P[1], P[2]);
        let ours = [x, y, z];
        let (_, (hx, hy, hz)) = hand(P[0], P[1], P[2]);
        assert_close("seed by hand", &ours, &[hx, hy, hz]);
        assert_close("seed num-dual", &ours, &num_dual());
        assert_close("seed echidna", &ours, &echidna());
        assert_close("seed reverse", &ours, &reverse());
        let (_, (mx, my, mz)) = mady();
        assert_close("seed mady", &ours, &[mx, my, mz]);
    }

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

    pub fn agree() {
        let x = point::<100>();
        let (_, ours) = f_grad(&x);
        assert_close("rosenbrock by hand", &ours, &hand(&x).1);
        assert_close(
            "rosenbrock num-dual",
            &ours,
            &dual_gradient(|p: &[Dual64; 100]| dual_f(p), &x),
        );
        assert_close("rosenbrock echidna", &ours, &echidna::grad(echidna_f, &x));
        assert_close(
            "rosenbrock reverse",
            &ours,
            &reverse_f(&reverse::Tape::new(), &x),
        );
        let x = point::<2>();
        let (_, ours) = f_grad(&x);
        assert_close("rosenbrock symdiff", &ours, &symdiff_2_gradient(&x));
        let (_, (m0, m1)) = mady_2(x[0], x[1]);
        assert_close("rosenbrock mady", &ours, &[m0, m1]);
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

/// g(a, b) = exp(sin(a)·b)/(1 + a²) + ln(b)·√a.
mod g {
    use super::*;

    #[derive_grad]
    pub fn g(a: f64, b: f64) -> f64 {
        (a.sin() * b).exp() / (1.0 + a * a) + b.ln() * a.sqrt()
    }

    pub fn hand(a: f64, b: f64) -> (f64, (f64, f64)) {
        let (s, c) = a.sin_cos();
        let e = (s * b).exp();
        let q = 1.0 + a * a;
        let (r, l) = (a.sqrt(), b.ln());
        let value = e / q + l * r;
        let da = e * c * b / q - e * 2.0 * a / (q * q) + l / (2.0 * r);
        let db = e * s / q + r / b;
        (value, (da, db))
    }

    fn generic<T: echidna::Scalar>(a: T, b: T) -> T {
        (a.sin() * b).exp() / (T::one() + a * a) + b.ln() * a.sqrt()
    }

    #[symdiff::gradient(var = x, dim = 2)]
    #[allow(dead_code, reason = "symdiff_g_gradient is benchmarked")]
    fn symdiff_g(x: &[f64]) -> f64 {
        (x[0].sin() * x[1]).exp() / (1.0 + x[0] * x[0]) + x[1].ln() * x[0].sqrt()
    }

    const P: [f64; 2] = [0.7, 1.3];

    pub fn agree() {
        let (_, (a, b)) = g_grad(P[0], P[1]);
        let ours = [a, b];
        let (_, (ha, hb)) = hand(P[0], P[1]);
        assert_close("g by hand", &ours, &[ha, hb]);
        assert_close("g num-dual", &ours, &num_dual());
        assert_close("g echidna", &ours, &echidna());
        assert_close("g reverse", &ours, &reverse());
        assert_close("g symdiff", &ours, &symdiff());
    }

    #[divan::bench]
    fn plain() -> f64 {
        g(black_box(P[0]), black_box(P[1]))
    }

    #[divan::bench]
    fn by_hand() -> (f64, (f64, f64)) {
        hand(black_box(P[0]), black_box(P[1]))
    }

    #[divan::bench]
    fn grad() -> (f64, (f64, f64)) {
        g_grad(black_box(P[0]), black_box(P[1]))
    }

    #[divan::bench]
    fn num_dual() -> [f64; 2] {
        dual_gradient(
            |p| (p[0].sin() * p[1]).exp() / (p[0] * p[0] + 1.0) + p[1].ln() * p[0].sqrt(),
            &black_box(P),
        )
    }

    #[divan::bench]
    fn echidna() -> Vec<f64> {
        echidna::grad(|p| generic(p[0], p[1]), &black_box(P))
    }

    #[divan::bench]
    fn reverse() -> Vec<f64> {
        let tape = reverse::Tape::new();
        let p = tape.add_vars(&black_box(P));
        let out = (p[0].sin() * p[1]).exp() / (p[0] * p[0] + 1.0) + p[1].ln() * p[0].sqrt();
        out.grad().wrt(&p)
    }

    #[divan::bench]
    fn symdiff() -> [f64; 2] {
        symdiff_g_gradient(black_box(&P))
    }
}

/// The one-hidden-layer score s = u·tanh(Wx + b), W 8×10: 106 inputs.
mod score {
    use super::*;

    #[derive_grad]
    pub fn score(w: &[[f64; 10]; 8], x: &[f64; 10], b: &[f64; 8], u: &[f64; 8]) -> f64 {
        let mut s = 0.0;
        for i in 0..8 {
            let mut z = b[i];
            for j in 0..10 {
                z += w[i][j] * x[j];
            }
            s += u[i] * z.tanh();
        }
        s
    }

    type Grads = ([[f64; 10]; 8], [f64; 10], [f64; 8], [f64; 8]);

    pub fn hand(w: &[[f64; 10]; 8], x: &[f64; 10], b: &[f64; 8], u: &[f64; 8]) -> (f64, Grads) {
        let (mut dw, mut dx, mut db, mut du) = ([[0.0; 10]; 8], [0.0; 10], [0.0; 8], [0.0; 8]);
        let mut s = 0.0;
        for i in 0..8 {
            let mut z = b[i];
            for j in 0..10 {
                z += w[i][j] * x[j];
            }
            let t = z.tanh();
            s += u[i] * t;
            du[i] = t;
            let dz = u[i] * (1.0 - t * t);
            db[i] = dz;
            for j in 0..10 {
                dw[i][j] = dz * x[j];
                dx[j] += dz * w[i][j];
            }
        }
        (s, (dw, dx, db, du))
    }

    /// The inputs flattened `[W | x | b | u]`, for the peers that take one slice.
    fn generic<T: echidna::Scalar>(p: &[T]) -> T {
        let (w, rest) = p.split_at(80);
        let (x, rest) = rest.split_at(10);
        let (b, u) = rest.split_at(8);
        let mut s = T::zero();
        for i in 0..8 {
            let mut z = b[i];
            for j in 0..10 {
                z = z + w[10 * i + j] * x[j];
            }
            s = s + u[i] * z.tanh();
        }
        s
    }

    fn dual(p: &[Dual64; 106]) -> Dual64 {
        let mut s = Dual64::from(0.0);
        for i in 0..8 {
            let mut z = p[90 + i];
            for j in 0..10 {
                z += p[10 * i + j] * p[80 + j];
            }
            s += p[98 + i] * z.tanh();
        }
        s
    }

    /// `[W | x | b | u]` flattened.
    fn flat(g: &Grads) -> Vec<f64> {
        let mut out: Vec<f64> = g.0.iter().flatten().copied().collect();
        out.extend(g.1);
        out.extend(g.2);
        out.extend(g.3);
        out
    }

    pub fn agree() {
        let p = inputs();
        let (w, x, b, u) = split(&p);
        let ours = flat(&score_grad(&w, &x, &b, &u).1);
        assert_close("score by hand", &ours, &flat(&hand(&w, &x, &b, &u).1));
        assert_close("score num-dual", &ours, &dual_gradient(dual, &p));
        assert_close("score echidna", &ours, &echidna::grad(generic, &p));
        assert_close("score reverse", &ours, &reverse_grad(&p));
    }

    fn inputs() -> [f64; 106] {
        std::array::from_fn(|k| ((k * 37 % 101) as f64 / 101.0 - 0.5) * 0.8)
    }

    fn split(p: &[f64; 106]) -> ([[f64; 10]; 8], [f64; 10], [f64; 8], [f64; 8]) {
        let w = std::array::from_fn(|i| std::array::from_fn(|j| p[10 * i + j]));
        let x = std::array::from_fn(|j| p[80 + j]);
        let b = std::array::from_fn(|i| p[90 + i]);
        let u = std::array::from_fn(|i| p[98 + i]);
        (w, x, b, u)
    }

    #[divan::bench]
    fn plain(bencher: divan::Bencher) {
        let (w, x, b, u) = split(&inputs());
        bencher.bench(|| score(black_box(&w), black_box(&x), black_box(&b), black_box(&u)));
    }

    #[divan::bench]
    fn by_hand(bencher: divan::Bencher) {
        let (w, x, b, u) = split(&inputs());
        bencher.bench(|| hand(black_box(&w), black_box(&x), black_box(&b), black_box(&u)));
    }

    #[divan::bench]
    fn grad(bencher: divan::Bencher) {
        let (w, x, b, u) = split(&inputs());
        bencher.bench(|| score_grad(black_box(&w), black_box(&x), black_box(&b), black_box(&u)));
    }

    #[divan::bench]
    fn num_dual(bencher: divan::Bencher) {
        let p = inputs();
        bencher.bench(|| dual_gradient(dual, black_box(&p)));
    }

    #[divan::bench]
    fn echidna(bencher: divan::Bencher) {
        let p = inputs();
        bencher.bench(|| echidna::grad(generic, black_box(&p)));
    }

    fn reverse_grad(p: &[f64]) -> Vec<f64> {
        let tape = reverse::Tape::new();
        let v = tape.add_vars(p);
        let mut s = tape.add_var(0.0);
        for i in 0..8 {
            let mut z = v[90 + i];
            for j in 0..10 {
                z = z + v[10 * i + j] * v[80 + j];
            }
            s = s + v[98 + i] * z.tanh();
        }
        s.grad().wrt(&v)
    }

    #[divan::bench]
    fn reverse(bencher: divan::Bencher) {
        let p = inputs();
        bencher.bench(|| reverse_grad(black_box(&p)));
    }
}
