//! Large functions for measuring the macro's cost as functions grow: straight-line code of a
//! given number of operations, and loop-heavy code with the same number of operations spread
//! over loops (see `campaign scale`).

use crate::program::Rng;
use std::fmt::Write;

/// How many inputs a generated function takes.
const INPUTS: usize = 8;

/// A function of `ops` binary operations and methods, each on two earlier values (mostly
/// recent ones, so that chains grow as deep as the function is long).
#[must_use]
pub fn straight_line(name: &str, ops: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let params: Vec<String> = (0..INPUTS).map(|i| format!("x{i}: f64")).collect();
    let mut out = format!("pub fn {name}({}) -> f64 {{\n", params.join(", "));
    let mut values: Vec<String> = (0..INPUTS).map(|i| format!("x{i}")).collect();
    for k in 0..ops {
        let a = pick(&mut r, &values);
        let b = pick(&mut r, &values);
        let _ = writeln!(out, "    let v{k} = {};", operation(&mut r, &a, &b));
        values.push(format!("v{k}"));
    }
    let _ = writeln!(
        out,
        "    {}\n}}",
        values.last().map_or("x0", String::as_str)
    );
    out
}

/// A function of about `ops` operations in loops of 10 operations each over array
/// elements, accumulating into one sum (the shape of an objective over data).
#[must_use]
pub fn loop_heavy(name: &str, ops: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut out = format!("pub fn {name}(x: &[f64], w: &[f64]) -> f64 {{\n    let mut s = 0.0;\n");
    for l in 0..ops.div_ceil(10) {
        let _ = writeln!(out, "    for i in 0..x.len() {{");
        let mut values = vec!["x[i]".to_owned(), "w[i]".to_owned(), "s".to_owned()];
        for k in 0..9 {
            let a = pick(&mut r, &values);
            let b = pick(&mut r, &values);
            let _ = writeln!(out, "        let a{l}_{k} = {};", operation(&mut r, &a, &b));
            values.push(format!("a{l}_{k}"));
        }
        let _ = writeln!(out, "        s += a{l}_8 * 0.5;\n    }}");
    }
    out.push_str("    s\n}\n");
    out
}

fn pick(r: &mut Rng, values: &[String]) -> String {
    let recent = values.len().min(12);
    let i = if r.chance(0.8) {
        values.len() - 1 - r.below(recent)
    } else {
        r.below(values.len())
    };
    values[i].clone()
}

fn operation(r: &mut Rng, a: &str, b: &str) -> String {
    match r.below(8) {
        0 => format!("{a} + {b}"),
        1 => format!("{a} - {b}"),
        2 | 3 => format!("{a} * {b}"),
        4 => format!("{a} / (1.0 + {b} * {b})"),
        5 => format!("{a}.sin() * {b}"),
        6 => format!("({a} * 0.1).exp() + {b}"),
        _ => format!("{a}.max({b})"),
    }
}
