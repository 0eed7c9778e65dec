//! State carried from one loop iteration to the next, written the way numeric code is:
//! a variable read, then updated after its last use in the body (every Euler step and
//! recurrence), coupled states, accumulators initialised from constants, early exits behind
//! `&&`/`||` guards. Each against the dual-number oracle (`differentiate!`) or central
//! differences. Every function here once gave a wrong gradient, a panic, or code that did
//! not compile; each test is named after what went wrong.

#![allow(
    clippy::redundant_closure,
    clippy::ptr_arg,
    clippy::needless_range_loop,
    clippy::float_cmp
)]

use crate::differentiate;
use grad::derive_grad;

/// Checks a gradient of flattened parameters against central differences.
fn numeric(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    if let Err(mismatch) = grad::check_gradient(f, x, g, 1e-7) {
        panic!("{mismatch}");
    }
}

/// Like `differentiate!`, for bodies that start from float constants (`let mut s = 0.0;`),
/// which the dual twin cannot take: `_grad` against central differences of the function
/// itself, `_jvp` against ⟨∇f, t⟩, and both values bit for bit against the function.
macro_rules! against_differences {
    (
        fn $name:ident / $grad:ident / $jvp:ident ($($p:ident),+ $(; $($i:ident : $it:ty),+)?) $body:block
        at $([$($x:expr),+ $(; $($iv:expr),+)?]),+ $(,)?
    ) => {
        #[grad::derive_grad(jvp)]
        #[allow(clippy::all, unused_mut, unused_assignments)]
        fn $name($($p: f64),+ $(, $($i: $it),+)?) -> f64 $body

        mod $name {
            #![allow(clippy::all, unused_imports)]
            use crate::Components;

            fn check(point: &[f64] $(, $($i: $it),+)?) {
                let &[$($p),+] = point else { panic!("arity") };
                let (value, grad) = super::$grad($($p),+ $(, $($i),+)?);
                let plain = super::$name($($p),+ $(, $($i),+)?);
                assert_eq!(value.to_bits(), plain.to_bits(), "{}: value", stringify!($name));
                let g = grad.components();
                super::numeric(
                    |a| {
                        let &[$($p),+] = a else { panic!("arity") };
                        super::$name($($p),+ $(, $($i),+)?)
                    },
                    point,
                    &g,
                );
                let t: Vec<f64> = (0..point.len()).map(crate::dual::direction).collect();
                let mut tangent = t.iter().copied();
                let (v, d) = super::$jvp(
                    $($p,)+ $($($i,)+)?
                    $({ let _ = stringify!($p); tangent.next().expect("arity") }),+
                );
                assert_eq!(v.to_bits(), plain.to_bits(), "{}: jvp value", stringify!($name));
                let along: f64 = g.iter().zip(&t).map(|(a, b)| a * b).sum();
                crate::assert_close(&[d], &[along], 1e-12, &format!("{} jvp at {:?}", stringify!($name), point));
            }

            #[test]
            fn matches_central_differences_and_the_forward_mode() {
                $(check(&[$($x),+] $(, $($iv),+)?);)+
            }
        }
    };
}

// `v` is read, then updated after its last use: the update's adjoint comes from the next
// iteration's read, so it must exist before the reversed body starts.
against_differences! {
    fn updated_after_its_last_use / updated_after_its_last_use_grad / updated_after_its_last_use_jvp (a, h; n: usize) {
        let mut s = 0.0;
        let mut v = a;
        for _ in 0..n {
            s += v * v;
            v += h;
        }
        s
    }
    at [1.0, 0.5; 4], [0.3, -0.2; 7], [2.0, 1.5; 0], [2.0, 1.5; 1]
}

#[test]
fn euler_accumulation_matches_the_hand_derivative() {
    // s = Σ_{k<4} (a + k h)², ∂s/∂h = Σ 2k (a + k h) = 26 at (1, 0.5).
    assert_eq!(
        updated_after_its_last_use_grad(1.0, 0.5, 4),
        (13.5, (14.0, 26.0))
    );
}

against_differences! {
    fn multiplied_after_its_last_use / multiplied_after_its_last_use_grad / multiplied_after_its_last_use_jvp (a, h; n: usize) {
        let mut s = 0.0;
        let mut v = a;
        for _ in 0..n {
            s += v * v;
            v = v * h;
        }
        s
    }
    at [1.0, 0.5; 4], [-0.7, 1.1; 3]
}

against_differences! {
    fn updated_after_its_last_use_in_a_while / updated_after_its_last_use_in_a_while_grad / updated_after_its_last_use_in_a_while_jvp (a, h; n: usize) {
        let mut s = 0.0;
        let mut v = a;
        let mut k = 0;
        while k < n {
            s += v.sin();
            v += h * v;
            k += 1;
        }
        s
    }
    at [1.0, 0.5; 4], [0.2, -0.3; 2]
}

against_differences! {
    fn updated_after_its_last_use_in_a_loop / updated_after_its_last_use_in_a_loop_grad / updated_after_its_last_use_in_a_loop_jvp (a, h; n: usize) {
        let mut s = 0.0;
        let mut v = a;
        let mut k = 0;
        loop {
            if k == n {
                break;
            }
            s += v * h;
            v = v * v - h;
            k += 1;
        }
        s
    }
    at [0.5, 0.5; 3], [0.9, -0.3; 5]
}

// Two coupled states, each updated after the other reads it: a damped oscillator.
against_differences! {
    fn coupled_states_of_an_oscillator / coupled_states_of_an_oscillator_grad / coupled_states_of_an_oscillator_jvp (x0, k) {
        let mut x = x0;
        let mut vx = 1.0;
        let mut e = 0.0;
        for _ in 0..5 {
            e += x;
            x += vx;
            vx += -k * vx;
        }
        e
    }
    at [1.0, 0.3], [-0.5, 0.9]
}

// Updated after its last use, in an inner loop, carried through both levels.
against_differences! {
    fn carried_through_two_levels / carried_through_two_levels_grad / carried_through_two_levels_jvp (a, b) {
        let mut s = 0.0;
        let mut v = a;
        for i in 0..3 {
            for _ in 0..2 {
                s += v * b;
                v += b * (i as f64);
            }
            v = v * 0.5;
        }
        s
    }
    at [1.0, 0.5], [-0.3, 1.7]
}

// A value broken out of a `loop` whose `||` guard reads a variable, then added twice.
differentiate! {
    fn break_value_behind_an_or_guard / break_value_behind_an_or_guard_grad / break_value_behind_an_or_guard_jvp (x; n: usize) {
        let mut v = x;
        let mut k = 0;
        let t = loop {
            k += 1;
            if k >= n || v < 2.8 {
                break v + v;
            }
            v -= 1.0;
        };
        for _ in 0..2 {
            v += t;
        }
        v
    }
    at [1.5; 3], [4.0; 3], [4.0; 1]
}

// The right side of `&&` reads a variable that the rest of the iteration overwrites: the
// reverse sweep must replay the branch that ran, not re-evaluate the guard afterwards.
differentiate! {
    fn and_guard_on_a_carried_variable / and_guard_on_a_carried_variable_grad / and_guard_on_a_carried_variable_jvp (w0, mu) {
        let mut w = w0;
        for i in 0..3 {
            if i >= 1 && w >= 0.0 {
            } else {
                w += mu;
            }
            w = w * 0.5 + 1.0;
        }
        w
    }
    at [1.0, 0.3], [-3.0, 0.3], [-9.0, 0.5]
}

// The same, the guard outside any loop, the variable overwritten by a later loop.
against_differences! {
    fn or_guard_before_a_loop_that_overwrites / or_guard_before_a_loop_that_overwrites_grad / or_guard_before_a_loop_that_overwrites_jvp (x, y; n: usize) {
        let mut w = x;
        let mut s = 0.0;
        if n > 5 || w > 0.0 {
            s += y * x;
        }
        for _ in 0..3 {
            w -= 1.0;
        }
        s + w * y
    }
    at [0.5, 2.0; 1], [-0.5, 2.0; 1], [-0.5, 2.0; 7]
}

#[derive_grad]
pub fn early_return_behind_an_or_guard(b: f64, xs: &[f64]) -> f64 {
    let mut k = 0;
    while k < xs.len() {
        k += 1;
        if xs[k - 1] >= 0.6 || k == 4 {
            return b.tanh() * xs[k - 1];
        }
    }
    b
}

#[test]
fn an_early_return_behind_an_or_guard_pops_what_it_pushed() {
    for xs in [
        vec![0.1, 0.7, 0.2],
        vec![0.1, 0.2, 0.3, 0.4, 0.5],
        vec![0.1, 0.2],
        vec![],
    ] {
        let f = |p: &[f64]| early_return_behind_an_or_guard(p[0], &p[1..]);
        let (value, (db, dxs)) = early_return_behind_an_or_guard_grad(0.3, &xs);
        let mut point = vec![0.3];
        point.extend(&xs);
        assert_eq!(value.to_bits(), f(&point).to_bits());
        let mut g = vec![db];
        g.extend(&dxs);
        numeric(f, &point, &g);
    }
}

#[derive_grad]
pub fn early_return_behind_an_and_guard(u: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < 4 {
        if k > 1 && u[k] > 0.6 {
            return s;
        }
        s += u[k] * u[k];
        k += 1;
    }
    s
}

#[test]
fn an_and_guard_is_not_re_evaluated_past_the_end() {
    for u in [
        vec![0.1, 0.2, 0.3, 0.4],
        vec![0.1, 0.2, 0.7, 0.4, 0.1],
        vec![0.9; 4],
    ] {
        let (value, g) = early_return_behind_an_and_guard_grad(&u);
        assert_eq!(
            value.to_bits(),
            early_return_behind_an_and_guard(&u).to_bits()
        );
        numeric(|p| early_return_behind_an_and_guard(p), &u, &g);
    }
}

// The right side of `||` reads the loop's index: the reverse sweep reads its own.
against_differences! {
    fn or_guard_on_the_loop_index / or_guard_on_the_loop_index_grad / or_guard_on_the_loop_index_jvp (x, a) {
        let mut b = 0.0;
        for j in 0..2 {
            if x <= 0.1 || j == 3 {
                b += a * x;
            }
        }
        b
    }
    at [0.0, 0.3], [0.5, 0.3]
}

pub struct Offsets {
    pub b: f64,
    pub scale: f64,
}

// A `let mut` starting from a value whose type the macro cannot see (a field of a constant
// struct) and then accumulating floats is a float: its reads carry derivatives.
#[derive_grad(wrt(x))]
pub fn accumulator_from_a_field(p: &Offsets, x: f64) -> f64 {
    let mut s = p.b;
    for _ in 0..2 {
        s += x * p.scale;
    }
    s * s
}

#[test]
fn an_accumulator_initialised_from_a_field_carries_the_gradient() {
    let p = Offsets { b: 0.5, scale: 1.0 };
    // s = 0.5 + 2x, d(s²)/dx = 4s = 4.4 at x = 0.3.
    let (value, dx) = accumulator_from_a_field_grad(&p, 0.3);
    assert_eq!(value.to_bits(), accumulator_from_a_field(&p, 0.3).to_bits());
    assert!((dx - 4.4).abs() < 1e-12, "{dx}");
}

const START: f64 = 0.25;

against_differences! {
    fn recurrence_from_a_user_constant / recurrence_from_a_user_constant_grad / recurrence_from_a_user_constant_jvp (x) {
        let mut s = START;
        for _ in 0..3 {
            s = s * x + 1.0;
        }
        s
    }
    at [0.7], [-1.2]
}

#[derive_grad]
pub fn logistic_loss_over_rows(w: &[f64], xs: &[Vec<f64>], ys: &Vec<f64>) -> f64 {
    let mut loss = 0.0;
    for (row, &y) in xs.iter().zip(ys.iter()) {
        let mut z = 0.0;
        for j in 0..w.len() {
            z += w[j] * row[j];
        }
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
    }
    loss / xs.len() as f64
}

#[test]
fn rows_of_their_own_length_get_gradients_of_the_same_shape() {
    let w = vec![0.1, -0.2];
    let xs = vec![vec![1.0, 2.0], vec![-0.5, 0.3], vec![0.2, 0.2]];
    let ys = vec![1.0, 0.0, 1.0];
    let (value, (gw, gxs, gys)) = logistic_loss_over_rows_grad(&w, &xs, &ys);
    assert_eq!(
        value.to_bits(),
        logistic_loss_over_rows(&w, &xs, &ys).to_bits()
    );
    assert_eq!(gxs.len(), 3);
    let unflatten = |p: &[f64]| {
        let rows = vec![p[2..4].to_vec(), p[4..6].to_vec(), p[6..8].to_vec()];
        logistic_loss_over_rows(&p[0..2], &rows, &p[8..11].to_vec())
    };
    let mut point = w.clone();
    point.extend(xs.iter().flatten());
    point.extend(&ys);
    let mut g = gw.clone();
    g.extend(gxs.iter().flatten());
    g.extend(&gys);
    numeric(unflatten, &point, &g);
}

#[derive_grad]
pub fn offset_scaled(a: f64, b: f64) -> f64 {
    a * b + a
}

// Found by the long differential run (seed 6): a call on a variable that started from a
// constant struct's field was lowered while the variable's type was unknown, as a call on
// constants — its gradient silently dropped.
#[derive_grad(wrt(x))]
pub fn call_on_an_accumulator_from_a_field(p: &Offsets, x: f64) -> f64 {
    let mut s = p.b;
    for _ in 0..2 {
        s += x * p.scale;
    }
    offset_scaled(s, s) * x
}

#[test]
fn a_call_on_an_accumulator_initialised_from_a_field_is_differentiated() {
    let p = Offsets { b: 0.5, scale: 1.0 };
    let f = |x: f64| call_on_an_accumulator_from_a_field(&p, x);
    let (value, dx) = call_on_an_accumulator_from_a_field_grad(&p, 0.3);
    assert_eq!(value.to_bits(), f(0.3).to_bits());
    let h = 1e-6;
    let want = (f(0.3 + h) - f(0.3 - h)) / (2.0 * h);
    assert!((dx - want).abs() < 1e-6, "{dx} vs {want}");
}

// Found by the long differential run (seed 54 p975): a scratch accumulator reused for a
// second sum. Its first sum is overwritten, so nothing downstream needs it; it used to get
// an adjoint of 0 all the same, and where a dead term was infinite (√ at 0, here at
// x = xs[1]) 0 · ∞ made the gradient NaN.
against_differences! {
    fn accumulator_reused_after_a_dead_sum / accumulator_reused_after_a_dead_sum_grad / accumulator_reused_after_a_dead_sum_jvp (x) {
        let xs = [0.1, 0.5, 2.0];
        let mut s = 0.0;
        for i in 0..3 {
            s += x / (x - xs[i]).abs().sqrt();
        }
        s = 0.0;
        for i in 0..3 {
            s += x * xs[i];
        }
        s
    }
    at [0.5], [-1.0]
}

// Variables replaced whole (`=`, a `let` inside a loop), as numeric code writes them: the
// activity analysis ends a variable's facts at such a write, so each of these must still
// carry every dependence that crosses it. Written the natural way, checked against central
// differences and the forward mode.

// Gradient descent on a least-squares fit: the gradient accumulator is re-declared in every
// epoch, the weight replaced by its update.
against_differences! {
    fn gradient_descent_epochs / gradient_descent_epochs_grad / gradient_descent_epochs_jvp (w0, lr) {
        let xs = [0.5, 1.0, 1.5];
        let ys = [1.1, 1.9, 3.2];
        let mut w = w0;
        for _ in 0..4 {
            let mut g = 0.0;
            for i in 0..3 {
                g += 2.0 * (w * xs[i] - ys[i]) * xs[i];
            }
            w = w - lr * g;
        }
        w * w
    }
    at [0.3, 0.05], [1.2, 0.1]
}

// Velocity Verlet: the acceleration is replaced by the new one at the end of each step.
against_differences! {
    fn velocity_verlet_spring / velocity_verlet_spring_grad / velocity_verlet_spring_jvp (x0, k) {
        let dt = 0.1;
        let mut x = x0;
        let mut v = 0.0;
        let mut a = -k * x;
        for _ in 0..5 {
            x += v * dt + 0.5 * a * dt * dt;
            let a_new = -k * x;
            v += 0.5 * (a + a_new) * dt;
            a = a_new;
        }
        x + v
    }
    at [1.0, 2.0], [-0.4, 0.7]
}

// A scratch value overwritten in every iteration and once more after the loop.
against_differences! {
    fn scratch_overwritten_each_iteration / scratch_overwritten_each_iteration_grad / scratch_overwritten_each_iteration_jvp (x, y; n: usize) {
        let mut t = 0.0;
        let mut s = 0.0;
        for i in 0..n {
            t = x * (i as f64) + y;
            s += t * t;
        }
        t = y * y;
        s + t
    }
    at [0.5, -0.3; 3], [1.5, 0.2; 0]
}

// Replaced in one arm, updated in the other: after the branch it holds either.
against_differences! {
    fn replaced_in_one_arm / replaced_in_one_arm_grad / replaced_in_one_arm_jvp (x, y) {
        let mut v = x;
        for i in 0..5 {
            if i % 2 == 0 {
                v = x * v;
            } else {
                v += y;
            }
        }
        v
    }
    at [0.9, 0.4], [-1.1, 0.3]
}

// Reset to a constant, then accumulated: only the second sum counts.
against_differences! {
    fn reset_to_a_constant_then_accumulated / reset_to_a_constant_then_accumulated_grad / reset_to_a_constant_then_accumulated_jvp (x, y) {
        let mut s = x * x * y;
        s = 0.0;
        for _ in 0..3 {
            s += x * y;
        }
        s
    }
    at [0.7, 1.3], [-2.0, 0.5]
}

// Babylonian square root: the iterate replaced by a function of itself.
against_differences! {
    fn babylonian_square_root / babylonian_square_root_grad / babylonian_square_root_jvp (a) {
        let mut r = a;
        for _ in 0..6 {
            r = 0.5 * (r + a / r);
        }
        r
    }
    at [2.0], [0.7]
}

// A scalar Kalman filter: the gain is recomputed from the covariance, which is then replaced.
against_differences! {
    fn scalar_kalman_filter / scalar_kalman_filter_grad / scalar_kalman_filter_jvp (q, r) {
        let zs = [1.0, 1.4, 0.8, 1.2];
        let mut x = 0.0;
        let mut p = 1.0;
        let mut k = 0.0;
        for i in 0..4 {
            p = p + q;
            k = p / (p + r);
            x = x + k * (zs[i] - x);
            p = (1.0 - k) * p;
        }
        x + k
    }
    at [0.1, 0.5], [0.3, 0.05]
}

// A whole array replaced, then read.
against_differences! {
    fn whole_array_replaced / whole_array_replaced_grad / whole_array_replaced_jvp (x, y) {
        let mut buf = [x; 3];
        let first = buf[0] * buf[2];
        buf = [y, y * x, x];
        first + buf[0] * buf[1] + buf[2]
    }
    at [0.6, -1.2], [2.0, 0.3]
}

// An accumulator declared inside the outer loop, read by the next outer iteration's state.
against_differences! {
    fn inner_accumulator_feeds_outer_state / inner_accumulator_feeds_outer_state_grad / inner_accumulator_feeds_outer_state_jvp (x, y) {
        let mut state = x;
        for _ in 0..3 {
            let mut acc = 0.0;
            for j in 0..2 {
                acc += state * y + (j as f64);
            }
            state = acc.tanh();
        }
        state
    }
    at [0.5, 0.8], [-0.2, 1.4]
}
