//! Every construct of the stage-1 subset, against the dual-number oracle.

use crate::differentiate;

differentiate! {
    fn seed / seed_grad / seed_jvp (x, y, z) {
        let a = x + y;
        let b = y.max(z);
        a * b
    }
    at [1.0, 2.0, 0.0], [-1.5, 0.25, 3.0], [4.0, -2.0, -7.5]
}

differentiate! {
    fn shadowing / shadowing_grad / shadowing_jvp (x, y) {
        let a = x * y;
        let a = a.sin() + x;
        let x = a * a - y;
        x / (1.0 + y * y)
    }
    at [0.3, 1.7], [-2.0, 0.5], [5.0, -3.0]
}

differentiate! {
    fn mutation / mutation_grad / mutation_jvp (x, y) {
        let mut v = x;
        v += y;
        v *= x;
        v -= y / x;
        v /= 2.0 + y * y;
        v = v * v - x;
        v
    }
    at [0.3, 1.7], [-2.0, 0.5], [5.0, -3.0]
}

differentiate! {
    fn tuple_lets / tuple_lets_grad / tuple_lets_jvp (x, y) {
        let (a, mut b) = (x * y, x + y);
        b *= a;
        // Both sides are read before either name is bound: a swap.
        let (a, b) = (b, a);
        let (_, c) = ((a - b).exp(), a.sin());
        a / b + c
    }
    at [0.3, 1.7], [-2.0, 0.5], [5.0, -3.0]
}

differentiate! {
    fn deferred_init / deferred_init_grad / deferred_init_jvp (x, y) {
        let r;
        if x > y {
            r = x * y;
        } else {
            r = x - y;
        }
        r * x
    }
    at [2.0, 1.0], [1.0, 2.0], [-3.0, -4.0]
}

differentiate! {
    fn blocks / blocks_grad / blocks_jvp (x, y) {
        let b = {
            let t = x * y;
            t + x
        };
        let c = { b.exp() };
        (b * c) / (1.0 + y.abs())
    }
    at [0.3, 1.7], [-2.0, 0.5], [1.0, -3.0]
}

differentiate! {
    fn arithmetic / arithmetic_grad / arithmetic_jvp (x, y) {
        -(x % y) + x * y - x / y + -x
    }
    at [7.5, 2.0], [-7.5, 2.0], [3.3, -1.1], [0.4, 0.3]
}

differentiate! {
    fn constants_and_casts / constants_and_casts_grad / constants_and_casts_jvp (x, y; n: i32, k: usize) {
        let scale = (n as f64) * std::f64::consts::PI + (k as f64) / 3.0;
        x * scale + f64::EPSILON * y + core::f64::consts::E.ln() * y
    }
    at [1.0, 2.0; 3, 4], [-0.5, 0.25; -2, 0]
}

differentiate! {
    fn if_statement / if_statement_grad / if_statement_jvp (x, y) {
        let mut r = x;
        if x > y {
            r = x * y;
        } else if x < 0.0 {
            r = -x * y.cos();
        } else {
            r += y.sin();
        }
        r * 2.0
    }
    at [3.0, 1.0], [-1.0, 2.0], [0.5, 2.0]
}

differentiate! {
    fn if_expression / if_expression_grad / if_expression_jvp (x, y) {
        let r = if x * y > 1.0 {
            let t = x.ln();
            t * y
        } else if x < -1.0 {
            y.exp()
        } else {
            x * x + y
        };
        r + if y > 0.0 { y } else { -y }
    }
    at [3.0, 1.0], [-2.0, 2.0], [0.5, -0.5], [0.5, 0.5]
}

differentiate! {
    fn logic / logic_grad / logic_jvp (x, y) {
        if x > 0.0 && (y < 1.0 || !(x > y)) {
            x * y
        } else {
            x + y
        }
    }
    at [1.0, 0.5], [1.0, 3.0], [2.0, 1.5], [-1.0, 0.5]
}

differentiate! {
    fn matching / matching_grad / matching_jvp (x; n: i32) {
        match n {
            0 => x,
            1 | 2 => x * x,
            k @ 3..=5 => x.powi(k) / (k as f64),
            -1 => -x,
            _ => x.sin(),
        }
    }
    at [1.5; 0], [1.5; 1], [1.5; 2], [-0.5; 4], [2.0; -1], [2.0; 9]
}

differentiate! {
    fn match_statement / match_statement_grad / match_statement_jvp (x, y; n: u8) {
        let mut acc = x;
        match n {
            0 => acc *= y,
            1 => {
                acc += y * y;
            }
            _ => {}
        }
        acc * x
    }
    at [1.5, 2.0; 0], [1.5, 2.0; 1], [1.5, 2.0; 7]
}

differentiate! {
    fn early_return / early_return_grad / early_return_jvp (x, y) {
        if x < 0.0 {
            return y * y;
        }
        let s = x.sqrt();
        if s > 2.0 {
            return s * y;
        }
        s + y
    }
    at [-1.0, 3.0], [9.0, 3.0], [1.0, 3.0]
}

differentiate! {
    fn return_in_nested_branches / return_in_nested_branches_grad / return_in_nested_branches_jvp (x, y) {
        let mut a = x * y;
        if x > 0.0 {
            if y > 0.0 {
                return a.exp();
            }
            a += 1.0;
        }
        a * a
    }
    at [1.0, 0.5], [1.0, -0.5], [-1.0, 0.5]
}

differentiate! {
    fn return_in_expression / return_in_expression_grad / return_in_expression_jvp (x, y) {
        let t = if x > y { return x - y } else { y * 2.0 };
        let u = match (t > 3.0) as i32 {
            1 => return t * x,
            _ => t + x,
        };
        u * u
    }
    at [2.0, 1.0], [1.0, 2.0], [0.5, 1.0]
}

differentiate! {
    fn inactive_parameters / inactive_parameters_grad / inactive_parameters_jvp (x, y; n: i32, flag: bool, count: usize) {
        let mut v = x * (n as f64);
        if flag {
            v += y;
        }
        v * (count as f64 + y)
    }
    at [1.0, 2.0; 3, true, 2], [1.0, 2.0; -1, false, 0]
}

differentiate! {
    fn integer_arithmetic / integer_arithmetic_grad / integer_arithmetic_jvp (x; n: i64) {
        let m = (n * 3 + 1) % 7;
        let k = if m > 2 { m - 2 } else { m << 1 };
        x.powi(k as i32) + (k as f64) * x
    }
    at [1.5; 0], [1.5; 2], [-0.7; 5]
}

differentiate! {
    fn dead_code_is_ignored / dead_code_is_ignored_grad / dead_code_is_ignored_jvp (x) {
        let unused = (2.0 * x).acos();
        let _also_unused = unused.ln();
        x * x
    }
    at [3.0], [-2.0]
}

differentiate! {
    fn fan_out / fan_out_grad / fan_out_jvp (x) {
        let a = x.sin();
        let b = a * a + a.exp() * x;
        b * a - a / (1.0 + b * b)
    }
    at [0.3], [-1.2], [2.5]
}

differentiate! {
    fn statement_macros / statement_macros_grad / statement_macros_jvp (x, y) {
        let r = x * y;
        assert!(r.is_finite(), "r = {r}");
        debug_assert!(x.is_finite());
        let r = r + 1.0;
        assert_eq!(r.is_nan(), y.is_nan());
        r.sin()
    }
    at [0.5, 2.0], [-1.0, 3.0]
}

#[test]
fn the_seed_gives_the_lectures_numbers() {
    assert_eq!(seed_grad(1.0, 2.0, 0.0), (6.0, (2.0, 5.0, 0.0)));
}

#[test]
fn an_untaken_branch_never_leaks_nan() {
    #[grad::derive_grad]
    fn safe_sqrt(x: f64) -> f64 {
        if x > 0.0 { x.sqrt() } else { 0.0 }
    }
    assert_eq!(safe_sqrt_grad(0.0), (0.0, 0.0));
    assert_eq!(safe_sqrt_grad(-4.0), (0.0, 0.0));
    assert_eq!(safe_sqrt_grad(4.0), (2.0, 0.25));
}

/// Regression: raw identifiers (`r#type`) made the macro panic while naming values.
#[grad::derive_grad]
fn r#match(r#type: f64, r#loop: f64) -> f64 {
    let r#fn = r#type * r#loop;
    r#fn.sin()
}

#[test]
fn raw_identifiers_are_names_like_any_other() {
    let (v, (d_type, d_loop)) = match_grad(0.5, 2.0);
    assert_eq!(v.to_bits(), r#match(0.5, 2.0).to_bits());
    assert_eq!((d_type, d_loop), (2.0 * 1f64.cos(), 0.5 * 1f64.cos()));
}

// Regression (found by the differential fuzzer): folding `−(−v)` to `v` in derivative code
// reached through a value of an arm to one the reverse sweep had not made available there.
differentiate! {
    fn negated_twice_in_an_arm / negated_twice_in_an_arm_grad / negated_twice_in_an_arm_jvp (x, y) {
        if x > 0.79 {
            return y * y;
        }
        let v = x.tanh();
        (-v).atan2(y) * (-v).atan2(y) + v
    }
    at [0.3, 0.7], [0.9, 0.2], [-0.5, -1.1]
}

// Regression (found by the differential fuzzer): the reverse sweep replayed `if v < m` by
// reading `m` again after the branch had changed it, and took the other arm — a silently
// wrong gradient. The condition's operands are now read once.
differentiate! {
    fn branch_on_a_variable_the_branch_changes / branch_on_a_variable_the_branch_changes_grad / branch_on_a_variable_the_branch_changes_jvp (x, y; n: usize) {
        let v = x.tanh();
        let mut m = x.sin();
        if v < m {
            for _ in 0..n {
                m += 0.5;
            }
        } else {
            m -= m - y.cos();
        }
        (m / (x * x + 0.5)).tanh() * x
    }
    at [0.4, 0.3; 3], [-0.6, 0.3; 4], [1.1, -0.7; 2]
}
