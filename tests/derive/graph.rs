//! `#[derive_grad(graph)]`: the computation graph of one call, against the lecture's values,
//! `_grad` and dual numbers; its SVG parsed as XML; its DOT text against a snapshot
//! (`GRAD_SNAPSHOT=overwrite` refreshes it).

use crate::{D, assert_close};
use grad::{Real, derive_grad};

#[derive_grad(graph)]
pub fn seed(x: f64, y: f64, z: f64) -> f64 {
    let a = x + y;
    let b = y.max(z);
    a * b
}

#[test]
fn the_seed_graph_has_the_lectures_values() {
    let g = seed_graph(1.0, 2.0, 0.0);
    let value = |name: &str| g.node(name).map(|n| (n.value, n.adjoint));
    // Forward 3, 2, 6; backward 2, 5, 0 at the inputs and 1 at the output.
    assert_eq!(value("a"), Some((3.0, 2.0)));
    assert_eq!(value("b"), Some((2.0, 3.0)));
    assert_eq!(
        g.output().map(|n| (n.op.as_str(), n.value, n.adjoint)),
        Some(("*", 6.0, 1.0))
    );
    assert_eq!(value("x"), Some((1.0, 2.0)));
    assert_eq!(value("y"), Some((2.0, 5.0)));
    assert_eq!(value("z"), Some((0.0, 0.0)));
    // Every edge carries [upstream] × [local].
    for e in g.edges() {
        assert_eq!(e.gradient, g.nodes()[e.to].adjoint * e.local);
    }
    assert_eq!(g.edges().len(), 6);
}

#[test]
fn the_svg_is_well_formed_and_labels_every_node() {
    let g = seed_graph(1.0, 2.0, 0.0);
    let svg = g.to_svg();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for label in ["x", "y", "z", "+", "a", "max", "b", "*", "6", "5"] {
        assert!(texts.contains(&label), "{label} missing from {texts:?}");
    }
    assert_eq!(doc.root_element().tag_name().name(), "svg");
}

#[test]
fn the_dot_text_matches_its_snapshot() {
    let dot = seed_graph(1.0, 2.0, 0.0).to_dot();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/derive/snapshots/seed.dot"
    );
    if std::env::var_os("GRAD_SNAPSHOT").is_some_and(|v| v == "overwrite") {
        std::fs::write(path, &dot).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(path).expect("snapshot exists");
    assert_eq!(dot, expected);
}

#[test]
fn the_table_shows_both_sweeps() {
    let text = seed_graph(1.0, 2.0, 0.0).to_string();
    for row in [
        "computation graph of `seed`",
        "a            +",
        "← output",
        "y ← b",
    ] {
        assert!(text.contains(row), "{row} missing from\n{text}");
    }
}

#[derive_grad(graph)]
pub fn branchy(x: f64, y: f64) -> f64 {
    let r = if x > y { (x * y).sin() } else { x.exp() };
    let s = helper(r, y);
    r * grad::sigmoid(x) + s
}

#[derive_grad]
pub fn helper(a: f64, b: f64) -> f64 {
    a * b.tanh()
}

#[test]
fn only_the_branch_taken_is_drawn_and_inputs_get_the_gradient() {
    for (x, y) in [(1.2, 0.5), (0.2, 0.5)] {
        let g = branchy_graph(x, y);
        let (value, (dx, dy)) = branchy_grad(x, y);
        assert_eq!(g.output().map(|n| n.value), Some(value));
        let taken = if x > y { "sin" } else { "exp" };
        let other = if x > y { "exp" } else { "sin" };
        assert!(g.nodes().iter().any(|n| n.op == taken));
        assert!(!g.nodes().iter().any(|n| n.op == other));
        assert!(
            g.nodes()
                .iter()
                .any(|n| n.op == "helper" && n.name.as_deref() == Some("s"))
        );
        let adjoint = |name: &str| g.node(name).map_or(f64::NAN, |n| n.adjoint);
        // An independent oracle: the function on dual numbers.
        let dual = |a: f64, b: f64| {
            let (x, y) = (D::new(x, a), D::new(y, b));
            let r = if x > y { (x * y).sin() } else { x.exp() };
            (r * grad::sigmoid(x) + r * y.tanh()).eps()
        };
        assert_close(
            &[adjoint("x"), adjoint("y")],
            &[dual(1.0, 0.0), dual(0.0, 1.0)],
            1e-12,
            "graph",
        );
        assert_close(
            &[adjoint("x"), adjoint("y")],
            &[dx, dy],
            1e-12,
            "graph vs _grad",
        );
    }
}

#[derive_grad(graph)]
pub fn generic<T: Real>(x: T, y: T) -> T {
    (x * y + T::one()).ln()
}

#[test]
fn generic_and_single_precision_functions_draw_too() {
    let g = generic_graph(2.0_f32, 3.0_f32);
    // The graph's backward sweep runs in f64 over the f32 locals.
    let dx = g.node("x").map_or(f64::NAN, |n| n.adjoint);
    assert!((dx - 3.0 / 7.0).abs() < 1e-6, "{dx}");
    let g = generic_graph(2.0_f64, 3.0_f64);
    assert_eq!(g.output().map(|n| n.op.as_str()), Some("ln"));
}
