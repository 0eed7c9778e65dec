//! Graphviz text of a [`Graph`], in the lecture's style.

use super::{Graph, short};
use core::fmt::Write;

/// The colour of forward values.
pub(crate) const FORWARD: &str = "#1a7f37";
/// The colour of gradients.
pub(crate) const BACKWARD: &str = "#cf222e";

/// `"` and `\` escaped for a DOT string; `<`, `>`, `&` for an HTML-like label.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Graph {
    /// The graph as Graphviz DOT text, left to right: inputs on the left (each with its
    /// gradient), the output on the right, each edge labelled with the forward value flowing along it (above, green) and
    /// the gradient flowing back (below, red). Render it with `dot -Tsvg`.
    ///
    /// ```
    /// # use grad_runtime as grad;
    /// // What `f_graph(3.0, 4.0)` of `#[derive_grad(graph)] fn f(x, y) { x * y }` records.
    /// let mut graph = grad::Graph::new("f");
    /// graph.input(0, "x", 3.0);
    /// graph.input(1, "y", 4.0);
    /// graph.op(2, "*", None, 12.0, &[(0, 4.0), (1, 3.0)]);
    /// graph.finish(Some(2));
    /// let dot = graph.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// ```
    #[must_use]
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph \"{}\" {{", escape(&self.name));
        out.push_str("  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=11];\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let (label, shape) = if n.is_input() {
                let gradient = format!(
                    "<br/><font color=\"{BACKWARD}\">{}</font>",
                    short(n.adjoint)
                );
                (format!("{}{gradient}", escape(n.label())), "plaintext")
            } else {
                let name = n
                    .name
                    .as_deref()
                    .map(|s| format!("<br/><i>{}</i>", escape(s)))
                    .unwrap_or_default();
                (format!("{}{name}", escape(&n.op)), "circle")
            };
            let _ = writeln!(out, "  n{i} [label=<{label}>, shape={shape}];");
        }
        let label = |value: f64, gradient: f64| {
            format!(
                "<<font color=\"{FORWARD}\">{}</font><br/><font color=\"{BACKWARD}\">{}</font>>",
                short(value),
                short(gradient)
            )
        };
        for e in &self.edges {
            let value = self.nodes[e.from].value;
            let _ = writeln!(
                out,
                "  n{} -> n{} [label={}];",
                e.from,
                e.to,
                label(value, e.gradient)
            );
        }
        if let Some(o) = self.output {
            let n = &self.nodes[o];
            out.push_str("  output [shape=point];\n");
            let _ = writeln!(
                out,
                "  n{o} -> output [label={}];",
                label(n.value, n.adjoint)
            );
        }
        out.push_str("}\n");
        out
    }
}
