//! Random programs in the subset `#[derive_grad]` accepts, each printed in two flavours from
//! one syntax tree: the function itself (over `f64`, or generic over `T: grad::Real`) and a
//! twin over dual numbers, the oracle. Plus, per program, the code that checks it.
//!
//! Programs use every operation and float method, `let`/shadowing/`mut`, compound assignment,
//! branches on active values, `match`, early `return`, calls to other generated functions,
//! loops of every kind with runtime bounds, local arrays with indexed writes, array
//! parameters, iterator chains, and vector outputs. Inputs are drawn inside every operation's
//! domain: each partial function is applied to an argument shaped to stay inside it
//! (`(e·e + 0.5).ln()`, `(e.tanh()·0.9).asin()`, …).
//!
//! This file is plain `std` Rust: the build script of `grad-fuzz` includes it to generate the
//! programs of the normal test run.

use std::collections::BTreeSet;
use std::fmt::Write;

/// A small deterministic generator (`SplitMix64`).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    #[must_use]
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `true` with probability `p`.
    #[must_use]
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A number in `[0, 1)`.
    #[must_use]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `[lo, hi)`.
    #[must_use]
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// How a program is printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flavor {
    /// `fn p(x0: f64, …)`, differentiated by `#[derive_grad]`.
    Plain,
    /// `fn p_dual(x0: D, …)`: the oracle, over dual numbers.
    Dual,
    /// `fn p<T: Real>(x0: T, …)`: differentiated, and run on both `f64` and duals.
    Generic,
}

/// A program's signature.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools, reason = "independent yes/no features")]
pub struct Shape {
    /// Number of scalar float parameters `x0, x1, …`.
    pub floats: usize,
    /// An integer parameter `n: usize` (trip counts, match scrutinee).
    pub int: bool,
    /// An array parameter `w: &[f64; 3]`.
    pub array: bool,
    /// Returns `[f64; 2]` instead of `f64`.
    pub vector: bool,
    /// Generic over `T: grad::Real` (then no arrays, no vector output, no calls).
    pub generic: bool,
    /// A constant parameter `c: &Consts` (a struct the macro cannot see into), left out by
    /// `wrt(...)`: its fields start accumulators.
    pub consts: bool,
    /// A parameter `rs: &[Vec<f64>]` of two rows of two (rows of their own length).
    pub rows: bool,
}

impl Program {
    /// Whether the program calls the function `name` (a helper).
    #[must_use]
    pub fn calls(&self, name: &str) -> bool {
        self.items.contains(&format!("{name}("))
    }
}

impl Shape {
    /// The number of float inputs, flattened (`w` counts 3).
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.floats + if self.array { 3 } else { 0 } + if self.rows { 4 } else { 0 }
    }
}

/// One generated function, with the code that checks it.
#[derive(Clone, Debug)]
pub struct Program {
    /// Its name.
    pub name: String,
    /// Its signature.
    pub shape: Shape,
    /// The items: the differentiated function and its dual twin (or the generic function).
    pub items: String,
    /// `fn check_<name>(r: &mut Rng, report: &mut Report)`.
    pub check: String,
    /// The shapes it has that the generator tracks ([`SHAPES`]), for the counts per shape.
    pub tags: BTreeSet<&'static str>,
}

/// The data-dependence shapes of loops (and the other shapes that once broke the macro) that
/// the generator makes on purpose, by the tag each program records: the blind spot of an
/// earlier generator was a variable updated after its last use in a loop body, which no
/// program had.
pub const SHAPES: &[&str] = &[
    "carried: read before its update",
    "carried: updated after its last use",
    "carried: not used after the loop",
    "carried: replaced whole after the loop",
    "carried: initialised from a constant",
    "carried: initialised from a field",
    "carried: initialised from another carried variable",
    "carried: initialised from a value",
    "carried: two or more coupled",
    "carried: array",
    "carried: through two loop levels",
    "carried: in a while loop",
    "carried: in a loop loop",
    "exit: break",
    "exit: continue",
    "exit: return",
    "guard: && with the carried variable on the left",
    "guard: && with the carried variable on the right",
    "guard: || with the carried variable on the left",
    "guard: || with the carried variable on the right",
    "typed constant local",
    "path form on constants",
    "singular point",
    "bound: i8",
    "bound: u16",
    "bound: u32",
    "bound: i64",
    "bound: isize",
    "bound: i32",
    "parameter: &[Vec<f64>]",
    "parameter: a struct left out by wrt",
];

/// Operations the printer knows how to print in every flavour.
#[derive(Clone, Debug)]
enum E {
    Var(String),
    Lit(f64),
    Pi,
    IntCast(Box<I>),
    Index(String, Box<I>),
    Neg(Box<E>),
    Bin(&'static str, Box<E>, Box<E>),
    Method(&'static str, Box<E>, Vec<E>),
    Powi(Box<E>, i32),
    Path(&'static str, Box<E>),
    If(Box<E>, &'static str, Box<E>, Box<E>, Box<E>),
    Call(String, Vec<E>),
    NoGrad(Box<E>),
    SumMap(String, Box<E>),
    /// `c.a`: a field of the constant struct parameter.
    Field(&'static str),
    /// `rs[i][j]`
    Index2(String, Box<I>, Box<I>),
    /// `f64::sin(0.47 + 0.3)`: a method in path form on unsuffixed literals.
    PathConst(&'static str, f64, f64),
}

/// Integer expressions (indices, trip counts).
#[derive(Clone, Debug)]
enum I {
    Var(String),
    Lit(usize),
    Mod(Box<I>, usize),
    Add(Box<I>, usize),
    /// `(n as i32)`
    Cast(Box<I>, &'static str),
}

/// A condition of a guard: comparisons of floats or integers, joined by `&&`/`||`.
#[derive(Clone, Debug)]
enum Cond {
    Float(E, &'static str, E),
    Int(I, &'static str, usize),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

/// What a guard does.
#[derive(Clone, Debug)]
enum Exit {
    Break,
    Continue,
    Return(Vec<E>),
}

#[derive(Clone, Debug)]
enum S {
    Let(String, E),
    LetMut(String, E),
    Assign(String, &'static str, E),
    Store(String, I, &'static str, E),
    LetArray(String),
    IfStmt(E, &'static str, E, Vec<S>, Vec<S>),
    Match(I, Vec<Vec<S>>),
    Return(E, E, Vec<E>),
    Jump(E, E, &'static str),
    For(String, I, I, &'static str, Vec<S>),
    While(String, I, Vec<S>),
    Loop(String, I, Vec<S>),
    ForEach(String, String, Vec<S>),
    /// `let v: f64 = 0.3;` (unsuffixed: the annotation is the type).
    LetTyped(String, f64),
    /// Statements in sequence, in the enclosing block.
    Seq(Vec<S>),
    /// `if cond { exit }`
    Guard(Cond, Exit),
    /// `let mut k: T = 0; while k < end { k += 1; … }` (`"while"`) or the same as `loop` with
    /// a `break` (`"loop"`): the counter goes up first, so `continue` cannot skip it.
    Counted(&'static str, String, &'static str, I, Vec<S>),
    /// `for row in rs.iter() { … }`
    ForRows(String, Vec<S>),
}

/// What the body may use at a point.
#[derive(Clone, Default)]
struct Scope {
    /// Active scalar values, immutable.
    values: Vec<String>,
    /// Mutable scalars (assignable).
    muts: Vec<String>,
    /// Integers.
    ints: Vec<String>,
    /// Arrays of length 3 (the parameter) or 4 (locals), readable.
    arrays: Vec<(String, usize)>,
    /// Local arrays (writable).
    local_arrays: Vec<String>,
    /// Functions that can be called (name, arity).
    helpers: Vec<(String, usize)>,
    generic: bool,
    /// Integers of types other than `usize` (loop counters): read only through `as`.
    counters: Vec<String>,
    /// The constant struct parameter `c` exists.
    consts: bool,
    /// The rows parameter `rs` exists.
    rows: bool,
}

/// The generator state for one program.
struct Gen<'r> {
    r: &'r mut Rng,
    fresh: usize,
    depth: usize,
    /// The loops around the statement being generated: `true` for a `for` (which `continue`
    /// may restart), `false` for `while`/`loop` (whose counter `continue` would skip).
    loops: Vec<bool>,
    /// Whether `powi` may appear; helpers write powers as products instead, so that the
    /// programs calling them keep bits that are the same in every build (see `Check`).
    powi: bool,
    /// The [`SHAPES`] made so far.
    tags: BTreeSet<&'static str>,
}

const UNARY_SAFE: &[&str] = &[
    "sin",
    "cos",
    "tanh",
    "atan",
    "asinh",
    "abs",
    "to_degrees",
    "to_radians",
    "cbrt",
];

/// Piecewise-constant pieces (and `fract`), applied to a bounded argument: on a large one
/// they lose the digits that make two exact derivatives agree to 1e-10.
const STEPS: &[&str] = &["signum", "floor", "ceil", "round", "trunc", "fract"];

impl Gen<'_> {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn lit(&mut self) -> f64 {
        (self.r.range(-2.0, 2.0) * 100.0).round() / 100.0
    }

    fn int_expr(&mut self, s: &Scope) -> I {
        if !s.ints.is_empty() && self.r.chance(0.7) {
            let v = I::Var(s.ints[self.r.below(s.ints.len())].clone());
            if self.r.chance(0.3) {
                I::Add(Box::new(v), self.r.below(3))
            } else {
                v
            }
        } else {
            I::Lit(self.r.below(5))
        }
    }

    fn index(&mut self, s: &Scope, len: usize) -> I {
        let i = self.int_expr(s);
        match i {
            I::Lit(k) => I::Lit(k % len),
            other => I::Mod(Box::new(other), len),
        }
    }

    /// A positive value built from `e`: `e·e + c`.
    fn positive(e: E, c: f64) -> E {
        E::Bin(
            "+",
            Box::new(E::Bin("*", Box::new(e.clone()), Box::new(e))),
            Box::new(E::Lit(c)),
        )
    }

    /// A value in (−3, 3) built from `e`: `e.tanh() · 3`.
    fn scaled(e: E) -> E {
        E::Bin(
            "*",
            Box::new(E::Method("tanh", Box::new(e), vec![])),
            Box::new(E::Lit(3.0)),
        )
    }

    /// A value in (−0.9, 0.9) built from `e`.
    fn bounded(e: E) -> E {
        E::Bin(
            "*",
            Box::new(E::Method("tanh", Box::new(e), vec![])),
            Box::new(E::Lit(0.9)),
        )
    }

    fn leaf(&mut self, s: &Scope) -> E {
        let vars = s.values.len() + s.muts.len();
        match self.r.below(10) {
            0..=5 if vars > 0 => {
                let k = self.r.below(vars);
                let name = s
                    .values
                    .iter()
                    .chain(&s.muts)
                    .nth(k)
                    .cloned()
                    .unwrap_or_default();
                E::Var(name)
            }
            6 if !s.arrays.is_empty() => {
                let (a, len) = s.arrays[self.r.below(s.arrays.len())].clone();
                let i = self.index(s, len);
                E::Index(a, Box::new(i))
            }
            7 if !s.ints.is_empty() => E::IntCast(Box::new(self.int_expr(s))),
            7 if !s.counters.is_empty() => {
                let k = s.counters[self.r.below(s.counters.len())].clone();
                E::IntCast(Box::new(I::Var(k)))
            }
            8 if self.r.chance(0.2) => E::Pi,
            8 if s.consts => E::Field(["a", "b"][self.r.below(2)]),
            9 if s.rows && self.r.chance(0.5) => {
                let (i, j) = (self.index(s, 2), self.index(s, 2));
                E::Index2("rs".into(), Box::new(i), Box::new(j))
            }
            _ => E::Lit(self.lit()),
        }
    }

    fn expr(&mut self, s: &Scope) -> E {
        if self.depth > 3 || self.r.chance(0.3) {
            return self.leaf(s);
        }
        self.depth += 1;
        let e = self.compound(s);
        self.depth -= 1;
        e
    }

    fn compound(&mut self, s: &Scope) -> E {
        let a = self.expr(s);
        match self.r.below(23) {
            0..=2 => {
                let b = self.expr(s);
                E::Bin(["+", "-", "*"][self.r.below(3)], Box::new(a), Box::new(b))
            }
            3 => {
                let b = self.expr(s);
                let d = Self::positive(b, 0.5);
                if self.r.chance(0.5) {
                    E::Bin("/", Box::new(a), Box::new(d))
                } else {
                    let a = Self::scaled(a);
                    E::Bin("%", Box::new(a), Box::new(d))
                }
            }
            4 => E::Neg(Box::new(a)),
            5 => E::Method(
                UNARY_SAFE[self.r.below(UNARY_SAFE.len())],
                Box::new(a),
                vec![],
            ),
            6 => {
                let a = Self::scaled(a);
                E::Method(STEPS[self.r.below(STEPS.len())], Box::new(a), vec![])
            }
            7 => {
                // Functions defined on a bounded argument.
                let m = [
                    "exp", "exp2", "exp_m1", "sinh", "cosh", "tan", "asin", "acos", "atanh",
                ][self.r.below(9)];
                if (m == "asin" || m == "acos") && self.r.chance(0.3) {
                    // At the ends of the domain (a clamped argument), where the derivative
                    // is infinite.
                    self.tags.insert("singular point");
                    let b = E::Method("clamp", Box::new(a), vec![E::Lit(-1.0), E::Lit(1.0)]);
                    return E::Method(m, Box::new(b), vec![]);
                }
                let b = Self::bounded(a);
                E::Method(m, Box::new(b), vec![])
            }
            8 => {
                // Functions defined on a positive argument.
                let m = ["ln", "log10", "log2", "sqrt", "recip", "ln_1p"][self.r.below(6)];
                if m == "sqrt" && self.r.chance(0.5) {
                    // √ at 0 (the points hold exact zeros), behind a kink (`|a|`) or a zero
                    // factor (`a · a`): an infinite derivative times a zero one.
                    self.tags.insert("singular point");
                    let p = if self.r.chance(0.5) {
                        E::Method("abs", Box::new(a), vec![])
                    } else {
                        E::Bin("*", Box::new(a.clone()), Box::new(a))
                    };
                    return E::Method(m, Box::new(p), vec![]);
                }
                let p = Self::positive(a, 0.5);
                E::Method(m, Box::new(p), vec![])
            }
            9 => {
                let c = if self.r.chance(0.3) {
                    self.tags.insert("singular point");
                    1.0
                } else {
                    1.5
                };
                let p = Self::positive(a, c);
                E::Method("acosh", Box::new(p), vec![])
            }
            10 => {
                let m = ["max", "min", "atan2", "hypot"][self.r.below(4)];
                // Ties too: the same value on both sides, with different derivatives
                // (`v.max(no_grad(v))`), where only the convention decides.
                let b = if (m == "max" || m == "min") && !s.generic && self.r.chance(0.3) {
                    E::NoGrad(Box::new(a.clone()))
                } else {
                    self.expr(s)
                };
                E::Method(m, Box::new(a), vec![b])
            }
            11 => {
                let m = ["powf", "log"][self.r.below(2)];
                let base = if m == "powf" && self.r.chance(0.3) {
                    // The base at 0, where ∂x is infinite for an exponent below 1.
                    self.tags.insert("singular point");
                    E::Method("abs", Box::new(a), vec![])
                } else {
                    Self::positive(a, 0.5)
                };
                let exponent = self.expr(s);
                let exponent = if m == "log" {
                    Self::positive(exponent, 2.0)
                } else {
                    E::Method("tanh", Box::new(exponent), vec![])
                };
                E::Method(m, Box::new(base), vec![exponent])
            }
            12 => {
                let k = self.r.below(5) as i32 - 1;
                let base = if k < 0 { Self::positive(a, 0.5) } else { a };
                if self.powi {
                    E::Powi(Box::new(base), k)
                } else {
                    let product = |n| {
                        (1..n).fold(base.clone(), |p, _| {
                            E::Bin("*", Box::new(p), Box::new(base.clone()))
                        })
                    };
                    match k {
                        -1 => E::Method("recip", Box::new(base.clone()), vec![]),
                        0 => E::Lit(1.0),
                        _ => product(k),
                    }
                }
            }
            13 => {
                let (b, c) = (self.expr(s), self.expr(s));
                E::Method("mul_add", Box::new(a), vec![b, c])
            }
            14 => E::Method("clamp", Box::new(a), vec![E::Lit(-1.0), E::Lit(1.25)]),
            15 => E::Path(["sin", "cos", "tanh", "abs"][self.r.below(4)], Box::new(a)),
            16 | 17 => {
                let (b, c, d) = (self.expr(s), self.expr(s), self.expr(s));
                E::If(
                    Box::new(a),
                    [">", "<", ">=", "<="][self.r.below(4)],
                    Box::new(b),
                    Box::new(c),
                    Box::new(d),
                )
            }
            18 if !s.helpers.is_empty() => {
                let (h, arity) = s.helpers[self.r.below(s.helpers.len())].clone();
                let mut args = vec![a];
                while args.len() < arity {
                    args.push(self.expr(s));
                }
                E::Call(h, args)
            }
            // On dual numbers a generic `no_grad` is the identity: the oracle could not follow.
            19 if !s.generic => E::NoGrad(Box::new(a)),
            21 if self.r.chance(0.3) => {
                self.tags.insert("path form on constants");
                let m = ["sin", "cos", "exp", "sqrt", "tanh"][self.r.below(5)];
                // Both non-negative: `sqrt` stays in its domain.
                let (x, y) = (self.lit().abs(), (self.lit().abs() * 10.0).round() / 100.0);
                let value = E::PathConst(m, x, y);
                E::Bin("*", Box::new(a), Box::new(value))
            }
            20 if s.arrays.iter().any(|(_, len)| *len == 3) && !s.generic => {
                let (w, _) = s
                    .arrays
                    .iter()
                    .find(|(_, len)| *len == 3)
                    .cloned()
                    .unwrap_or_default();
                E::SumMap(w, Box::new(a))
            }
            _ => {
                let b = self.expr(s);
                E::Bin("*", Box::new(a), Box::new(b))
            }
        }
    }

    /// A statement list of about `n` statements, updating `s` with what it binds.
    fn stmts(&mut self, s: &mut Scope, n: usize) -> Vec<S> {
        let mut out = Vec::new();
        for _ in 0..n {
            let stmt = self.stmt(s);
            out.push(stmt);
        }
        out
    }

    fn stmt(&mut self, s: &mut Scope) -> S {
        let in_loop = !self.loops.is_empty();
        // Loops mostly update what they carry, as numeric loops do.
        let choice = if in_loop && !s.muts.is_empty() && self.r.chance(0.3) {
            17
        } else {
            self.r.below(18)
        };
        match choice {
            0..=3 => {
                let e = self.expr(s);
                // Shadowing: sometimes rebind an existing immutable name.
                let name = if !s.values.is_empty() && self.r.chance(0.2) {
                    s.values[self.r.below(s.values.len())].clone()
                } else {
                    let v = self.name("v");
                    s.values.push(v.clone());
                    v
                };
                S::Let(name, e)
            }
            4 | 5 => {
                let e = self.expr(s);
                let m = self.name("m");
                s.muts.push(m.clone());
                S::LetMut(m, e)
            }
            6..=8 if !s.muts.is_empty() => {
                let m = s.muts[self.r.below(s.muts.len())].clone();
                let op = ["=", "+=", "-=", "*=", "/="][self.r.below(5)];
                let e = self.expr(s);
                let e = if op == "/=" {
                    Self::positive(e, 1.0)
                } else {
                    e
                };
                S::Assign(m, op, e)
            }
            9 if !s.local_arrays.is_empty() => {
                let a = s.local_arrays[self.r.below(s.local_arrays.len())].clone();
                let i = self.index(s, 4);
                let e = self.expr(s);
                S::Store(a, i, ["=", "+="][self.r.below(2)], e)
            }
            10 if !in_loop && !s.generic => {
                let a = self.name("a");
                s.local_arrays.push(a.clone());
                s.arrays.push((a.clone(), 4));
                S::LetArray(a)
            }
            11 => {
                let (c1, c2) = (self.expr(s), self.expr(s));
                let op = [">", "<"][self.r.below(2)];
                let mut inner = s.clone();
                let n = 1 + self.r.below(2);
                let then = self.stmts(&mut inner, n);
                let mut inner = s.clone();
                let n = self.r.below(2);
                let els = self.stmts(&mut inner, n);
                S::IfStmt(c1, op, c2, then, els)
            }
            12 if !s.ints.is_empty() => {
                let scrutinee = I::Mod(Box::new(self.int_expr(s)), 3);
                let arms = (0..3)
                    .map(|_| {
                        let mut inner = s.clone();
                        let n = self.r.below(2);
                        self.stmts(&mut inner, n)
                    })
                    .collect();
                S::Match(scrutinee, arms)
            }
            13 if self.r.chance(0.5) => {
                let (c, k, v) = (self.expr(s), E::Lit(self.lit()), self.expr(s));
                S::Return(c, k, vec![v])
            }
            13 if self.r.chance(0.5) => {
                self.tags.insert("typed constant local");
                let v = self.name("k");
                s.values.push(v.clone());
                S::LetTyped(v, self.lit())
            }
            14 | 15 if self.loops.len() < 2 && self.r.chance(0.5) => self.carried(s),
            14 if s.rows && self.loops.len() < 2 => {
                let row = self.name("row");
                let mut inner = s.clone();
                inner.arrays.push((row.clone(), 2));
                self.loops.push(true);
                let n = 1 + self.r.below(2);
                let body = self.stmts(&mut inner, n);
                self.loops.pop();
                S::ForRows(row, body)
            }
            14 | 15 if self.loops.len() < 2 && self.r.chance(if in_loop { 0.3 } else { 1.0 }) => {
                self.looped(s)
            }
            // A recurrence: an outer value updated from itself, so that the order in which
            // the reverse sweep visits the iterations matters.
            17 if in_loop && !s.muts.is_empty() => {
                let m = s.muts[self.r.below(s.muts.len())].clone();
                let e = self.expr(s);
                // The innermost loop's counter makes each iteration different.
                let counter = s
                    .ints
                    .last()
                    .map_or_else(|| self.leaf(s), |i| E::IntCast(Box::new(I::Var(i.clone()))));
                let step = E::Bin(
                    "+",
                    Box::new(E::Bin("*", Box::new(E::Var(m.clone())), Box::new(e))),
                    Box::new(counter),
                );
                S::Assign(m, "=", E::Method("sin", Box::new(step), vec![]))
            }
            16 if in_loop => {
                let (c, k) = (self.expr(s), E::Lit(self.lit()));
                let jump = if self.loops.last() == Some(&true) && self.r.chance(0.5) {
                    "continue"
                } else {
                    "break"
                };
                S::Jump(c, k, jump)
            }
            _ => {
                let e = self.expr(s);
                let v = self.name("v");
                s.values.push(v.clone());
                S::Let(v, e)
            }
        }
    }

    /// A loop the way numeric code carries state through one: variables read, then updated
    /// (after their last use, or with a read after the update), coupled to each other,
    /// initialised from constants, fields, values or each other, maybe an array, maybe
    /// carried through an inner loop too, maybe left early behind a `&&`/`||` guard; an
    /// accumulator that the result reads, and carried variables it may not read at all.
    fn carried(&mut self, s: &mut Scope) -> S {
        let mut out = Vec::new();
        let count = 1 + self.r.below(3);
        let mut vars: Vec<String> = Vec::new();
        for j in 0..count {
            let v = self.name("c");
            let init = match self.r.below(4) {
                0 => {
                    self.tags.insert("carried: initialised from a constant");
                    E::Lit(self.lit())
                }
                1 if s.consts => {
                    self.tags.insert("carried: initialised from a field");
                    E::Field(["a", "b"][self.r.below(2)])
                }
                2 if j > 0 => {
                    self.tags
                        .insert("carried: initialised from another carried variable");
                    E::Var(vars[self.r.below(j)].clone())
                }
                _ => {
                    self.tags.insert("carried: initialised from a value");
                    Self::bounded(self.expr(s))
                }
            };
            out.push(S::LetMut(v.clone(), init));
            vars.push(v);
        }
        if count > 1 {
            self.tags.insert("carried: two or more coupled");
        }
        let acc = self.name("m");
        let start = if s.consts && self.r.chance(0.3) {
            self.tags.insert("carried: initialised from a field");
            E::Field("b")
        } else {
            E::Lit(0.0)
        };
        out.push(S::LetMut(acc.clone(), start));
        let array = (!s.generic && self.r.chance(0.3)).then(|| {
            self.tags.insert("carried: array");
            let a = self.name("a");
            out.push(S::LetArray(a.clone()));
            a
        });

        // The loop and its counter: a `for` index (usize, or of another type, read only as a
        // float), or the counter of a `while`/`loop`.
        let end = I::Lit(2 + self.r.below(3));
        let end = if s.ints.contains(&"n".to_owned()) && self.r.chance(0.5) {
            I::Add(Box::new(I::Var("n".into())), 1)
        } else {
            end
        };
        let widths = ["i8", "u16", "u32", "i64", "isize", "i32"];
        let kind = self.r.below(4);
        let counter = self.name(if kind == 0 { "i" } else { "k" });
        let mut inner = s.clone();
        inner.values.extend(vars.iter().cloned());
        let (typed, counter_usize) = if kind == 0 && self.r.chance(0.6) {
            (None, true)
        } else {
            let t = widths[self.r.below(widths.len())];
            self.tags.insert(match t {
                "i8" => "bound: i8",
                "u16" => "bound: u16",
                "u32" => "bound: u32",
                "i64" => "bound: i64",
                "isize" => "bound: isize",
                _ => "bound: i32",
            });
            (Some(t), false)
        };
        if counter_usize {
            inner.ints.push(counter.clone());
        } else {
            inner.counters.push(counter.clone());
        }
        self.loops.push(true);
        let mut body = Vec::new();
        // Reads of every carried variable before its update.
        self.tags.insert("carried: read before its update");
        let mut read = E::Lit(0.0);
        for v in &vars {
            let term = E::Bin(
                "*",
                Box::new(E::Var(v.clone())),
                Box::new(self.expr(&inner)),
            );
            read = E::Bin("+", Box::new(read), Box::new(Self::bounded(term)));
        }
        body.push(S::Assign(acc.clone(), "+=", read));
        if self.r.chance(0.45) {
            body.push(self.guard(&inner, &vars, &counter));
        }
        // The same state carried through an inner loop as well.
        if self.loops.len() < 2 && self.r.chance(0.3) {
            self.tags.insert("carried: through two loop levels");
            let v = vars[self.r.below(vars.len())].clone();
            let j = self.name("j");
            let mut nested = inner.clone();
            nested.ints.push(j.clone());
            self.loops.push(true);
            let step = Self::bounded(self.expr(&nested));
            let term = Self::bounded(E::Bin(
                "*",
                Box::new(E::Var(v.clone())),
                Box::new(self.expr(&nested)),
            ));
            self.loops.pop();
            body.push(S::For(
                j,
                I::Lit(0),
                I::Lit(1 + self.r.below(3)),
                "",
                vec![
                    S::Assign(acc.clone(), "+=", term),
                    S::Assign(v.clone(), "=", Self::contract(E::Var(v), step)),
                ],
            ));
        }
        // Updates, each variable maybe from the next one (coupled).
        for (k, v) in vars.iter().enumerate() {
            let other = vars.get((k + 1) % count).filter(|_| count > 1).cloned();
            let e = self.expr(&inner);
            let update = match (self.r.below(3), other) {
                (0, Some(o)) => S::Assign(
                    v.clone(),
                    "+=",
                    E::Bin(
                        "*",
                        Box::new(Self::bounded(E::Var(o))),
                        Box::new(E::Lit(0.3)),
                    ),
                ),
                (1, _) => S::Assign(v.clone(), "=", Self::contract(E::Var(v.clone()), e)),
                (_, Some(o)) => S::Assign(v.clone(), "=", Self::contract(E::Var(o), e)),
                (_, None) => S::Assign(
                    v.clone(),
                    "+=",
                    E::Bin("*", Box::new(Self::bounded(e)), Box::new(E::Lit(0.25))),
                ),
            };
            body.push(update);
        }
        if let Some(a) = &array {
            let (i, j) = if counter_usize {
                (
                    I::Mod(Box::new(I::Var(counter.clone())), 4),
                    I::Mod(Box::new(I::Add(Box::new(I::Var(counter.clone())), 1)), 4),
                )
            } else {
                (I::Lit(self.r.below(4)), I::Lit(self.r.below(4)))
            };
            let v = E::Var(vars[0].clone());
            let value = Self::contract(E::Index(a.clone(), Box::new(i)), v);
            body.push(S::Store(a.clone(), j, "=", value));
        }
        // A read after the updates, or none: the updates come after their last use.
        if self.r.chance(0.4) {
            let v = vars[self.r.below(count)].clone();
            body.push(S::Assign(acc.clone(), "+=", Self::bounded(E::Var(v))));
        } else {
            self.tags.insert("carried: updated after its last use");
        }
        self.loops.pop();
        let looped = match (kind, typed) {
            (0, None) => S::For(counter, I::Lit(0), end, "", body),
            (0, Some(t)) => S::For(counter, I::Lit(0), I::Cast(Box::new(end), t), "", body),
            (1 | 2, t) => {
                self.tags.insert("carried: in a while loop");
                S::Counted("while", counter, t.unwrap_or("usize"), end, body)
            }
            (_, t) => {
                self.tags.insert("carried: in a loop loop");
                S::Counted("loop", counter, t.unwrap_or("usize"), end, body)
            }
        };
        out.push(looped);
        // Or the accumulator is replaced whole after the loop, which leaves its updates in the
        // loop dead (long run seed 54 p975: they got adjoints of 0, times an infinity).
        if self.r.chance(0.2) {
            self.tags.insert("carried: replaced whole after the loop");
            let value = self.expr(s);
            out.push(S::Assign(acc.clone(), "=", value));
        }
        // The result reads the accumulator and the array, and maybe the carried variables.
        s.muts.push(acc);
        if let Some(a) = array {
            s.arrays.push((a, 4));
        }
        if self.r.chance(0.5) {
            s.muts.extend(vars);
        } else {
            self.tags.insert("carried: not used after the loop");
        }
        S::Seq(out)
    }

    /// `(a * b).sin() * 0.9`: a step that keeps a recurrence bounded.
    fn contract(a: E, b: E) -> E {
        let product = E::Bin(
            "+",
            Box::new(E::Bin("*", Box::new(a), Box::new(E::Lit(0.7)))),
            Box::new(b),
        );
        E::Bin(
            "*",
            Box::new(E::Method("sin", Box::new(product), vec![])),
            Box::new(E::Lit(0.9)),
        )
    }

    /// `if cond { break | continue | return … }`, the condition a comparison of a carried
    /// variable joined by `&&` or `||` to one of the counter, the variable on either side.
    fn guard(&mut self, s: &Scope, vars: &[String], counter: &str) -> S {
        let v = vars[self.r.below(vars.len())].clone();
        let carried = Cond::Float(
            E::Var(v),
            [">", "<", ">=", "<="][self.r.below(4)],
            E::Lit(self.lit() * 0.5),
        );
        let other = Cond::Int(
            I::Var(counter.to_owned()),
            [">=", "==", ">", "<"][self.r.below(4)],
            self.r.below(3),
        );
        let and = self.r.chance(0.5);
        let left = self.r.chance(0.5);
        self.tags.insert(match (and, left) {
            (true, true) => "guard: && with the carried variable on the left",
            (true, false) => "guard: && with the carried variable on the right",
            (false, true) => "guard: || with the carried variable on the left",
            (false, false) => "guard: || with the carried variable on the right",
        });
        let (a, b) = if left {
            (carried, other)
        } else {
            (other, carried)
        };
        let cond = if and {
            Cond::And(Box::new(a), Box::new(b))
        } else {
            Cond::Or(Box::new(a), Box::new(b))
        };
        let exit = match self.r.below(3) {
            0 => {
                self.tags.insert("exit: break");
                Exit::Break
            }
            1 => {
                self.tags.insert("exit: continue");
                Exit::Continue
            }
            _ => {
                self.tags.insert("exit: return");
                Exit::Return(vec![self.expr(s)])
            }
        };
        S::Guard(cond, exit)
    }

    fn looped(&mut self, s: &mut Scope) -> S {
        let end = self.int_expr(s);
        let mut inner = s.clone();
        // An accumulation (`for i in … { let v = …; m += …; }`), whose reverse sweep can run
        // inside the forward loop.
        if !s.muts.is_empty() && self.r.chance(0.3) {
            let i = self.name("i");
            inner.ints.push(i.clone());
            self.loops.push(true);
            let v = self.name("v");
            let value = self.expr(&inner);
            inner.values.push(v.clone());
            let m = s.muts[self.r.below(s.muts.len())].clone();
            let term = self.expr(&inner);
            self.loops.pop();
            return S::For(
                i,
                I::Lit(0),
                end,
                "",
                vec![S::Let(v, value), S::Assign(m, "+=", term)],
            );
        }
        let kind = self.r.below(5);
        let is_for = !matches!(kind, 2 | 3);
        self.loops.push(is_for);
        let n = 1 + self.r.below(3);
        let looped = match kind {
            0 | 1 => {
                let i = self.name("i");
                inner.ints.push(i.clone());
                let adapter = ["", ".rev()", ".step_by(2)"][self.r.below(3)];
                let start = I::Lit(self.r.below(2));
                let body = self.stmts(&mut inner, n);
                S::For(i, start, end, adapter, body)
            }
            2 => {
                let k = self.name("k");
                inner.ints.push(k.clone());
                let body = self.stmts(&mut inner, n);
                S::While(k, end, body)
            }
            3 => {
                let k = self.name("k");
                inner.ints.push(k.clone());
                let body = self.stmts(&mut inner, n);
                S::Loop(k, end, body)
            }
            _ => match s.arrays.iter().find(|(_, len)| *len == 3).cloned() {
                Some((w, _)) if !s.generic => {
                    let v = self.name("e");
                    inner.values.push(v.clone());
                    let body = self.stmts(&mut inner, n);
                    S::ForEach(v, w, body)
                }
                _ => {
                    let i = self.name("i");
                    inner.ints.push(i.clone());
                    let body = self.stmts(&mut inner, n);
                    S::For(i, I::Lit(0), end, "", body)
                }
            },
        };
        self.loops.pop();
        looped
    }
}

/// Prints expressions and statements in one flavour.
struct Printer {
    flavor: Flavor,
}

impl Printer {
    fn lit(&self, v: f64) -> String {
        let text = format!("{v:?}");
        match self.flavor {
            // Suffixed, so that a literal can take a method (`0.5_f64.sin()`).
            Flavor::Plain => format!("{text}_f64"),
            Flavor::Dual => format!("D::constant({text})"),
            Flavor::Generic => format!("T::from_f64({text})"),
        }
    }

    fn int(i: &I) -> String {
        match i {
            I::Var(v) => v.clone(),
            I::Lit(k) => k.to_string(),
            I::Mod(a, m) => format!("({} % {m})", Self::int(a)),
            I::Add(a, k) => format!("({} + {k})", Self::int(a)),
            I::Cast(a, t) => format!("({} as {t})", Self::int(a)),
        }
    }

    fn cond(&self, c: &Cond) -> String {
        match c {
            Cond::Float(a, op, b) => format!("{} {op} {}", self.expr(a), self.expr(b)),
            Cond::Int(i, op, k) => format!("{} {op} {k}", Self::int(i)),
            Cond::And(a, b) => format!("({} && {})", self.cond(a), self.cond(b)),
            Cond::Or(a, b) => format!("({} || {})", self.cond(a), self.cond(b)),
        }
    }

    /// A literal as the user writes it when a type annotation or a path says its type.
    fn untyped(&self, v: f64) -> String {
        match self.flavor {
            Flavor::Plain => format!("{v:?}"),
            _ => self.lit(v),
        }
    }

    fn expr(&self, e: &E) -> String {
        match e {
            E::Var(v) => v.clone(),
            E::Lit(v) => {
                if v.is_sign_negative() && self.flavor == Flavor::Plain {
                    format!("({})", self.lit(*v))
                } else {
                    self.lit(*v)
                }
            }
            E::Pi => match self.flavor {
                Flavor::Plain => "std::f64::consts::PI".into(),
                Flavor::Dual => "D::constant(std::f64::consts::PI)".into(),
                Flavor::Generic => "T::from_f64(std::f64::consts::PI)".into(),
            },
            E::IntCast(i) => match self.flavor {
                Flavor::Plain => format!("({} as f64)", Self::int(i)),
                Flavor::Dual => format!("D::constant({} as f64)", Self::int(i)),
                Flavor::Generic => format!("T::from_i32({} as i32)", Self::int(i)),
            },
            E::Index(a, i) => format!("{a}[{}]", Self::int(i)),
            E::Neg(a) => format!("(-{})", self.expr(a)),
            E::Bin(op, a, b) => format!("({} {op} {})", self.expr(a), self.expr(b)),
            E::Method(m, a, args) => {
                let args: Vec<String> = args.iter().map(|x| self.expr(x)).collect();
                format!("{}.{m}({})", self.expr(a), args.join(", "))
            }
            E::Powi(a, k) => format!("{}.powi({k})", self.expr(a)),
            E::Path(m, a) => {
                let ty = match self.flavor {
                    Flavor::Plain => "f64",
                    Flavor::Dual => "D",
                    Flavor::Generic => "T",
                };
                format!("{ty}::{m}({})", self.expr(a))
            }
            // The twin evaluates both arms, to see an infinite value in the arm not taken.
            E::If(a, op, b, c, d) if self.flavor == Flavor::Dual => format!(
                "branch({} {op} {}, {}, {})",
                self.expr(a),
                self.expr(b),
                self.expr(c),
                self.expr(d)
            ),
            E::If(a, op, b, c, d) => format!(
                "(if {} {op} {} {{ {} }} else {{ {} }})",
                self.expr(a),
                self.expr(b),
                self.expr(c),
                self.expr(d)
            ),
            E::Call(h, args) => {
                let args: Vec<String> = args.iter().map(|x| self.expr(x)).collect();
                let suffix = if self.flavor == Flavor::Dual {
                    "_dual"
                } else {
                    ""
                };
                format!("{h}{suffix}({})", args.join(", "))
            }
            E::NoGrad(a) => match self.flavor {
                Flavor::Dual => format!("D::constant({}.re())", self.expr(a)),
                _ => format!("grad::no_grad({})", self.expr(a)),
            },
            E::SumMap(w, a) => {
                let t = if self.flavor == Flavor::Dual {
                    "D"
                } else {
                    "f64"
                };
                format!("{w}.iter().map(|&q| q * {}).sum::<{t}>()", self.expr(a))
            }
            E::Field(f) => match self.flavor {
                Flavor::Plain => format!("c.{f}"),
                Flavor::Dual => format!("D::constant(c.{f})"),
                Flavor::Generic => format!("T::from_f64(c.{f})"),
            },
            E::Index2(a, i, j) => format!("{a}[{}][{}]", Self::int(i), Self::int(j)),
            E::PathConst(m, a, b) => {
                let ty = match self.flavor {
                    Flavor::Plain => "f64",
                    Flavor::Dual => "D",
                    Flavor::Generic => "T",
                };
                format!("{ty}::{m}({} + {})", self.untyped(*a), self.untyped(*b))
            }
        }
    }

    fn stmts(&self, stmts: &[S], indent: usize, out: &mut String) {
        for s in stmts {
            self.stmt(s, indent, out);
        }
    }

    fn stmt(&self, s: &S, indent: usize, out: &mut String) {
        let pad = "    ".repeat(indent);
        match s {
            S::Let(v, e) => {
                let _ = writeln!(out, "{pad}let {v} = {};", self.expr(e));
            }
            S::LetMut(v, e) => {
                let _ = writeln!(out, "{pad}let mut {v} = {};", self.expr(e));
            }
            S::Assign(v, op, e) => {
                let _ = writeln!(out, "{pad}{v} {op} {};", self.expr(e));
            }
            S::Store(a, i, op, e) => {
                let _ = writeln!(out, "{pad}{a}[{}] {op} {};", Self::int(i), self.expr(e));
            }
            S::LetArray(a) => {
                let _ = writeln!(out, "{pad}let mut {a} = [{}; 4];", self.lit(0.0));
            }
            S::IfStmt(a, op, b, then, els) => {
                let _ = writeln!(out, "{pad}if {} {op} {} {{", self.expr(a), self.expr(b));
                self.stmts(then, indent + 1, out);
                let _ = writeln!(out, "{pad}}} else {{");
                self.stmts(els, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            S::Match(i, arms) => {
                let _ = writeln!(out, "{pad}match {} {{", Self::int(i));
                for (k, arm) in arms.iter().enumerate() {
                    let pattern = if k + 1 == arms.len() {
                        "_".to_owned()
                    } else {
                        k.to_string()
                    };
                    let _ = writeln!(out, "{pad}    {pattern} => {{");
                    self.stmts(arm, indent + 2, out);
                    let _ = writeln!(out, "{pad}    }}");
                }
                let _ = writeln!(out, "{pad}}}");
            }
            S::Return(c, k, values) => {
                let values: Vec<String> = values.iter().map(|v| self.expr(v)).collect();
                let value = if values.len() == 1 {
                    values[0].clone()
                } else {
                    format!("[{}]", values.join(", "))
                };
                let _ = writeln!(
                    out,
                    "{pad}if {} > {} {{\n{pad}    return {value};\n{pad}}}",
                    self.expr(c),
                    self.expr(k),
                );
            }
            S::Jump(c, k, jump) => {
                let _ = writeln!(
                    out,
                    "{pad}if {} > {} {{\n{pad}    {jump};\n{pad}}}",
                    self.expr(c),
                    self.expr(k),
                );
            }
            S::For(i, start, end, adapter, body) => {
                let range = format!("({}..{})", Self::int(start), Self::int(end));
                let _ = writeln!(out, "{pad}for {i} in {range}{adapter} {{");
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            S::While(k, end, body) => {
                let _ = writeln!(out, "{pad}let mut {k} = 0;");
                let _ = writeln!(out, "{pad}while {k} < {} {{", Self::int(end));
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}    {k} += 1;");
                let _ = writeln!(out, "{pad}}}");
            }
            S::Loop(k, end, body) => {
                let _ = writeln!(out, "{pad}let mut {k} = 0;");
                let _ = writeln!(out, "{pad}loop {{");
                let _ = writeln!(
                    out,
                    "{pad}    if {k} >= {} {{\n{pad}        break;\n{pad}    }}",
                    Self::int(end)
                );
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}    {k} += 1;");
                let _ = writeln!(out, "{pad}}}");
            }
            S::ForEach(v, w, body) => {
                let _ = writeln!(out, "{pad}for &{v} in {w}.iter() {{");
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            S::LetTyped(v, x) => {
                let ty = match self.flavor {
                    Flavor::Plain => "f64",
                    Flavor::Dual => "D",
                    Flavor::Generic => "T",
                };
                let _ = writeln!(out, "{pad}let {v}: {ty} = {};", self.untyped(*x));
            }
            S::Seq(stmts) => self.stmts(stmts, indent, out),
            S::Guard(c, exit) => {
                let exit = match exit {
                    Exit::Break => "break;".to_owned(),
                    Exit::Continue => "continue;".to_owned(),
                    Exit::Return(values) => {
                        let values: Vec<String> = values.iter().map(|v| self.expr(v)).collect();
                        if values.len() == 1 {
                            format!("return {};", values[0])
                        } else {
                            format!("return [{}];", values.join(", "))
                        }
                    }
                };
                let _ = writeln!(out, "{pad}if {} {{\n{pad}    {exit}\n{pad}}}", self.cond(c));
            }
            S::Counted(kind, k, ty, end, body) => {
                let end = Self::int(end);
                let _ = writeln!(out, "{pad}let mut {k}: {ty} = 0;");
                if *kind == "while" {
                    let _ = writeln!(out, "{pad}while {k} < ({end} as {ty}) {{");
                } else {
                    let _ = writeln!(out, "{pad}loop {{");
                    let _ = writeln!(
                        out,
                        "{pad}    if {k} >= ({end} as {ty}) {{\n{pad}        break;\n{pad}    }}"
                    );
                }
                let _ = writeln!(out, "{pad}    {k} += 1;");
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            S::ForRows(row, body) => {
                let _ = writeln!(out, "{pad}for {row} in rs.iter() {{");
                self.stmts(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
        }
    }
}

/// A helper: a scalar function of two floats that other programs call.
#[must_use]
pub fn helper(r: &mut Rng, name: &str) -> Program {
    build(
        r,
        name,
        Shape {
            floats: 2,
            int: false,
            array: false,
            vector: false,
            generic: false,
            consts: false,
            rows: false,
        },
        &[],
        false,
    )
}

/// A random signature (no vector output for programs that others call).
#[must_use]
pub fn random_shape(r: &mut Rng) -> Shape {
    let generic = r.chance(0.2);
    let vector = !generic && r.chance(0.15);
    Shape {
        floats: 1 + r.below(3),
        int: r.chance(0.6),
        array: !generic && r.chance(0.4),
        vector,
        generic,
        consts: r.chance(0.25),
        // A Jacobian needs the length of every column in its type.
        rows: !generic && !vector && r.chance(0.2),
    }
}

/// Generates the program `name` of signature `shape`, which may call `helpers` (each a
/// function of two floats with a `_dual` twin).
#[must_use]
pub fn generate(r: &mut Rng, name: &str, shape: Shape, helpers: &[String]) -> Program {
    build(r, name, shape, helpers, true)
}

fn build(r: &mut Rng, name: &str, shape: Shape, helpers: &[String], powi: bool) -> Program {
    let mut g = Gen {
        r,
        fresh: 0,
        depth: 0,
        loops: Vec::new(),
        powi,
        tags: BTreeSet::new(),
    };
    let mut scope = Scope {
        generic: shape.generic,
        consts: shape.consts,
        rows: shape.rows,
        ..Scope::default()
    };
    if shape.consts {
        g.tags.insert("parameter: a struct left out by wrt");
    }
    if shape.rows {
        g.tags.insert("parameter: &[Vec<f64>]");
    }
    for k in 0..shape.floats {
        scope.values.push(format!("x{k}"));
    }
    if shape.int {
        scope.ints.push("n".into());
    }
    if shape.array {
        scope.arrays.push(("w".into(), 3));
    }
    if !shape.generic {
        scope.helpers = helpers.iter().map(|h| (h.clone(), 2)).collect();
    }
    let count = 2 + g.r.below(6);
    let body = g.stmts(&mut scope, count);
    // The result depends on what the body computed (every mutable, some values), so that
    // little of it is dead code the check would not see.
    let mut a = g.expr(&scope);
    for v in scope
        .muts
        .iter()
        .chain(scope.values.iter().filter(|_| g.r.chance(0.3)))
    {
        let term = E::Method("tanh", Box::new(E::Var(v.clone())), vec![]);
        a = E::Bin("+", Box::new(a), Box::new(term));
    }
    for (arr, _) in scope.arrays.iter().filter(|(name, _)| name != "w") {
        let term = E::Index(arr.clone(), Box::new(I::Lit(g.r.below(4))));
        a = E::Bin("+", Box::new(a), Box::new(term));
    }
    let b = g.expr(&scope);
    let body = if shape.vector {
        vector_returns(body)
    } else {
        body
    };
    let mut items = String::new();
    let flavors: &[Flavor] = if shape.generic {
        &[Flavor::Generic]
    } else {
        &[Flavor::Plain, Flavor::Dual]
    };
    for &flavor in flavors {
        let p = Printer { flavor };
        let (float, suffix) = match flavor {
            Flavor::Plain => ("f64", ""),
            Flavor::Dual => ("D", "_dual"),
            Flavor::Generic => ("T", ""),
        };
        let mut params: Vec<String> = (0..shape.floats)
            .map(|k| format!("x{k}: {float}"))
            .collect();
        if shape.int {
            params.push("n: usize".into());
        }
        if shape.array {
            params.push(format!("w: &[{float}; 3]"));
        }
        if shape.consts {
            params.push("c: &Consts".into());
        }
        if shape.rows {
            params.push(format!("rs: &[Vec<{float}>]"));
        }
        // With a constant struct, `wrt` names every float parameter.
        let mut wrt: Vec<String> = (0..shape.floats).map(|k| format!("x{k}")).collect();
        if shape.array {
            wrt.push("w".into());
        }
        if shape.rows {
            wrt.push("rs".into());
        }
        let wrt = if shape.consts {
            format!(", wrt({})", wrt.join(", "))
        } else {
            String::new()
        };
        let ret = if shape.vector {
            format!("[{float}; 2]")
        } else {
            float.to_owned()
        };
        let generics = if flavor == Flavor::Generic {
            "<T: grad::Real>"
        } else {
            ""
        };
        let attr = match flavor {
            Flavor::Plain => format!("#[grad::derive_grad(jvp{wrt})]\n"),
            Flavor::Generic => format!("#[grad::derive_grad(jvp, hessian{wrt})]\n"),
            Flavor::Dual => String::new(),
        };
        let _ = writeln!(
            items,
            "{attr}#[allow(unused_mut, unused_variables, unused_assignments, unreachable_code, \
             clippy::all)]\npub fn {name}{suffix}{generics}({}) -> {ret} {{",
            params.join(", ")
        );
        let mut body_text = String::new();
        p.stmts(&body, 1, &mut body_text);
        items.push_str(&body_text);
        let tail = if shape.vector {
            format!("[{}, {}]", p.expr(&a), p.expr(&b))
        } else {
            p.expr(&a)
        };
        let _ = writeln!(items, "    {tail}\n}}\n");
    }
    let check = check_code(name, &shape);
    Program {
        name: name.to_owned(),
        shape,
        items,
        check,
        tags: g.tags,
    }
}

/// Early returns in a vector-valued function return `[v, v.sin()]`, at any depth.
fn vector_returns(body: Vec<S>) -> Vec<S> {
    let nested = |stmts: Vec<S>| vector_returns(stmts);
    body.into_iter()
        .map(|s| match s {
            S::Return(c, k, mut v) => {
                let second = E::Method("sin", Box::new(v[0].clone()), vec![]);
                v.push(second);
                S::Return(c, k, v)
            }
            S::IfStmt(a, op, c, then, els) => S::IfStmt(a, op, c, nested(then), nested(els)),
            S::Match(i, arms) => S::Match(i, arms.into_iter().map(nested).collect()),
            S::For(i, a, e, ad, body) => S::For(i, a, e, ad, nested(body)),
            S::While(k, e, body) => S::While(k, e, nested(body)),
            S::Loop(k, e, body) => S::Loop(k, e, nested(body)),
            S::ForEach(v, w, body) => S::ForEach(v, w, nested(body)),
            S::Guard(c, Exit::Return(mut v)) => {
                let second = E::Method("sin", Box::new(v[0].clone()), vec![]);
                v.push(second);
                S::Guard(c, Exit::Return(v))
            }
            S::Seq(body) => S::Seq(nested(body)),
            S::Counted(kind, k, t, e, body) => S::Counted(kind, k, t, e, nested(body)),
            S::ForRows(row, body) => S::ForRows(row, nested(body)),
            other => other,
        })
        .collect()
}

/// The code that checks a program: value bits, gradient (or Jacobian) and jvp against dual
/// numbers, the Hessian of generic programs against `_grad` on duals.
fn check_code(name: &str, shape: &Shape) -> String {
    let inputs = shape.inputs();
    let mut args_plain = Vec::new();
    let mut args_dual = Vec::new();
    let mut tangents = Vec::new();
    for k in 0..shape.floats {
        args_plain.push(format!("x[{k}]"));
        args_dual.push(format!("seed(x[{k}], dir[{k}])"));
        tangents.push(format!("t[{k}]"));
    }
    let (int_arg, array_arg, array_dual, array_t) = if shape.array {
        let base = shape.floats;
        (
            String::new(),
            format!("&[x[{base}], x[{}], x[{}]]", base + 1, base + 2),
            format!(
                "&[seed(x[{base}], dir[{base}]), seed(x[{}], dir[{}]), seed(x[{}], dir[{}])]",
                base + 1,
                base + 1,
                base + 2,
                base + 2
            ),
            format!("[t[{base}], t[{}], t[{}]]", base + 1, base + 2),
        )
    } else {
        (String::new(), String::new(), String::new(), String::new())
    };
    let _ = int_arg;
    if shape.int {
        args_plain.push("n".into());
        args_dual.push("n".into());
    }
    if shape.array {
        args_plain.push(array_arg);
        args_dual.push(array_dual);
    }
    if shape.consts {
        args_plain.push("&CONSTS".into());
        args_dual.push("&CONSTS".into());
    }
    let rows = |f: &dyn Fn(usize) -> String| {
        let b = shape.floats + if shape.array { 3 } else { 0 };
        format!(
            "&[vec![{}, {}], vec![{}, {}]]",
            f(b),
            f(b + 1),
            f(b + 2),
            f(b + 3)
        )
    };
    if shape.rows {
        args_plain.push(rows(&|k| format!("x[{k}]")));
        args_dual.push(rows(&|k| format!("seed(x[{k}], dir[{k}])")));
    }
    let plain = args_plain.join(", ");
    let dual = args_dual.join(", ");
    let mut jvp_args = args_plain.clone();
    jvp_args.extend(tangents);
    if shape.array {
        jvp_args.push(array_t);
    }
    if shape.rows {
        jvp_args.push(rows(&|k| format!("t[{k}]")));
    }
    let jvp = jvp_args.join(", ");
    let dual_fn = if shape.generic {
        name.to_owned()
    } else {
        format!("{name}_dual")
    };
    let flatten = flatten_gradient(shape);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "#[allow(unused_variables, clippy::all)]\npub fn check_{name}(r: &mut Rng, report: &mut Report) {{\n    \
         report.begin(\"{name}\");\n    for x in points(r, {inputs}) {{\n        let n = r.below(5);\n        report.at(&x, n);\n        \
         let plain = {name}({plain});\n        let dual_at = |dir: &[f64]| {dual_fn}({dual});"
    );
    if shape.vector {
        let _ = writeln!(
            out,
            "        let (value, jacobian) = {name}_jacobian({plain});\n        \
             report.bits(&plain, &value);\n        \
             for j in 0..{inputs} {{\n            let column = dual_at(&unit({inputs}, j));\n            \
             for i in 0..2 {{ report.row(jacobian[i][j], &column, i, plain[i], \"jacobian\"); }}\n        }}\n        \
             let t = direction(r, {inputs});\n        let (v, jt) = {name}_jvp({jvp});\n        \
             report.bits(&plain, &v);\n        let along = dual_at(&t);\n        \
             for i in 0..2 {{ report.dual(jt[i], along[i], plain[i], \"jvp\"); }}\n        \
             for i in 0..2 {{ report.identity(&jacobian[i], &t, jt[i], along[i]); }}"
        );
    } else {
        let _ = writeln!(
            out,
            "        let (value, g) = {name}_grad({plain});\n        report.bits(&[plain], &[value]);\n        \
             let g: Vec<f64> = {flatten};\n        \
             for j in 0..{inputs} {{ report.dual(g[j], dual_at(&unit({inputs}, j)), plain, \"gradient\"); }}\n        \
             let t = direction(r, {inputs});\n        let (v, d) = {name}_jvp({jvp});\n        \
             report.bits(&[plain], &[v]);\n        report.dual(d, dual_at(&t), plain, \"jvp\");\n        \
             report.identity(&g, &t, d, dual_at(&t));"
        );
    }
    if shape.generic {
        let grad_dual = (0..shape.floats)
            .map(|k| format!("seed(x[{k}], dir[{k}])"))
            .chain(shape.int.then(|| "n".to_owned()))
            .chain(shape.consts.then(|| "&CONSTS".to_owned()))
            .collect::<Vec<_>>()
            .join(", ");
        let flat_dual = flatten_gradient_dual(shape);
        let _ = writeln!(
            out,
            "        // Second derivatives at tiny inputs overflow in any method: regular points only.\n        \
             if x.iter().any(|v| v.abs() < 1e-200) {{ continue; }}\n        \
             let (hv, hg, h) = {name}_hessian({plain});\n        report.bits(&[plain], &[hv]);\n        \
             for j in 0..{inputs} {{\n            let dir = unit({inputs}, j);\n            \
             let (_, gd) = {name}_grad({grad_dual});\n            let column: Vec<D> = {flat_dual};\n            \
             // h[i][j] above the diagonal is mirrored from the derivative of gradient j: both\n            \
             // gradients must be finite for the entry to mean anything.\n            \
             for i in 0..{inputs} {{ if hg[j].is_finite() {{ report.dual(h[i][j], column[i], hg[i], \"hessian\"); }} }}\n        }}"
        );
    }
    out.push_str("    }\n}\n");
    out
}

/// `g` (a bare gradient or a tuple, arrays inside) flattened into a `Vec<f64>`.
fn flatten_gradient(shape: &Shape) -> String {
    let parts = shape.floats + usize::from(shape.array) + usize::from(shape.rows);
    let mut items = Vec::new();
    for k in 0..shape.floats {
        items.push(if parts == 1 {
            "g".to_owned()
        } else {
            format!("g.{k}")
        });
    }
    if shape.array {
        let a = if parts == 1 {
            "g".to_owned()
        } else {
            format!("g.{}", shape.floats)
        };
        items.extend((0..3).map(|i| format!("{a}[{i}]")));
    }
    if shape.rows {
        let a = if parts == 1 {
            "g".to_owned()
        } else {
            format!("g.{}", parts - 1)
        };
        items.extend(["[0][0]", "[0][1]", "[1][0]", "[1][1]"].map(|i| format!("{a}{i}")));
    }
    format!("vec![{}]", items.join(", "))
}

fn flatten_gradient_dual(shape: &Shape) -> String {
    let items: Vec<String> = (0..shape.floats)
        .map(|k| {
            if shape.floats == 1 {
                "gd".to_owned()
            } else {
                format!("gd.{k}")
            }
        })
        .collect();
    format!("vec![{}]", items.join(", "))
}

/// What every batch defines first: the constant struct some programs take.
pub const PRELUDE: &str = "/// Data held beside the parameters, left out by `wrt`.\npub struct Consts {\n    pub a: f64,\n    pub b: f64,\n}\n\npub const CONSTS: Consts = Consts { a: 0.7, b: -0.4 };\n\n";

/// How many helpers a batch has (`{prefix}h0`…), which its programs may call.
pub const HELPERS: usize = 3;

/// The programs of a batch, in order: the [`HELPERS`], then `count` programs (`{prefix}p0`…)
/// that may call them.
#[must_use]
pub fn programs(seed: u64, count: usize, prefix: &str) -> Vec<Program> {
    let mut r = Rng::new(seed);
    let helpers: Vec<String> = (0..HELPERS).map(|k| format!("{prefix}h{k}")).collect();
    let mut out: Vec<Program> = helpers.iter().map(|h| helper(&mut r, h)).collect();
    for k in 0..count {
        let shape = random_shape(&mut r);
        out.push(generate(&mut r, &format!("{prefix}p{k}"), shape, &helpers));
    }
    out
}

/// A batch of programs ([`programs`]): the source of one module, and the list of its checks.
#[must_use]
pub fn batch(seed: u64, count: usize, prefix: &str) -> (String, Vec<Check>) {
    let mut source = String::from(PRELUDE);
    let mut checks = Vec::new();
    for p in programs(seed, count, prefix) {
        source.push_str(&p.items);
        source.push_str(&p.check);
        checks.push(Check {
            same_in_every_build: !p.items.contains(".powi("),
            name: p.name,
        });
    }
    (source, checks)
}

/// A generated program's check function, and whether its bits are the same in every build.
pub struct Check {
    /// The program's name.
    pub name: String,
    /// `false` when the program uses `powi`, whose rounding Rust does not fix: LLVM folds a
    /// constant `powi` differently from the runtime's loop, so debug and release builds may
    /// differ by an ulp in the user's own function. (Helpers never use it.)
    pub same_in_every_build: bool,
}
