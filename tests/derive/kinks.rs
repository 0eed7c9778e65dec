//! The kink conventions of API.md, one test per row, against hand-derived values.

use grad::derive_grad;

#[derive_grad(jvp)]
fn max_of(a: f64, b: f64) -> f64 {
    a.max(b)
}

#[derive_grad(jvp)]
fn min_of(a: f64, b: f64) -> f64 {
    a.min(b)
}

#[test]
fn max_and_min_give_all_to_the_returned_operand_and_half_each_on_a_tie() {
    assert_eq!(max_of_grad(3.0, 1.0), (3.0, (1.0, 0.0)));
    assert_eq!(max_of_grad(1.0, 3.0), (3.0, (0.0, 1.0)));
    assert_eq!(max_of_grad(2.0, 2.0), (2.0, (0.5, 0.5)));
    assert_eq!(min_of_grad(3.0, 1.0), (1.0, (0.0, 1.0)));
    assert_eq!(min_of_grad(2.0, 2.0), (2.0, (0.5, 0.5)));
    // NaN is ignored by `max`: the other operand is returned and gets the gradient.
    assert_eq!(max_of_grad(f64::NAN, 1.0), (1.0, (0.0, 1.0)));
    assert_eq!(min_of_grad(4.0, f64::NAN), (4.0, (1.0, 0.0)));
}

#[derive_grad(jvp)]
fn abs_of(x: f64) -> f64 {
    x.abs()
}

#[test]
fn abs_has_derivative_signum_away_from_zero_and_zero_at_zero() {
    assert_eq!(abs_of_grad(-2.0), (2.0, -1.0));
    assert_eq!(abs_of_grad(3.0), (3.0, 1.0));
    assert_eq!(abs_of_grad(0.0), (0.0, 0.0));
    assert_eq!(abs_of_grad(-0.0).1, 0.0);
}

#[derive_grad(jvp)]
fn clamped(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi)
}

#[test]
fn clamp_passes_the_gradient_inside_and_to_the_acting_bound_outside() {
    assert_eq!(clamped_grad(0.5, 0.0, 1.0), (0.5, (1.0, 0.0, 0.0)));
    assert_eq!(clamped_grad(0.0, 0.0, 1.0), (0.0, (1.0, 0.0, 0.0)));
    assert_eq!(clamped_grad(1.0, 0.0, 1.0), (1.0, (1.0, 0.0, 0.0)));
    assert_eq!(clamped_grad(-3.0, 0.0, 1.0), (0.0, (0.0, 1.0, 0.0)));
    assert_eq!(clamped_grad(7.0, 0.0, 1.0), (1.0, (0.0, 0.0, 1.0)));
}

#[derive_grad(jvp)]
fn steps(x: f64) -> f64 {
    x.floor() + x.ceil() + x.round() + x.trunc() + x.signum()
}

#[test]
fn floor_ceil_round_trunc_and_signum_have_zero_derivative() {
    for x in [-2.5, -0.5, 0.0, 0.3, 1.0, 7.9] {
        assert_eq!(steps_grad(x).1, 0.0);
    }
}

#[derive_grad(jvp)]
fn remainder(x: f64, y: f64) -> f64 {
    x % y
}

#[test]
fn rem_has_partials_one_and_minus_trunc_of_the_quotient() {
    assert_eq!(remainder_grad(7.5, 2.0), (1.5, (1.0, -3.0)));
    assert_eq!(remainder_grad(-7.5, 2.0), (-1.5, (1.0, 3.0)));
    assert_eq!(remainder_grad(1.0, 4.0), (1.0, (1.0, -0.0)));
}

#[derive_grad(jvp)]
fn integer_power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

#[test]
fn powi_is_n_x_to_the_n_minus_one_and_exactly_zero_for_n_zero() {
    assert_eq!(integer_power_grad(2.0, 3), (8.0, 12.0));
    assert_eq!(integer_power_grad(2.0, -1), (0.5, -0.25));
    assert_eq!(integer_power_grad(0.0, 0), (1.0, 0.0));
    assert_eq!(integer_power_grad(f64::INFINITY, 0), (1.0, 0.0));
    assert_eq!(integer_power_grad(0.0, 1), (0.0, 1.0));
}

#[derive_grad(jvp)]
fn real_power(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[test]
fn powf_has_the_textbook_partials_and_no_base_log_at_zero() {
    let (v, (dx, dy)) = real_power_grad(2.0, 3.0);
    assert_eq!(v, 8.0);
    assert_eq!(dx, 12.0);
    assert!((dy - 8.0 * 2f64.ln()).abs() < 1e-14);
    // 0^y: ∂y would be 0 · ln 0 = NaN; the convention is 0.
    assert_eq!(real_power_grad(0.0, 2.0), (0.0, (0.0, 0.0)));
}

/// Regression: `x.powf(0.0)` is 1 for every x, so ∂x is 0 — at x = 0 too, where the textbook
/// `y · x^(y−1)` is `0 · ∞ = NaN`. Forward mode follows the same rule.
#[test]
fn powf_with_a_zero_exponent_is_flat_in_the_base_at_zero() {
    assert_eq!(real_power_grad(0.0, 0.0), (1.0, (0.0, 0.0)));
    assert_eq!(real_power_grad(3.0, 0.0), (1.0, (0.0, 3f64.ln())));
    assert_eq!(real_power_jvp(0.0, 0.0, 1.0, 0.0), (1.0, 0.0));
    // y = 1 at x = 0: the slope is 1 (0⁰ = 1), not NaN.
    assert_eq!(real_power_grad(0.0, 1.0).1.0, 1.0);
}

#[derive_grad(jvp)]
fn root(x: f64) -> f64 {
    x.sqrt()
}

#[test]
fn sqrt_at_zero_has_infinite_slope() {
    assert_eq!(root_grad(0.0), (0.0, f64::INFINITY));
    assert_eq!(root_grad(4.0), (2.0, 0.25));
}

#[derive_grad(jvp)]
fn guarded_log(x: f64) -> f64 {
    if x > 0.0 { x.ln() } else { 2.0 * x }
}

#[derive_grad(jvp)]
fn guarded_by_match(x: f64, n: i32) -> f64 {
    match n {
        0 => x.sqrt(),
        _ => x.acos(),
    }
}

#[test]
fn only_the_taken_branch_is_differentiated() {
    assert_eq!(guarded_log_grad(0.0), (0.0, 2.0));
    assert_eq!(guarded_log_grad(-1.0), (-2.0, 2.0));
    assert_eq!(guarded_log_grad(2.0).1, 0.5);
    let (_, d) = guarded_by_match_grad(4.0, 0);
    assert_eq!(d, 0.25);
    let (_, d) = guarded_by_match_grad(0.5, 1);
    assert!((d + 1.0 / 0.75f64.sqrt()).abs() < 1e-15);
}

#[derive_grad(jvp)]
fn rectified(x: f64) -> f64 {
    grad::relu(x) * 3.0
}

#[test]
fn relu_has_zero_derivative_at_zero() {
    assert_eq!(rectified_grad(0.0), (0.0, 0.0));
    assert_eq!(rectified_grad(2.0), (6.0, 3.0));
    assert_eq!(rectified_grad(-2.0), (0.0, 0.0));
}

#[derive_grad(jvp)]
#[allow(unused_variables)]
fn with_dead_nan(x: f64) -> f64 {
    let never_used = (2.0_f64).acos();
    let also_dead = (x * 5.0).acos() + never_used;
    x * x
}

#[test]
fn dead_code_contributes_nothing_even_when_it_is_nan() {
    assert_eq!(with_dead_nan_grad(3.0), (9.0, 6.0));
}

#[derive_grad(wrt(x))]
fn weighted(x: f64, w: f64) -> f64 {
    x * x * w
}

#[test]
fn wrt_restricts_grad_only_and_the_pullback_fills_every_buffer() {
    assert_eq!(weighted_grad(3.0, 2.0), (18.0, 12.0));
    let (mut dx, mut dw) = (0.0, 0.0);
    weighted_pullback(3.0, 2.0, 1.0, &mut dx, &mut dw);
    assert_eq!((dx, dw), (12.0, 9.0));
}

/// `atan2` at the origin, where it has no derivative: 0, as `hypot` (found by the
/// differential fuzzer as a NaN that forward mode spread through a zero tangent).
#[derive_grad(jvp)]
fn angle(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[test]
fn atan2_at_the_origin_has_derivative_zero() {
    assert_eq!(angle_grad(0.0, 0.0).1, (0.0, 0.0));
    assert_eq!(angle_jvp(0.0, 0.0, 1.0, 0.0).1, 0.0);
    let (_, (dy, dx)) = angle_grad(1.0, 1.0);
    assert_eq!((dy, dx), (0.5, -0.5));
}

/// `atan2` next to the origin and far from it, where `x² + y²` underflows to 0 or overflows
/// (found by the differential fuzzer as a gradient of 0 at (1e-300, -1e-300)).
#[test]
fn atan2_near_the_origin_and_far_from_it_keeps_its_derivative() {
    // ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²).
    let (_, (dy, dx)) = angle_grad(1e-300, -1e-300);
    assert!((dy / -5e299 - 1.0).abs() < 1e-12, "{dy}");
    assert!((dx / -5e299 - 1.0).abs() < 1e-12, "{dx}");
    let (_, (dy, dx)) = angle_grad(1e200, 1e200);
    assert!((dy / 5e-201 - 1.0).abs() < 1e-12, "{dy}");
    assert!((dx / -5e-201 - 1.0).abs() < 1e-12, "{dx}");
    assert!((angle_jvp(1e-300, -1e-300, 1.0, 0.0).1 / -5e299 - 1.0).abs() < 1e-12);
}

/// A value at two operand positions has its local partials summed before the upstream
/// multiplies them (found by the differential fuzzer: the partials of `x.atan2(x)`, ±5e299 at
/// 1e-300, swamped the adjoint's other contribution and the gradient came out 0, not 1).
#[derive_grad]
fn constant_angle_plus_x(x: f64) -> f64 {
    x.atan2(x) + x
}

#[test]
fn partials_of_a_repeated_operand_cancel_before_they_accumulate() {
    for x in [1e-300, -1e-300, 1e-10, 3.0] {
        assert_eq!(constant_angle_plus_x_grad(x).1, 1.0, "at {x}");
    }
}

/// The whole table in forward mode: `_jvp` along each parameter gives exactly the partials
/// `_grad` gives, kinks included, so both modes follow one convention.
#[test]
fn forward_mode_follows_the_same_conventions() {
    let two = |g: (f64, f64), jvp: &dyn Fn(f64, f64) -> f64| {
        assert_eq!((jvp(1.0, 0.0), jvp(0.0, 1.0)), g);
    };
    for (a, b) in [(3.0, 1.0), (1.0, 3.0), (2.0, 2.0), (f64::NAN, 1.0)] {
        two(max_of_grad(a, b).1, &|s, t| max_of_jvp(a, b, s, t).1);
        two(min_of_grad(a, b).1, &|s, t| min_of_jvp(a, b, s, t).1);
    }
    for x in [-2.0, 0.0, -0.0, 3.0] {
        assert_eq!(abs_of_jvp(x, 1.0).1, abs_of_grad(x).1);
        assert_eq!(steps_jvp(x, 1.0).1, 0.0);
        assert_eq!(rectified_jvp(x, 1.0).1, rectified_grad(x).1);
        assert_eq!(guarded_log_jvp(x, 1.0).1, guarded_log_grad(x).1);
    }
    for x in [-3.0, 0.0, 0.5, 1.0, 7.0] {
        let g = clamped_grad(x, 0.0, 1.0).1;
        let jvp = |d: [f64; 3]| clamped_jvp(x, 0.0, 1.0, d[0], d[1], d[2]).1;
        assert_eq!(
            (
                jvp([1.0, 0.0, 0.0]),
                jvp([0.0, 1.0, 0.0]),
                jvp([0.0, 0.0, 1.0])
            ),
            g
        );
    }
    two(remainder_grad(7.5, 2.0).1, &|s, t| {
        remainder_jvp(7.5, 2.0, s, t).1
    });
    for (x, n) in [(2.0, 3), (0.0, 0), (f64::INFINITY, 0)] {
        assert_eq!(integer_power_jvp(x, n, 1.0).1, integer_power_grad(x, n).1);
    }
    two(real_power_grad(0.0, 2.0).1, &|s, t| {
        real_power_jvp(0.0, 2.0, s, t).1
    });
    assert_eq!(root_jvp(0.0, 1.0).1, f64::INFINITY);
    assert_eq!(with_dead_nan_jvp(3.0, 1.0).1, 6.0);
    two(angle_grad(0.0, 0.0).1, &|s, t| angle_jvp(0.0, 0.0, s, t).1);
}

#[derive_grad(jvp, hessian)]
#[allow(clippy::if_not_else, reason = "the guard reads as written")]
fn safe_ratio(x: f64, y: f64) -> f64 {
    if y != 0.0 {
        x / y + (x * y).ln()
    } else {
        x * x
    }
}

/// NaN hygiene at special inputs: a division, `ln` and `sqrt` in the branch not taken never
/// leak, in any mode; a singular derivative behind a zero upstream contributes zero.
#[test]
fn special_inputs_never_leak_nan_from_untaken_branches() {
    for y in [0.0, -0.0] {
        assert_eq!(safe_ratio_grad(1.5, y).1, (3.0, 0.0));
        assert_eq!(safe_ratio_jvp(1.5, y, 1.0, 1.0).1, 3.0);
        assert_eq!(safe_ratio_hessian(1.5, y).2, [[2.0, 0.0], [0.0, 0.0]]);
    }
    assert_eq!(guarded_log_grad(-0.0), (-0.0, 2.0));
    assert_eq!(guarded_log_grad(1e-300).1, 1.0 / 1e-300);
    // √ at 0 scaled by a zero: 0, not 0 · ∞.
    assert_eq!(zero_times_root_grad(0.0), (0.0, 1.0));
}

#[derive_grad]
fn zero_times_root(x: f64) -> f64 {
    0.0 * x.sqrt() + x
}

/// `∛` at 0 (infinite slope) under kinks whose convention is a zero derivative.
#[derive_grad(jvp)]
fn root_under_kinks(x: f64) -> f64 {
    (-x).cbrt().hypot(x) + x.cbrt().abs() + x
}

/// Forward mode's strong zero, the mirror of reverse mode's: a zero partial times an infinite
/// tangent contributes 0 (found by the differential fuzzer as a `jvp` of NaN at −0 where
/// `_grad` and the dual oracle gave finite values).
#[test]
fn a_zero_partial_annihilates_an_infinite_tangent() {
    for x in [0.0, -0.0] {
        assert_eq!(root_under_kinks_grad(x).1, 1.0, "at {x}");
        assert_eq!(root_under_kinks_jvp(x, 1.0).1, 1.0, "at {x}");
        assert_eq!(root_under_kinks_jvp(x, -0.5).1, -0.5, "at {x}");
    }
    let x: f64 = 0.125;
    let slope = 1.0 / (3.0 * 0.25);
    // hypot(∛-x, x): (∛-x · d∛-x + x) / h, with ∛-x = -0.5 and d∛-x = -slope.
    let expected = (0.5 * slope + x) / x.hypot(0.5) + slope + 1.0;
    assert!((root_under_kinks_jvp(x, 1.0).1 - expected).abs() < 1e-14);
    assert!((root_under_kinks_grad(x).1 - expected).abs() < 1e-14);
}

#[derive_grad(jvp)]
fn root_of_a_zero_product(x: f64) -> f64 {
    (0.0 * x).sqrt() + x
}

/// An infinite derivative reached through a zero one: 0 in both modes (it was NaN in
/// `_grad`, documented as reverse mode's limit, until reverse mode got forward mode's second
/// strong zero).
#[test]
fn an_infinite_derivative_behind_a_zero_one_is_zero_in_both_modes() {
    assert_eq!(root_of_a_zero_product_grad(2.0).1, 1.0);
    assert_eq!(root_of_a_zero_product_jvp(2.0, 1.0).1, 1.0);
}

// Strong zeros: a zero partial (a kink's convention, or a factor that is 0) times an infinite
// derivative gives 0 in every mode and across calls, as dual numbers written out by hand
// (and forward mode) give. Each was NaN in `_grad` or in `_jvp` (found by the long
// differential run: an infinite tangent from `cbrt` at 0 passed to a helper with `abs`).

#[derive_grad(jvp)]
fn root_of_abs(x: f64, w: f64) -> f64 {
    x.abs().sqrt() + w
}

#[derive_grad(jvp)]
fn root_of_product(x: f64, w: f64) -> f64 {
    (x * w).sqrt()
}

#[derive_grad(jvp)]
fn abs_of_cbrt(x: f64) -> f64 {
    x.cbrt().abs()
}

#[derive_grad(jvp)]
fn absolute(x: f64) -> f64 {
    x.abs() * 2.0
}

#[derive_grad(jvp)]
fn absolute_of_cbrt(x: f64, w: f64) -> f64 {
    absolute(x.cbrt()) + w
}

#[derive_grad(jvp)]
fn root_of_absolute(x: f64, w: f64) -> f64 {
    absolute(x).sqrt() + w
}

#[derive_grad(jvp)]
fn larger_times_size(a: &[f64], s: f64) -> f64 {
    a[0].max(a[1]) * s.abs()
}

#[derive_grad(jvp)]
fn through_an_array(x: f64, w: &[f64]) -> f64 {
    let a = [x.cbrt(), w[0]];
    larger_times_size(&a, x.cbrt())
}

#[derive_grad(jvp)]
fn pair(x: f64) -> [f64; 2] {
    [x.abs(), x * 3.0]
}

#[derive_grad(jvp)]
fn root_of_pair(x: f64) -> f64 {
    let p = pair(x);
    p[0].sqrt() + p[1]
}

#[test]
fn a_zero_partial_times_an_infinite_derivative_is_zero_in_every_mode() {
    // √|x| at 0: |x|′ = 0 by convention, so the path through it contributes 0.
    assert_eq!(root_of_abs_grad(0.0, 1.0), (1.0, (0.0, 1.0)));
    assert_eq!(root_of_abs_jvp(0.0, 1.0, 1.0, 1.0), (1.0, 1.0));
    // √(x w) at w = 0: f(x, 0) = 0 for every x, so ∂x = 0; ∂w = x / (2√(x w)) = +∞.
    assert_eq!(root_of_product_grad(1.0, 0.0).1, (0.0, f64::INFINITY));
    assert_eq!(root_of_product_jvp(1.0, 0.0, 1.0, 0.0).1, 0.0);
    // |∛x| at 0: the infinite tangent of ∛ meets |·|′ = 0.
    assert_eq!(abs_of_cbrt_grad(0.0), (0.0, 0.0));
    assert_eq!(abs_of_cbrt_jvp(0.0, 1.0), (0.0, 0.0));
    // The same across a call, both ways round, with arrays and a vector output.
    assert_eq!(absolute_of_cbrt_grad(0.0, 1.0), (1.0, (0.0, 1.0)));
    assert_eq!(absolute_of_cbrt_jvp(0.0, 1.0, 1.0, 1.0), (1.0, 1.0));
    assert_eq!(root_of_absolute_grad(0.0, 1.0), (1.0, (0.0, 1.0)));
    assert_eq!(root_of_absolute_jvp(0.0, 1.0, 1.0, 1.0), (1.0, 1.0));
    assert_eq!(through_an_array_grad(0.0, &[1.0]), (0.0, (0.0, vec![0.0])));
    assert_eq!(through_an_array_jvp(0.0, &[1.0], 1.0, &[1.0]), (0.0, 0.0));
    assert_eq!(root_of_pair_grad(0.0), (0.0, 3.0));
    assert_eq!(root_of_pair_jvp(0.0, 1.0), (0.0, 3.0));
    // Away from the kinks nothing changes: d/dx √|x| at 4 is 1/4; a genuinely infinite
    // derivative stays infinite, with its sign.
    assert_eq!(root_of_abs_grad(4.0, 0.0).1, (0.25, 1.0));
    let slope = root_of_absolute_grad(-4.0, 0.0).1.0; // d √(2|x|) = -1 / √8 at -4
    assert!((slope + 1.0 / 8f64.sqrt()).abs() < 1e-15);
    assert_eq!(absolute_of_cbrt_jvp(0.0, 1.0, -1.0, 0.0).1, 0.0);
}

#[test]
fn an_infinite_seed_or_tangent_is_split_by_linearity() {
    // The pullback of ∞: ∞ times the pullback of 1, where that is not 0.
    let (mut dx, mut dw) = (0.0, 0.0);
    root_of_abs_pullback(4.0, 1.0, f64::INFINITY, &mut dx, &mut dw);
    assert_eq!((dx, dw), (f64::INFINITY, f64::INFINITY));
    let (mut dx, mut dw) = (0.0, 0.0);
    root_of_abs_pullback(0.0, 1.0, f64::NEG_INFINITY, &mut dx, &mut dw);
    assert_eq!((dx, dw), (0.0, f64::NEG_INFINITY));
    // A vector seed: the finite part as usual, plus ∞ times the direction's pullback.
    let mut dx = 0.0;
    pair_pullback(-2.0, [1.0, f64::INFINITY], &mut dx);
    assert_eq!(dx, f64::INFINITY);
    let mut dx = 0.0;
    pair_pullback(0.0, [f64::INFINITY, 1.0], &mut dx);
    assert_eq!(dx, 3.0);
    // A jvp with one infinite tangent and one finite.
    assert_eq!(root_of_abs_jvp(0.0, 1.0, f64::INFINITY, 2.0), (1.0, 2.0));
    assert_eq!(pair_jvp(0.0, f64::INFINITY).1, [0.0, f64::INFINITY]);
    // NaN is not split: it stays NaN.
    assert!(root_of_abs_jvp(4.0, 1.0, f64::NAN, 0.0).1.is_nan());
}

#[derive_grad(jvp)]
#[allow(clippy::if_not_else, reason = "the guard reads as written")]
fn ratio_before_its_guard(x: f64, y: f64) -> f64 {
    let r = x / y;
    if y != 0.0 { r } else { 0.0 }
}

/// The documented case that stays NaN in `_grad`: a division (not a singular op) made before
/// the guard that discards it. `_jvp` and the fix the docs give (dividing in the branch) are 0.
#[test]
fn a_division_before_its_guard_is_nan_in_grad_only() {
    let (_, (dx, dy)) = ratio_before_its_guard_grad(1.0, 0.0);
    assert!(dx.is_nan() && dy.is_nan());
    assert_eq!(ratio_before_its_guard_jvp(1.0, 0.0, 1.0, 1.0).1, 0.0);
}
