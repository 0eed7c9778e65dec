//! The worked example of backpropagation from Stanford's CS224N, lecture 4 ("Backpropagation
//! and computation graphs"), computed by `#[derive_grad]`.
//!
//! f(x, y, z) = (x + y) · max(y, z) at (x, y, z) = (1, 2, 0):
//!
//! * forward: q = x + y = 3, m = max(y, z) = 2, f = q · m = 6;
//! * backward: every gate multiplies the gradient arriving from above (upstream) by its own
//!   local gradient to get the gradient it sends down each input edge (downstream); where a
//!   value fans out (y feeds both `+` and `max`), the downstream gradients add up;
//! * result: ∂f/∂(x, y, z) = (2, 5, 0).
//!
//! Each gate is its own `#[derive_grad]` function, so its local gradients come from the macro
//! too. Then the whole function's generated `f_grad` gives the same answer in one call, and
//! central differences (h = 1e-4) confirm it. Two more examples follow: the lecture's sigmoid
//! neuron, and its one-hidden-layer score s = u · tanh(W x + b) written with arrays and loops,
//! whose gradient is δ = u ∘ tanh′(z), ∂W = δ xᵀ, ∂b = δ, ∂x = Wᵀ δ, ∂u = tanh(z).
//!
//! It also draws the lecture's picture of the graph from the same function, `f_graph`: forward
//! values above the edges, gradients below, written to `target/backprop.svg` or to the path
//! given as the first argument (and printed as a table).
//!
//! Run with `cargo run --release --example backprop [PICTURE.svg]`.

use grad::derive_grad;

/// The `+` gate.
#[derive_grad]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// The `max` gate.
#[derive_grad]
fn max(a: f64, b: f64) -> f64 {
    a.max(b)
}

/// The `*` gate.
#[derive_grad]
fn mul(a: f64, b: f64) -> f64 {
    a * b
}

/// The whole function; `graph` also generates `f_graph`, its computation graph for one call.
#[derive_grad(graph)]
fn f(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    let m = y.max(z);
    q * m
}

/// The lecture's one-hidden-layer score: s = u · tanh(W x + b), W 8×10.
#[derive_grad]
fn score(w: &[[f64; 10]; 8], x: &[f64; 10], b: &[f64; 8], u: &[f64; 8]) -> f64 {
    let mut s = 0.0;
    for i in 0..8 {
        let mut z = b[i];
        for j in 0..10 {
            z += w[i][j] * x[j];
        }
        s += u[i] * z.tanh();
    }
    s
}

/// The lecture's neuron: σ(w0·x0 + w1·x1 + w2).
#[derive_grad]
fn neuron(w0: f64, w1: f64, w2: f64, x0: f64, x1: f64) -> f64 {
    let dot = w0 * x0 + w1 * x1 + w2;
    1.0 / (1.0 + (-dot).exp())
}

fn edge(from: &str, to: &str, upstream: f64, local: f64) -> f64 {
    let downstream = upstream * local;
    println!(
        "  {from:>2} <- {to:<5} upstream {upstream:>5}  ×  local {local:>5}  =  downstream {downstream:>5}"
    );
    downstream
}

fn main() {
    let (x, y, z) = (1.0, 2.0, 0.0);
    println!("f(x, y, z) = (x + y) · max(y, z) at (x, y, z) = ({x}, {y}, {z})\n");

    println!("forward pass: each node's value");
    let q = add(x, y);
    let m = max(y, z);
    let out = mul(q, m);
    println!("  q = x + y      = {q}");
    println!("  m = max(y, z)  = {m}");
    println!("  f = q · m      = {out}\n");

    println!("backward pass: [downstream] = [upstream] × [local]");
    let d_f = 1.0;
    let (_, (local_q, local_m)) = mul_grad(q, m);
    let d_q = edge("q", "*", d_f, local_q);
    let d_m = edge("m", "*", d_f, local_m);
    let (_, (local_y_max, local_z)) = max_grad(y, z);
    let d_y_from_max = edge("y", "max", d_m, local_y_max);
    let d_z = edge("z", "max", d_m, local_z);
    let (_, (local_x, local_y_add)) = add_grad(x, y);
    let d_x = edge("x", "+", d_q, local_x);
    let d_y_from_add = edge("y", "+", d_q, local_y_add);
    let d_y = d_y_from_add + d_y_from_max;
    println!("  y fans out to + and max: ∂f/∂y = {d_y_from_add} + {d_y_from_max} = {d_y}\n");

    let (value, gradient) = f_grad(x, y, z);
    println!("f_grad(1, 2, 0) = ({value}, {gradient:?})");
    assert_eq!(
        gradient,
        (d_x, d_y, d_z),
        "the generated backward pass is the hand one"
    );
    assert_eq!(gradient, (2.0, 5.0, 0.0));

    let graph = f_graph(x, y, z);
    print!("{graph}");
    // Under `target/` (where cargo put this example), or where the first argument says.
    let path = std::env::args_os().nth(1).map_or_else(
        || {
            let exe = std::env::current_exe().unwrap_or_default();
            let target = exe
                .ancestors()
                .find(|dir| dir.file_name().is_some_and(|n| n == "target"))
                .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
            target.join("backprop.svg")
        },
        std::path::PathBuf::from,
    );
    match std::fs::write(&path, graph.to_svg()) {
        Ok(()) => println!("the picture of this graph is in {}\n", path.display()),
        Err(e) => println!("could not write {}: {e}\n", path.display()),
    }

    let numeric = grad::numeric_gradient(|p| f(p[0], p[1], p[2]), &[x, y, z], 1e-4);
    println!("central differences (h = 1e-4): {numeric:?}");
    let report = grad::check_gradient(
        |p| f(p[0], p[1], p[2]),
        &[x, y, z],
        &[gradient.0, gradient.1, gradient.2],
        1e-6,
    );
    match report {
        Ok(check) => println!("gradient check passed:\n{check}\n"),
        Err(mismatch) => panic!("{mismatch}"),
    }

    let (w, inputs) = ([2.0, -3.0, -3.0], [-1.0, -2.0]);
    let (value, (d_w0, d_w1, d_w2, d_x0, d_x1)) =
        neuron_grad(w[0], w[1], w[2], inputs[0], inputs[1]);
    println!("neuron σ(w0·x0 + w1·x1 + w2) at w = {w:?}, x = {inputs:?}: {value:.4}");
    println!("  ∂/∂w = [{d_w0:.2}, {d_w1:.2}, {d_w2:.2}],  ∂/∂x = [{d_x0:.2}, {d_x1:.2}]");
    let point = [w[0], w[1], w[2], inputs[0], inputs[1]];
    let check = grad::check_gradient(
        |p| neuron(p[0], p[1], p[2], p[3], p[4]),
        &point,
        &[d_w0, d_w1, d_w2, d_x0, d_x1],
        1e-6,
    )
    .unwrap_or_else(|mismatch| panic!("{mismatch}"));
    println!(
        "gradient check passed (max abs error {:.1e})\n",
        check.max_abs_error()
    );

    hidden_layer();
}

/// The score's gradient, its shapes, and the one δ behind ∂W, ∂b and ∂x.
fn hidden_layer() {
    let w: [[f64; 10]; 8] =
        std::array::from_fn(|i| std::array::from_fn(|j| ((i * 10 + j) as f64 * 0.37).sin() * 0.5));
    let x: [f64; 10] = std::array::from_fn(|j| (j as f64 * 0.7).cos());
    let b: [f64; 8] = std::array::from_fn(|i| 0.1 * i as f64 - 0.3);
    let u: [f64; 8] = std::array::from_fn(|i| if i % 2 == 0 { 1.0 } else { -0.5 });
    let (s, (dw, dx, db, du)) = score_grad(&w, &x, &b, &u);
    println!("score s = u · tanh(W x + b) = {s:.6}");
    println!(
        "  shapes: ∂s/∂W {}×{}, ∂s/∂x {}, ∂s/∂b {}, ∂s/∂u {} (each the shape of its parameter)",
        dw.len(),
        dw[0].len(),
        dx.len(),
        db.len(),
        du.len()
    );
    // δ = ∂s/∂z is computed once per hidden unit; it is ∂s/∂b, and ∂s/∂W is its outer product
    // with x: the reverse sweep reuses one δ for three gradients.
    let delta = db;
    let outer_product = (0..8).all(|i| (0..10).all(|j| dw[i][j] == delta[i] * x[j]));
    println!("  δ = ∂s/∂b = {:.4?} …", &delta[..4]);
    println!("  ∂s/∂W == δ xᵀ exactly: {outer_product}");
    assert!(outer_product);
    let wt_delta: Vec<f64> = (0..10)
        .map(|j| (0..8).map(|i| w[i][j] * delta[i]).sum())
        .collect();
    let max_diff = dx
        .iter()
        .zip(&wt_delta)
        .map(|(a, c)| (a - c).abs())
        .fold(0.0, f64::max);
    println!("  ∂s/∂x == Wᵀ δ: max difference {max_diff:.1e}");
    assert!(max_diff < 1e-14);
    let tanh_z_matches = (0..8).all(|i| {
        let z = b[i] + (0..10).map(|j| w[i][j] * x[j]).sum::<f64>();
        (du[i] - z.tanh()).abs() < 1e-15
    });
    println!("  ∂s/∂u == tanh(z): {tanh_z_matches}");
    assert!(tanh_z_matches);
    let mut point: Vec<f64> = w.as_flattened().to_vec();
    point.extend(x.iter().chain(&b).chain(&u));
    let mut g: Vec<f64> = dw.as_flattened().to_vec();
    g.extend(dx.iter().chain(&db).chain(&du));
    let check = grad::check_gradient(
        |p| {
            let w: [[f64; 10]; 8] = std::array::from_fn(|i| std::array::from_fn(|j| p[i * 10 + j]));
            let x: [f64; 10] = std::array::from_fn(|j| p[80 + j]);
            let b: [f64; 8] = std::array::from_fn(|i| p[90 + i]);
            let u: [f64; 8] = std::array::from_fn(|i| p[98 + i]);
            score(&w, &x, &b, &u)
        },
        &point,
        &g,
        1e-6,
    )
    .unwrap_or_else(|mismatch| panic!("{mismatch}"));
    println!(
        "  gradient check of all {} components passed (max abs error {:.1e})",
        g.len(),
        check.max_abs_error()
    );
}
