//! Valid functions whose generated code once failed to compile (or was refused), each checked
//! against central differences now that it does. Named after what went wrong.

#![allow(clippy::explicit_iter_loop, clippy::needless_range_loop)]

use grad::derive_grad;

fn slope(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[derive_grad]
pub fn inner_loop_on_a_local_before_a_break_value(x: f64, n: usize) -> f64 {
    let mut k = 0;
    let r = loop {
        k += 1;
        let mut v = 0.5;
        for _ in 0..2 {
            v += x;
        }
        if k >= n || v > 1.8 {
            break v;
        }
    };
    r * x
}

#[test]
fn a_value_broken_out_of_a_loop_with_an_inner_loop_on_a_local() {
    for x in [0.3, 0.7] {
        let f = |x| inner_loop_on_a_local_before_a_break_value(x, 3);
        close(
            inner_loop_on_a_local_before_a_break_value_grad(x, 3).1,
            slope(f, x),
            "break value",
        );
    }
}

#[derive_grad]
pub fn first_element_times(a: &[f64], x: f64) -> f64 {
    a[0] * x
}

#[derive_grad]
pub fn local_vec_passed_after_an_early_return(x: f64, n: usize) -> f64 {
    let mut a = vec![0.0; 3];
    for i in 0..n {
        a[i % 3] += x;
        if a[0] > 5.0 {
            return x;
        }
    }
    first_element_times(&a, x)
}

#[test]
fn a_local_vec_passed_to_a_call_after_an_early_return() {
    for x in [0.3, 3.0] {
        let f = |x| local_vec_passed_after_an_early_return(x, 4);
        close(
            local_vec_passed_after_an_early_return_grad(x, 4).1,
            slope(f, x),
            "vec",
        );
    }
}

#[derive_grad]
pub fn return_in_the_first_of_two_loops(x: f64) -> f64 {
    let a = [x, 2.0 * x, 3.0];
    for &v in a.iter() {
        if v > 4.0 {
            return v;
        }
    }
    let mut s = 0.0;
    for &v in a.iter() {
        s += v * v;
    }
    s
}

#[test]
fn a_return_in_the_first_of_two_loops_over_a_local_array() {
    for x in [0.3, 3.0] {
        close(
            return_in_the_first_of_two_loops_grad(x).1,
            slope(return_in_the_first_of_two_loops, x),
            "two loops",
        );
    }
}

#[derive_grad]
pub fn passed_written_passed_again(x: f64) -> f64 {
    let mut a = [x, 1.0, 2.0];
    let p = first_element_times(&a, x);
    a[0] = p * 2.0;
    first_element_times(&a, x) + p
}

#[test]
fn a_local_array_passed_by_reference_then_written_then_passed_again() {
    close(
        passed_written_passed_again_grad(0.3).1,
        slope(passed_written_passed_again, 0.3),
        "borrow",
    );
}

#[derive_grad]
pub fn ends_in_a_loop_that_returns(x: f64) -> f64 {
    let mut v = x;
    loop {
        v *= 0.5;
        if v < 0.1 {
            return v * x;
        }
    }
}

#[test]
fn a_body_ending_in_a_loop_left_by_return() {
    close(
        ends_in_a_loop_that_returns_grad(3.0).1,
        slope(ends_in_a_loop_that_returns, 3.0),
        "loop return",
    );
}

#[derive_grad]
pub fn typed_constant_local(x: f64) -> f64 {
    let mid: f64 = 0.5;
    x * (mid * mid + 1.1).recip()
}

#[derive_grad]
pub fn path_form_on_constants(x: f64) -> f64 {
    x * f64::sin(0.47 + 0.3)
}

#[derive_grad]
pub fn path_form_over_an_untyped_array(x: f64) -> f64 {
    let a = [0.1, 0.2];
    let mut s = 0.0;
    for &v in a.iter() {
        s += f64::sin(v) * x;
    }
    s
}

#[test]
fn constants_of_no_written_type_get_one() {
    close(
        typed_constant_local_grad(0.3).1,
        slope(typed_constant_local, 0.3),
        "typed local",
    );
    close(
        path_form_on_constants_grad(0.3).1,
        slope(path_form_on_constants, 0.3),
        "path form",
    );
    close(
        path_form_over_an_untyped_array_grad(0.3).1,
        slope(path_form_over_an_untyped_array, 0.3),
        "array",
    );
}

#[derive_grad]
pub fn bound_of_type_i32(x: f64, y: i32) -> f64 {
    let mut s = 0.0;
    for i in 0..y {
        s += x * (i as f64);
        s = s.sin();
    }
    s
}

#[derive_grad]
pub fn bound_of_type_u8_from_one(x: f64, y: u8) -> f64 {
    let mut s = x;
    for _ in 1..=y {
        s = s.sin() * x;
    }
    s
}

#[derive_grad]
pub fn bounds_of_type_i64_nested(x: f64, m: i64, n: i64) -> f64 {
    let mut s = x;
    for i in 0..m {
        for _ in i..n {
            s = (s * x).sin();
        }
    }
    s
}

#[test]
fn loop_bounds_of_every_integer_type() {
    close(
        bound_of_type_i32_grad(0.3, 4).1,
        slope(|x| bound_of_type_i32(x, 4), 0.3),
        "i32",
    );
    close(
        bound_of_type_i32_grad(0.3, -2).1,
        slope(|x| bound_of_type_i32(x, -2), 0.3),
        "i32 negative",
    );
    close(
        bound_of_type_u8_from_one_grad(0.3, 3).1,
        slope(|x| bound_of_type_u8_from_one(x, 3), 0.3),
        "u8",
    );
    close(
        bounds_of_type_i64_nested_grad(0.3, 3, 4).1,
        slope(|x| bounds_of_type_i64_nested(x, 3, 4), 0.3),
        "i64",
    );
}

#[derive_grad]
pub fn rows_read_in_a_loop(x: f64, xs: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for row in xs {
        s += row[0] * x;
        s = s.sin();
    }
    s
}

#[test]
fn rows_of_a_slice_of_vecs_read_in_a_loop() {
    let xs = vec![vec![0.5, 1.0], vec![0.2]];
    close(
        rows_read_in_a_loop_grad(0.3, &xs).1.0,
        slope(|x| rows_read_in_a_loop(x, &xs), 0.3),
        "rows",
    );
}

#[derive_grad(wrt(x))]
pub fn slice_left_out_by_wrt(x: f64, w: &[f64]) -> f64 {
    first_element_times(w, x)
}

#[test]
fn a_slice_left_out_by_wrt_passed_to_a_callee() {
    let w = [0.5, 0.2];
    close(slice_left_out_by_wrt_grad(0.3, &w).1, 0.5, "wrt slice");
}

pub fn scaled_by_char(c: char, x: f64) -> f64 {
    if c == 'a' { x } else { 2.0 * x }
}
pub fn scaled_by_char_pullback(c: char, _x: f64, d: f64, dx: &mut f64) {
    *dx += if c == 'a' { d } else { 2.0 * d };
}
pub fn scaled_by_name(name: &str, x: f64) -> f64 {
    x * name.len() as f64
}
pub fn scaled_by_name_pullback(name: &str, _x: f64, d: f64, dx: &mut f64) {
    *dx += d * name.len() as f64;
}
pub fn scaled_by_option(k: Option<usize>, x: f64) -> f64 {
    x * k.unwrap_or(1) as f64
}
pub fn scaled_by_option_pullback(k: Option<usize>, _x: f64, d: f64, dx: &mut f64) {
    *dx += d * k.unwrap_or(1) as f64;
}

#[derive_grad]
pub fn callees_taking_a_char_a_str_and_none(x: f64) -> f64 {
    scaled_by_char('b', x) + scaled_by_name("abc", x) + scaled_by_option(None, x)
}

#[test]
fn arguments_that_are_never_floats_get_no_buffer() {
    assert_eq!(callees_taking_a_char_a_str_and_none_grad(0.5), (3.0, 6.0));
}

#[derive_grad]
pub fn empty_array_local(x: f64) -> f64 {
    let a: [f64; 0] = [];
    x * (a.len() as f64 + 1.0)
}

#[test]
fn an_empty_array_local() {
    assert_eq!(empty_array_local_grad(2.0), (2.0, 1.0));
}

#[derive_grad]
#[allow(unused_mut)]
pub fn array_declared_after_an_early_return(x: f64, n: usize) -> f64 {
    for i in 0..n {
        if x > 5.0 + i as f64 {
            return x;
        }
    }
    let mut a = [x, 0.5];
    let mut c = x;
    for _ in 0..3 {
        c = (if c > a[1] { c * x } else { c + a[0] }).sin();
    }
    c
}

/// Found by the loop-shape generator: the array lives in the arm after the early return,
/// which the reverse sweep replays as another block; reading it again there was an internal
/// error ("reads … before its declaration").
#[test]
fn an_array_declared_after_an_early_return_is_read_in_a_later_loop() {
    for x in [0.3, 7.0] {
        let f = |x| array_declared_after_an_early_return(x, 2);
        close(
            array_declared_after_an_early_return_grad(x, 2).1,
            slope(f, x),
            "arm array",
        );
    }
}

#[derive_grad]
pub fn row_read_after_an_early_return(x: f64, rs: &[Vec<f64>]) -> f64 {
    if x > 5.0 {
        return x;
    }
    let a = -rs[0][0] * x;
    let mut s = a;
    for _ in 0..2 {
        s = (s * rs[0][1]).sin();
    }
    s
}

/// Found by the long differential run (seed 83): a row of a `&[Vec<f64>]` read in the arm
/// after an early return and again in a later loop was kept from the arm in a variable
/// declared ahead of it, `Default::default()` of a `&Vec<f64>` (E0277).
#[test]
fn a_row_of_a_parameter_read_after_an_early_return_and_in_a_loop() {
    let rs = vec![vec![0.5, 1.2], vec![0.3]];
    let (value, (dx, drs)) = row_read_after_an_early_return_grad(0.7, &rs);
    assert_eq!(
        value.to_bits(),
        row_read_after_an_early_return(0.7, &rs).to_bits()
    );
    close(
        dx,
        slope(|x| row_read_after_an_early_return(x, &rs), 0.7),
        "∂x",
    );
    let at = |v: f64| row_read_after_an_early_return(0.7, &[vec![0.5, v], vec![0.3]]);
    close(drs[0][1], slope(at, 1.2), "∂rs");
}
