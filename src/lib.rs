//! Compile-time automatic differentiation: `#[derive_grad]` writes the backward pass of a
//! Rust function as plain Rust.
//!
//! Put `#[derive_grad]` on an ordinary numeric function and you get, beside it, functions
//! whose bodies are the derivative written out the way a careful student derives it on a
//! computation graph: the forward sweep with your own variable names, then the adjoints in
//! reverse order, one statement per local derivative (`d_a += d_out * b;`), gradients summed
//! where a value fans out. Nothing is hidden: for straight-line scalar code there is no tape
//! and no allocation, and the optimiser sees plain code it makes as fast as a hand-written
//! gradient; a loop that overwrites its state keeps what the backward pass needs on tapes
//! (below).
//!
//! ```
//! use grad::derive_grad;
//!
//! #[derive_grad]
//! pub fn f(x: f64, y: f64, z: f64) -> f64 {
//!     let a = x + y;
//!     let b = y.max(z);
//!     a * b
//! }
//!
//! // value and gradient
//! assert_eq!(f_grad(1.0, 2.0, 0.0), (6.0, (2.0, 5.0, 0.0)));
//!
//! // reverse mode: accumulates d_out · ∂f/∂p into each buffer
//! let (mut dx, mut dy, mut dz) = (0.0, 0.0, 0.0);
//! f_pullback(1.0, 2.0, 0.0, 1.0, &mut dx, &mut dy, &mut dz);
//! assert_eq!((dx, dy, dz), (2.0, 5.0, 0.0));
//! ```
//!
//! # What is generated
//!
//! For `fn f(params…) -> F`, beside the unchanged `f` and with the same visibility:
//!
//! * `f_grad(params…) -> (F, gradient)`: the value and the gradient with respect to every float
//!   parameter, in declaration order; a single gradient is returned bare, several as a tuple.
//!   The value is bit for bit `f(params…)`: the forward sweep performs the same floating-point
//!   operations in the same order.
//! * `f_pullback(params…, d_out: F, d_p: &mut P…)`: reverse mode. For every float parameter
//!   `p` it **adds** `d_out · ∂f/∂p` into the buffer `d_p`, so callers zero their buffers first.
//!   This is also how differentiated functions call each other (below).
//!
//! Integer, `bool`, `char` and string parameters (and arrays, `Vec`s and `Option`s of them)
//! are constants: they get no gradient and no buffer. Every gradient has the shape of its
//! parameter: `&f64` gives `f64` (buffer `&mut f64`, tangent `f64`), `[f64; N]` and
//! `&[f64; N]` give `[f64; N]`, `&[f64]` and `&Vec<f64>` give
//! `Vec<f64>` (buffer `&mut [f64]`), 2-D arrays likewise, and `&[Vec<f64>]` gives
//! `Vec<Vec<f64>>`. A parameter of any other type (a struct, a tuple, a vector type of another
//! crate) is a compile error naming it, unless `wrt(…)` leaves it out: it is never silently a
//! constant. With `#[derive_grad(wrt(x, w))]`, `f_grad` returns only the gradients of `x` and
//! `w`; `f_pullback` still fills every float buffer with the true partial.
//!
//! ```
//! # use grad::derive_grad;
//! #[derive_grad(wrt(w))]
//! fn loss(w: f32, x: f32, target: f32) -> f32 {
//!     let error = w * x - target;
//!     0.5 * error * error
//! }
//! assert_eq!(loss_grad(2.0, 3.0, 1.0), (12.5, 15.0));
//! ```
//!
//! # Loops and arrays
//!
//! Numeric code loops over arrays, and so can a differentiated function:
//!
//! ```
//! # use grad::derive_grad;
//! /// s = u · tanh(W x + b)
//! #[derive_grad]
//! fn score(w: &[[f64; 3]; 2], x: &[f64; 3], b: &[f64; 2], u: &[f64; 2]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..2 {
//!         let mut z = b[i];
//!         for j in 0..3 {
//!             z += w[i][j] * x[j];
//!         }
//!         s += u[i] * z.tanh();
//!     }
//!     s
//! }
//!
//! let (w, x, b, u) = ([[0.1, 0.2, 0.3], [-0.3, 0.2, 0.1]], [1.0, 2.0, 3.0], [0.0, 0.5], [1.0, -1.0]);
//! let (_, (dw, dx, db, du)) = score_grad(&w, &x, &b, &u);
//! // ∂s/∂b is δ = u ∘ tanh′(z), and ∂s/∂W = δ xᵀ.
//! assert_eq!(dw[1][2], db[1] * x[2]);
//! ```
//!
//! The reverse sweep runs each loop backwards over the same indices (or the iterations that
//! ran, after a `break`). Values it needs are recomputed where they are immutable bindings;
//! only values the loop overwrites (a `mut` variable, an element of a mutable array, a guard's
//! decision that reads one) are kept, each on a tape of its own — a stack array when the trip
//! counts are constants, else a `Vec` reserved once. What an iteration leaves for the next —
//! a state updated after its last use in the body, as in every integrator — flows back from
//! the next iteration:
//!
//! ```
//! # use grad::derive_grad;
//! #[derive_grad]
//! fn euler(a: f64, h: f64, n: usize) -> f64 {
//!     let mut s = 0.0;
//!     let mut v = a;
//!     for _ in 0..n {
//!         s += v * v; // v is used…
//!         v += h;     // …then updated, and never used after the loop
//!     }
//!     s
//! }
//! // s = Σ_{k<4} (a + k·h)², ∂s/∂h = Σ 2k(a + k·h) = 26 at (1, 0.5)
//! assert_eq!(euler_grad(1.0, 0.5, 4), (13.5, (14.0, 26.0)));
//! ```
//!
//! # Calls and custom derivatives
//!
//! A call `g(a, b)` inside a differentiated function is differentiated by calling
//! `g_pullback(a, b, d_out, &mut d_a, &mut d_b)`, with a buffer for each float argument. So
//! functions with `#[derive_grad]` compose without ceremony, and a custom derivative is just a
//! hand-written `g_pullback` with that signature (rustc checks it; a wrong one is a type
//! error at your call). A call whose arguments are all constants needs no pullback.
//!
//! The macro does not see a callee's signature. A call with float arguments is taken to
//! return a float, or an array where its result is indexed, iterated over or annotated
//! (`let p: [f64; 2] = polar(r, t);`, the way to pass it on to another call); an argument of
//! a type it cannot see (a field of a constant, a user `const`) is taken to be a float and
//! gets a buffer — a wrong guess is rustc's argument-count error at the call, never a wrong
//! derivative.
//!
//! ```
//! # use grad::derive_grad;
//! /// √(x² + ε): smooth, with a derivative written by hand.
//! fn smooth_abs(x: f64) -> f64 {
//!     (x * x + 1e-6).sqrt()
//! }
//!
//! fn smooth_abs_pullback(x: f64, d_out: f64, d_x: &mut f64) {
//!     *d_x += d_out * x / smooth_abs(x);
//! }
//!
//! #[derive_grad]
//! fn penalty(x: f64, y: f64) -> f64 {
//!     smooth_abs(x - y) + grad::sigmoid(y)
//! }
//!
//! let (_, (dx, dy)) = penalty_grad(3.0, 1.0);
//! assert!((dx - 1.0).abs() < 1e-6);
//! ```
//!
//! `grad::no_grad(e)` evaluates `e` and treats it as a constant (a stop-gradient). The runtime
//! helpers [`sigmoid`], [`relu`], [`softplus`], [`log_sigmoid`] and [`logsumexp`] come with
//! their pullbacks.
//!
//! # Forward mode, Jacobians, Hessians
//!
//! Options of the attribute generate more functions from the same IR and rule table:
//!
//! * `#[derive_grad(jvp)]` adds `f_jvp(params…, t_p…) -> (F, F)`: forward mode, the value and
//!   the directional derivative along the tangents `t_p` (one per float parameter, in the
//!   shape of the parameter; a slice's tangent is a slice). A call `g(x)` goes through
//!   `g_jvp(x, t_x)`, so a custom derivative for forward mode is a hand-written `g_jvp`.
//! * A function returning `[f64; M]` gets `f_jacobian(params…) -> ([f64; M], [[f64; N]; M])`
//!   (row `i` is output `i`; the `N` columns are the float inputs of `wrt`, flattened in
//!   declaration order, arrays row-major) and a `_pullback` whose `d_out` is `[f64; M]`; it
//!   gets no `_grad`. With no more outputs than inputs, the Jacobian is one forward sweep and
//!   then one reverse sweep per output (tapes are rewound, not recomputed); with more outputs
//!   than inputs (both numbers literals), one forward-mode sweep per input.
//! * `#[derive_grad(hessian)]` adds `f_hessian(params…) -> (F, [F; N], [[F; N]; N])` for a
//!   function of `N` scalar parameters: value, gradient and Hessian, by forward mode over the
//!   gradient's own code — one Hessian-vector product per parameter, so the cost is `N` times
//!   a gradient, not `N²` re-derivations — made exactly symmetric by mirroring the lower
//!   triangle. Calls inside the function are not supported by `hessian` yet.
//!
//! ```
//! # use grad::derive_grad;
//! #[derive_grad(jvp, hessian)]
//! fn rosenbrock(x: f64, y: f64) -> f64 {
//!     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
//! }
//!
//! // The derivative along (1, 2) is ⟨∇f, (1, 2)⟩.
//! let (value, along) = rosenbrock_jvp(0.5, 0.5, 1.0, 2.0);
//! let (_, (dx, dy)) = rosenbrock_grad(0.5, 0.5);
//! assert_eq!(value, 6.5);
//! assert!((along - (dx + 2.0 * dy)).abs() < 1e-12);
//!
//! let (_, gradient, h) = rosenbrock_hessian(0.5, 0.5);
//! assert_eq!(gradient, [dx, dy]);
//! assert_eq!(h, [[2.0 - 400.0 * (0.5 - 0.25) + 800.0 * 0.25, -200.0], [-200.0, 200.0]]);
//!
//! /// A point on the unit circle, scaled.
//! #[derive_grad]
//! fn polar(r: f64, theta: f64) -> [f64; 2] {
//!     [r * theta.cos(), r * theta.sin()]
//! }
//! let (p, j) = polar_jacobian(2.0, 0.0);
//! assert_eq!(p, [2.0, 0.0]);
//! assert_eq!(j, [[1.0, -0.0], [0.0, 2.0]]);
//! ```
//!
//! # Seeing the derivative: the computation graph
//!
//! `#[derive_grad(graph)]` adds `f_graph(params…) -> grad::Graph`: the computation graph of
//! that call, built from the same DAG the macro differentiates — each value with the user's
//! name, its operation, its forward value and its adjoint; each edge with its local derivative
//! and the gradient it carries back, `[downstream] = [upstream] × [local]`. Only the branch
//! taken is in it; functions with loops or arrays are refused (a compile error) for now.
//! Print it for a table of both sweeps, or draw it with [`Graph::to_svg`] (laid out in pure
//! Rust) or [`Graph::to_dot`] (Graphviz).
//!
//! ```
//! # use grad::derive_grad;
//! #[derive_grad(graph)]
//! fn f(x: f64, y: f64, z: f64) -> f64 {
//!     let a = x + y;
//!     let b = y.max(z);
//!     a * b
//! }
//! let graph = f_graph(1.0, 2.0, 0.0);
//! let adjoints: Vec<f64> = graph.nodes().iter().map(|n| n.adjoint).collect();
//! assert_eq!(adjoints, [2.0, 5.0, 0.0, 2.0, 3.0, 1.0]); // x y z a b out
//! let svg = graph.to_svg(); // write it to a file and open it in a browser
//! # assert!(svg.contains("max"));
//! ```
//!
//! # Generic floats
//!
//! A function generic over its float type, `fn f<T: grad::Real>(…)`, is differentiated into
//! generic functions: one source serves `f64`, `f32`, and any type implementing [`Real`] —
//! dual numbers, for instance, which turn `f_grad` into a source of second derivatives.
//! Constants are written `T::from_f64(0.5)`, `T::from_i32(k)`, `T::zero()`, `T::one()`;
//! float methods work as on `f64`. Plain `f64`/`f32` functions keep emitting plain arithmetic.
//!
//! ```
//! # use grad::derive_grad;
//! use grad::Real;
//!
//! #[derive_grad]
//! fn cubic<T: Real>(x: T, y: T) -> T {
//!     T::from_f64(0.5) * x.powi(3) + x * y
//! }
//! assert_eq!(cubic_grad(2.0_f64, 1.0), (6.0, (7.0, 2.0)));
//! assert_eq!(cubic_grad(2.0_f32, 1.0), (6.0, (7.0, 2.0)));
//! ```
//!
//! # The differentiable subset
//!
//! Straight-line and branching scalar code: `let` (with or without a type), shadowing,
//! `let mut` with `=`, `+=`, `-=`, `*=`, `/=`, `%=`, `let (a, b) = (…, …)`, blocks, unary `-`, `+ - * / %`, literals,
//! `as` casts, constants such as `std::f64::consts::PI`, `if`/`else if`/`else` as a statement
//! or an expression on any condition (`&&`, `||`, `!` keep their short-circuit), `match` on
//! integers, `return` anywhere, arrays, slices and `Vec`s (indexing, writes to elements and
//! rows, copies with Rust's value semantics — `let prev = state;`, `*a`, `a.clone()` —
//! `.len()`, `[0.0; N]`, `vec![0.0; n]`, literals, arrays returned by calls), `for` over
//! ranges with bounds of any integer type and over arrays (`.rev()`, `.step_by(k)`,
//! `.iter()`, `.enumerate()`, `.zip(…)`), `while`, `loop` (left by `break` with a value, or
//! only by `return`), `continue`, labels, `iter().map(|v| …).sum()`, the `f64`/`f32` methods
//! `sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp exp2 exp_m1 ln log
//! log10 log2 ln_1p powi powf sqrt cbrt hypot abs signum max min clamp mul_add recip floor
//! ceil round trunc fract to_degrees to_radians` and their `f64::name(x)` forms, the
//! predicates `is_nan is_finite is_infinite is_normal is_subnormal is_sign_positive
//! is_sign_negative` in conditions, `f64::from`, calls, and `assert!`, `debug_assert!`,
//! `println!`, `eprintln!` statements.
//!
//! Anything else is a compile error at the offending expression that says what is supported
//! instead. A type error of your own that the macro is sure of (`f32 * f64`,
//! `x.powi(2.0)`) is left to rustc, which reports it once, at your line.
//!
//! # How far to trust it
//!
//! "Never silently wrong" is a claim the tests must back, so they do not trust the macro: every
//! numeric test compares with an independent oracle — dual numbers (`num-dual`), derivatives
//! derived by hand, or central differences of the function itself — and a differential
//! harness generates random programs in the subset (with the loop shapes of numeric code:
//! state read and then updated after its last use, coupled states, carried arrays, early
//! exits behind `&&`/`||` guards, nested loops) and checks each against dual numbers, and
//! ⟨∇f, t⟩ against the jvp. Known-wrong rules planted on purpose prove that the harness catches
//! such bugs. What is outside the subset is refused at compile time rather than guessed.
//!
//! # Kinks and edge cases
//!
//! | expression | derivative used |
//! |---|---|
//! | `a.max(b)`, `a.min(b)` | all to the operand whose value is returned; half each on a tie |
//! | `x.abs()` | `signum(x)` for x ≠ 0, **0** at x = 0 |
//! | `x.clamp(lo, hi)` | 1 for lo ≤ x ≤ hi, else 0; the bound that acts gets it |
//! | `floor ceil round trunc signum` | 0 |
//! | `x % y` | ∂x = 1, ∂y = −trunc(x / y) |
//! | `x.powi(n)` | `n · x^(n−1)`; exactly 0 when n = 0 |
//! | `x.powf(y)` | ∂x = `y · x^(y−1)`, and ∂x = 0 where y = 0 (x⁰ = 1 everywhere, also at x = 0); ∂y = `x^y · ln x`, and ∂y = 0 where x = 0 |
//! | `x.hypot(y)` | `x / hypot`, `y / hypot`; 0 at the origin |
//! | `y.atan2(x)` | `x / (x² + y²)`, `−y / (x² + y²)`; 0 at the origin |
//! | `x.sqrt()` at 0 | +∞ (the true one-sided derivative) |
//! | an infinite local derivative (`sqrt`, `cbrt` at 0; `asin`, `acos` at ±1; `acosh` at 1; `powf`'s base at 0) times a zero upstream — or the infinite derivative it makes times a zero local derivative further on (`abs` at 0, `hypot` at the origin, a factor that is 0: `√|x|`, `√(x·w)` at w = 0), in the same function or across a call of yours | 0, not `0 · ∞ = NaN` (a "strong zero": a value the result does not depend on, or another row of a Jacobian, cannot make the gradient NaN; `_grad` and `_jvp` agree, and agree with inlining the callee) |
//! | `if` / `match` | only the branch taken is differentiated: a `sqrt` or `ln` in the branch not taken never turns the gradient into NaN |
//! | an infinite value the result does not depend on: `let r = x / y;` before `if y != 0.0 { r } else { 0.0 }` at y = 0 | NaN in `_grad` (`∂r/∂x = 1/y = ∞` and `∂r/∂y = −∞` times the zero adjoint of the branch not taken: a division is not one of the singular ops above), as in PyTorch and JAX: write the division inside the branch. `_jvp` gives the branch's 0. The same holds for an infinite value in another output of a `_jacobian` row (its pullback gives that output a zero adjoint), and before an early `return` that does not use the value (in a loop or not) |
//! | `relu(x)` | 0 at x = 0 |
//! | dead code | a value that never reaches the result contributes nothing, even if it is NaN (a variable replaced by `=` before its next read included) — except a NaN or ∞ stored into an element of an array that is never read while other elements are: usefulness is tracked per array, so that element gets an adjoint of 0, and 0 · NaN is NaN |
//!
//! ```
//! # use grad::derive_grad;
//! #[derive_grad]
//! fn safe_sqrt(x: f64) -> f64 {
//!     if x > 0.0 { x.sqrt() } else { 0.0 }
//! }
//! assert_eq!(safe_sqrt_grad(0.0), (0.0, 0.0)); // not NaN: the sqrt branch did not run
//! ```
//!
//! # Reading the generated code
//!
//! `cargo expand` (or the golden files under `grad-macro/tests/expand/` in the repository)
//! shows the derivative. For `f` above, `f_grad` is:
//!
//! ```text
//! pub fn f_grad(x: f64, y: f64, z: f64) -> (f64, (f64, f64, f64)) {
//!     let a = x + y;                       // forward sweep, with your names
//!     let b = y.max(z);
//!     let out = a * b;
//!     let d_out = 1.0;                     // seed
//!     let d_a = d_out * b;                 // reverse sweep: d_in += d_out × local
//!     let d_b = d_out * a;
//!     let mut d_y = d_b * (if y == z { 0.5 } else if b == y { 1.0 } else { 0.0 });
//!     let d_z = d_b * (if y == z { 0.5 } else if b == z { 1.0 } else { 0.0 });
//!     let d_x = d_a;
//!     d_y += d_a;                          // y fans out: its gradients add up
//!     (out, (d_x, d_y, d_z))
//! }
//! ```
//!
//! Adjoints are named `d_<name>`, temporaries `t<N>`. A value computed inside a branch that
//! the reverse sweep needs is declared before the branch (`let mut t0 = 0.0;`) and assigned in
//! it; the reverse sweep replays the branch that was taken.
//!
//! # Checking gradients
//!
//! [`numeric_gradient`] and [`check_gradient`] compare against central differences:
//!
//! ```
//! # use grad::derive_grad;
//! # #[derive_grad]
//! # fn f(x: f64, y: f64, z: f64) -> f64 { (x + y) * y.max(z) }
//! let (_, (dx, dy, dz)) = f_grad(1.0, 2.0, 0.0);
//! let report = grad::check_gradient(|p| f(p[0], p[1], p[2]), &[1.0, 2.0, 0.0], &[dx, dy, dz], 1e-6);
//! assert!(report.is_ok());
//! ```

/// Differentiates a function: `#[derive_grad]`, with options `#[derive_grad(wrt(…), jvp,
/// hessian, graph, crate = …)]`.
///
/// Beside the function, unchanged, it writes (with the function's visibility):
///
/// | generated | when | what |
/// |---|---|---|
/// | `f_grad(params…) -> (F, gradient)` | a function returning a float | the value (bit for bit `f`'s) and the gradient of every float parameter (of `wrt`'s, with the option), bare for one, a tuple for several |
/// | `f_pullback(params…, d_out, d_p…)` | always | reverse mode: adds `d_out · ∂f/∂p` into the `&mut` buffer of every float parameter |
/// | `f_jacobian(params…) -> ([F; M], [[F; N]; M])` | a function returning `[F; M]` | the value and the Jacobian (rows: outputs; columns: the float inputs, flattened) |
/// | `f_jvp(params…, t_p…) -> (F, F)` | `jvp` | forward mode: the value and the derivative along the tangents `t_p` |
/// | `f_hessian(params…) -> (F, [F; N], [[F; N]; N])` | `hessian` | value, gradient, Hessian of a function of `N` scalar parameters |
/// | `f_graph(params…) -> Graph` | `graph` | the computation graph of the call, with values and adjoints |
///
/// Options:
///
/// * `wrt(x, w)`: `f_grad` returns (and `f_hessian`, `f_jacobian` differentiate) only these
///   parameters; the others are constants there. `f_pullback` still fills every float
///   buffer. A parameter of a type the macro cannot differentiate (a struct, a tuple) must be
///   left out this way.
/// * `jvp`, `hessian`, `graph`: the functions above.
/// * `crate = path`: where the `grad` crate is, when it is re-exported under another name.
///
/// ```
/// use grad::derive_grad;
///
/// #[derive_grad(wrt(x), jvp)]
/// fn scaled_square(x: f64, k: usize) -> f64 {
///     x * x * k as f64
/// }
/// assert_eq!(scaled_square_grad(3.0, 2), (18.0, 12.0));
/// assert_eq!(scaled_square_jvp(3.0, 2, 1.0), (18.0, 12.0));
///
/// #[derive_grad(hessian)]
/// fn product(x: f64, y: f64) -> f64 {
///     x * y
/// }
/// assert_eq!(product_hessian(2.0, 3.0), (6.0, [3.0, 2.0], [[0.0, 1.0], [1.0, 0.0]]));
///
/// mod reexported {
///     pub use grad as g;
/// }
/// #[derive_grad(crate = reexported::g)]
/// fn cube(x: f64) -> f64 {
///     x * x * x
/// }
/// assert_eq!(cube_grad(2.0), (8.0, 12.0));
/// ```
///
/// What is accepted, what is refused and what to write instead is in the crate
/// documentation: [the differentiable subset](crate#the-differentiable-subset). Everything
/// outside it is a compile error at the offending expression.
pub use grad_macro::derive_grad;
pub use grad_runtime::*;

// Every code block of the README compiles and runs as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
