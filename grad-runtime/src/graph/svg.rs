//! An SVG picture of a [`Graph`], laid out in pure Rust.
//!
//! The layout (ranks, crossing reduction, coordinates, edge routes) is `layout-rs`'s: a
//! Sugiyama-style layered layout with no dependencies and a left-to-right mode, so the picture
//! needs no Graphviz installation. It places the nodes and each edge label (a connector on
//! the edge); drawing is ours, so that each label can show the forward value above the edge
//! and the gradient below it, in two colours, as the lecture draws them.

use super::dot::{BACKWARD, FORWARD};
use super::{Graph, short};
use core::fmt::Write;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

/// Font size of node labels.
const NODE_FONT: usize = 15;
/// Font size of edge labels: how the backend tells them from node labels.
const EDGE_FONT: usize = 13;
/// Font size of inputs, whose second line is their gradient.
const INPUT_FONT: usize = 16;

impl Graph {
    /// The graph as an SVG picture, laid out left to right: inputs on the left (each with its
    /// gradient under its name), the output on the right, operations in circles, each edge
    /// labelled with the forward value flowing along it (above, green) and the gradient
    /// flowing back (below, red).
    ///
    /// ```
    /// # use grad_runtime as grad;
    /// // What `f_graph(3.0, 4.0)` of `#[derive_grad(graph)] fn f(x, y) { x * y }` records.
    /// let mut graph = grad::Graph::new("f");
    /// graph.input(0, "x", 3.0);
    /// graph.input(1, "y", 4.0);
    /// graph.op(2, "*", None, 12.0, &[(0, 4.0), (1, 3.0)]);
    /// graph.finish(Some(2));
    /// let svg = graph.to_svg();
    /// assert!(svg.contains("<svg") && svg.contains('*'));
    /// ```
    #[must_use]
    pub fn to_svg(&self) -> String {
        let mut vg = VisualGraph::new(Orientation::LeftToRight);
        let node_look = StyleAttr::new(
            Color::fast("black"),
            2,
            Some(Color::fast("white")),
            0,
            NODE_FONT,
        );
        let input_look = StyleAttr::new(
            Color::transparent(),
            0,
            Some(Color::transparent()),
            0,
            INPUT_FONT,
        );
        let handles: Vec<_> = self
            .nodes
            .iter()
            .map(|n| {
                let (shape, look) = if n.is_input() {
                    let label = format!("{}\n{}", n.label(), short(n.adjoint));
                    (ShapeKind::new_box(&label), input_look.clone())
                } else {
                    let label = match &n.name {
                        Some(name) => format!("{}\n{name}", n.op),
                        None => n.op.clone(),
                    };
                    (ShapeKind::new_circle(&label), node_look.clone())
                };
                let size = Point::new(52.0, 52.0);
                vg.add_node(Element::create(shape, look, Orientation::LeftToRight, size))
            })
            .collect();
        let edge_look = StyleAttr::new(Color::fast("black"), 1, None, 0, EDGE_FONT);
        let arrow = |value: f64, gradient: f64| {
            Arrow::new(
                LineEndKind::None,
                LineEndKind::Arrow,
                LineStyleKind::Normal,
                &format!("{}\n{}", short(value), short(gradient)),
                &edge_look,
                &None,
                &None,
            )
        };
        for e in &self.edges {
            let a = arrow(self.nodes[e.from].value, e.gradient);
            vg.add_edge(a, handles[e.from], handles[e.to]);
        }
        if let Some(o) = self.output {
            let sink = Element::create(
                ShapeKind::new_box("out"),
                input_look,
                Orientation::LeftToRight,
                Point::new(30.0, 30.0),
            );
            let sink = vg.add_node(sink);
            let n = &self.nodes[o];
            vg.add_edge(arrow(n.value, n.adjoint), handles[o], sink);
        }
        let mut picture = Picture::default();
        vg.do_it(false, false, false, &mut picture);
        picture.finish(&self.name)
    }
}

/// A `layout-rs` backend that writes SVG elements.
#[derive(Default)]
struct Picture {
    body: String,
    width: f64,
    height: f64,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn color(look: &StyleAttr) -> String {
    look.line_color.to_web_color()
}

fn fill(look: &StyleAttr) -> String {
    look.fill_color
        .unwrap_or_else(Color::transparent)
        .to_web_color()
}

impl Picture {
    fn grow(&mut self, p: Point) {
        self.width = self.width.max(p.x + 10.0);
        self.height = self.height.max(p.y + 10.0);
    }

    fn text(&mut self, x: f64, y: f64, size: usize, color: &str, text: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" fill=\"{color}\" \
             text-anchor=\"middle\" dominant-baseline=\"middle\">{}</text>",
            escape(text)
        );
        self.grow(Point::new(x + 4.0 * text.len() as f64, y + size as f64));
    }

    fn finish(self, title: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
             viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica, Arial, sans-serif\">\n\
             <title>computation graph of {title}</title>\n\
             <defs><marker id=\"head\" markerWidth=\"10\" markerHeight=\"7\" refX=\"10\" \
             refY=\"3.5\" orient=\"auto\"><polygon points=\"0 0, 10 3.5, 0 7\" /></marker></defs>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\" />\n{body}</svg>\n",
            w = self.width,
            h = self.height,
            title = escape(title),
            body = self.body
        )
    }
}

impl RenderBackend for Picture {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        _properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{}\" \
             fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\" />",
            xy.x,
            xy.y,
            size.x,
            size.y,
            look.rounded,
            fill(look),
            color(look),
            look.line_width
        );
        self.grow(xy.add(size));
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        look: &StyleAttr,
        _properties: Option<String>,
    ) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" \
             stroke-width=\"{}\" />",
            start.x,
            start.y,
            stop.x,
            stop.y,
            color(look),
            look.line_width
        );
        self.grow(start);
        self.grow(stop);
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        _properties: Option<String>,
    ) {
        let _ = writeln!(
            self.body,
            "<ellipse cx=\"{:.1}\" cy=\"{:.1}\" rx=\"{:.1}\" ry=\"{:.1}\" fill=\"{}\" \
             stroke=\"{}\" stroke-width=\"{}\" />",
            xy.x,
            xy.y,
            size.x / 2.0,
            size.y / 2.0,
            fill(look),
            color(look),
            look.line_width
        );
        self.grow(xy.add(size.scale(0.5)));
    }

    /// Node labels centred, one line under the other; an edge label's first line (the
    /// forward value) above the edge in green, its second (the gradient) below it in red; an
    /// input's gradient under its name in red.
    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        let lines: Vec<&str> = text.lines().collect();
        if look.font_size == EDGE_FONT && lines.len() == 2 {
            let gap = look.font_size as f64 * 0.9;
            self.text(xy.x, xy.y - gap, look.font_size, FORWARD, lines[0]);
            self.text(xy.x, xy.y + gap, look.font_size, BACKWARD, lines[1]);
            return;
        }
        if look.font_size == INPUT_FONT && lines.len() == 2 {
            let gap = look.font_size as f64 * 0.6;
            self.text(xy.x, xy.y - gap, look.font_size, "black", lines[0]);
            self.text(xy.x, xy.y + gap, look.font_size - 3, BACKWARD, lines[1]);
            return;
        }
        let step = look.font_size as f64 * 1.1;
        let top = xy.y - step * (lines.len() as f64 - 1.0) / 2.0;
        for (i, line) in lines.iter().enumerate() {
            let (size, style) = if i == 0 {
                (look.font_size, "black")
            } else {
                (look.font_size - 3, "#555555")
            };
            self.text(xy.x, top + step * i as f64, size, style, line);
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        head: (bool, bool),
        look: &StyleAttr,
        _properties: Option<String>,
        _text: &str,
    ) {
        let (Some(first), Some(second)) = (path.first(), path.get(1)) else {
            return;
        };
        let mut d = format!(
            "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            first.0.x,
            first.0.y,
            first.1.x,
            first.1.y,
            second.0.x,
            second.0.y,
            second.1.x,
            second.1.y
        );
        for p in &path[2..] {
            let _ = write!(d, " S {:.1} {:.1}, {:.1} {:.1}", p.0.x, p.0.y, p.1.x, p.1.y);
        }
        for p in path {
            self.grow(p.0);
            self.grow(p.1);
        }
        let dash = if dashed {
            " stroke-dasharray=\"5,5\""
        } else {
            ""
        };
        let end = if head.1 {
            " marker-end=\"url(#head)\""
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{dash}{end} />",
            color(look),
            look.line_width
        );
    }

    fn create_clip(&mut self, _xy: Point, _size: Point, _rounded_px: usize) -> ClipHandle {
        0
    }
}
