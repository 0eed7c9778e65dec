//! Numeric loops as people write them — integrators, recurrences, iterations, filters —
//! each against an independent oracle: a hand-derived derivative where one exists in closed
//! form, otherwise Richardson-extrapolated central differences of the function itself; and
//! every `_jvp` against ⟨∇f, t⟩.

#![allow(clippy::needless_range_loop, clippy::many_single_char_names)]

use grad::derive_grad;

/// ∂f/∂xᵢ by Richardson extrapolation of central differences (error O(h⁴)), with the step
/// `step` relative to xᵢ.
fn richardson(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize, step: f64) -> f64 {
    let h = step * x[i].abs().max(0.01);
    let at = |d: f64| {
        let mut y = x.to_vec();
        y[i] += d;
        f(&y)
    };
    let d1 = (at(h) - at(-h)) / (2.0 * h);
    let d2 = (at(h / 2.0) - at(-h / 2.0)) / h;
    (4.0 * d2 - d1) / 3.0
}

/// The gradient against Richardson differences, and the value bit for bit.
fn check(name: &str, f: &dyn Fn(&[f64]) -> f64, x: &[f64], value: f64, gradient: &[f64]) {
    check_with(name, f, x, value, gradient, 1e-3);
}

/// [`check`] with a smaller step, for a function with kinks close together (a landing time
/// interpolated between integration steps).
fn check_with(
    name: &str,
    f: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    value: f64,
    gradient: &[f64],
    step: f64,
) {
    assert_eq!(value.to_bits(), f(x).to_bits(), "{name}: value");
    for i in 0..x.len() {
        let want = richardson(f, x, i, step);
        let scale = want.abs().max(gradient[i].abs()).max(1.0);
        assert!(
            (gradient[i] - want).abs() <= 1e-7 * scale,
            "{name} at {x:?}: ∂{i} = {} vs {want}",
            gradient[i]
        );
    }
}

/// `jvp` along `t` against the gradient.
fn along(name: &str, gradient: &[f64], t: &[f64], jvp: f64) {
    let dot: f64 = gradient.iter().zip(t).map(|(g, t)| g * t).sum();
    let size: f64 = gradient.iter().zip(t).map(|(g, t)| (g * t).abs()).sum();
    assert!(
        (dot - jvp).abs() <= 1e-12 * size.max(1.0),
        "{name}: ⟨∇f, t⟩ = {dot} vs jvp {jvp}"
    );
}

// ----- integrators -----

/// Explicit Euler for a unit mass on a spring: the position after `steps` steps.
#[derive_grad(jvp)]
pub fn spring_euler(x0: f64, v0: f64, k: f64, dt: f64, steps: usize) -> f64 {
    let mut x = x0;
    let mut v = v0;
    for _ in 0..steps {
        let a = -k * x;
        x += v * dt;
        v += a * dt;
    }
    x
}

#[test]
fn explicit_euler_spring_matches_the_matrix_power() {
    // (x, v) ← [[1, dt], [−k·dt, 1]] (x, v): x_n is linear in (x0, v0), with the first row
    // of Mⁿ as its gradient.
    let (k, dt, n) = (2.0, 0.1, 25);
    let step = [[1.0, dt], [-k * dt, 1.0]];
    let mut m = [[1.0, 0.0], [0.0, 1.0]];
    for _ in 0..n {
        let mut r = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                r[i][j] = step[i][0] * m[0][j] + step[i][1] * m[1][j];
            }
        }
        m = r;
    }
    let (value, (dx0, dv0, dk, ddt)) = spring_euler_grad(0.7, -0.2, k, dt, n);
    assert_eq!(value.to_bits(), spring_euler(0.7, -0.2, k, dt, n).to_bits());
    assert!((dx0 - m[0][0]).abs() < 1e-13 && (dv0 - m[0][1]).abs() < 1e-13);
    let f = |p: &[f64]| spring_euler(p[0], p[1], p[2], p[3], n);
    check(
        "spring_euler",
        &f,
        &[0.7, -0.2, k, dt],
        value,
        &[dx0, dv0, dk, ddt],
    );
    let t = [0.3, -1.0, 0.5, 2.0];
    let (_, d) = spring_euler_jvp(0.7, -0.2, k, dt, n, t[0], t[1], t[2], t[3]);
    along("spring_euler", &[dx0, dv0, dk, ddt], &t, d);
}

/// Classic RK4 for the pendulum θ'' = −(g/L)·sin θ; returns the final angle.
#[derive_grad(jvp)]
pub fn pendulum_rk4(theta0: f64, omega0: f64, g_over_l: f64, steps: usize) -> f64 {
    let dt: f64 = 0.05;
    let mut theta = theta0;
    let mut omega = omega0;
    for _ in 0..steps {
        let k1t = omega;
        let k1w = -g_over_l * theta.sin();
        let k2t = omega + 0.5 * dt * k1w;
        let k2w = -g_over_l * (theta + 0.5 * dt * k1t).sin();
        let k3t = omega + 0.5 * dt * k2w;
        let k3w = -g_over_l * (theta + 0.5 * dt * k2t).sin();
        let k4t = omega + dt * k3w;
        let k4w = -g_over_l * (theta + dt * k3t).sin();
        theta += dt / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t);
        omega += dt / 6.0 * (k1w + 2.0 * k2w + 2.0 * k3w + k4w);
    }
    theta
}

#[test]
fn rk4_pendulum() {
    for (th, w, g, n) in [
        (0.8, 0.0, 9.81, 40),
        (2.5, 1.0, 4.0, 10),
        (0.1, -0.3, 1.0, 0),
    ] {
        let (value, (a, b, c)) = pendulum_rk4_grad(th, w, g, n);
        let f = |p: &[f64]| pendulum_rk4(p[0], p[1], p[2], n);
        check("pendulum_rk4", &f, &[th, w, g], value, &[a, b, c]);
        let (_, d) = pendulum_rk4_jvp(th, w, g, n, 1.0, 0.5, -0.25);
        along("pendulum_rk4", &[a, b, c], &[1.0, 0.5, -0.25], d);
    }
}

/// Velocity Verlet for a projectile with quadratic drag, stopped when it lands; the range.
#[derive_grad(jvp)]
pub fn projectile_range(speed: f64, angle: f64, drag: f64) -> f64 {
    let g = 9.81;
    let dt = 0.01;
    let (mut x, mut y) = (0.0, 0.0);
    let mut vx = speed * angle.cos();
    let mut vy = speed * angle.sin();
    let mut ax = -drag * vx * (vx * vx + vy * vy).sqrt();
    let mut ay = -g - drag * vy * (vx * vx + vy * vy).sqrt();
    let mut steps = 0;
    while steps < 10_000 {
        steps += 1;
        let px = x;
        let py = y;
        x += vx * dt + 0.5 * ax * dt * dt;
        y += vy * dt + 0.5 * ay * dt * dt;
        if y < 0.0 {
            // Interpolate the landing point between the last two positions.
            return px + (x - px) * py / (py - y);
        }
        let hx = vx + 0.5 * ax * dt;
        let hy = vy + 0.5 * ay * dt;
        let speed_h = (hx * hx + hy * hy).sqrt();
        ax = -drag * hx * speed_h;
        ay = -g - drag * hy * speed_h;
        vx = hx + 0.5 * ax * dt;
        vy = hy + 0.5 * ay * dt;
    }
    x
}

#[test]
fn verlet_projectile_with_drag() {
    for (s, a, k) in [(20.0, 0.7, 0.01), (35.0, 0.3, 0.05)] {
        let (value, (ds, da, dk)) = projectile_range_grad(s, a, k);
        let f = |p: &[f64]| projectile_range(p[0], p[1], p[2]);
        check_with(
            "projectile_range",
            &f,
            &[s, a, k],
            value,
            &[ds, da, dk],
            1e-6,
        );
        let (_, d) = projectile_range_jvp(s, a, k, 0.1, -0.2, 3.0);
        along("projectile_range", &[ds, da, dk], &[0.1, -0.2, 3.0], d);
    }
}

/// Semi-implicit Euler for a damped spring, the energy accumulated over the run.
#[derive_grad]
pub fn damped_energy(x0: f64, c: f64, k: f64) -> f64 {
    let dt = 0.02;
    let mut x = x0;
    let mut v = 0.0;
    let mut energy = 0.0;
    for _ in 0..200 {
        v += (-k * x - c * v) * dt;
        x += v * dt;
        energy += 0.5 * (v * v + k * x * x) * dt;
    }
    energy
}

#[test]
fn semi_implicit_euler_damped_spring() {
    let (value, (dx, dc, dk)) = damped_energy_grad(1.2, 0.4, 3.0);
    let f = |p: &[f64]| damped_energy(p[0], p[1], p[2]);
    check("damped_energy", &f, &[1.2, 0.4, 3.0], value, &[dx, dc, dk]);
    // Energy is quadratic in x0: ∂E/∂x0 = 2E/x0.
    assert!((dx - 2.0 * value / 1.2).abs() < 1e-12 * dx.abs());
}

// ----- recurrences -----

/// Horner's rule for Σ cᵢ xⁱ, coefficients lowest degree first.
#[derive_grad(jvp)]
pub fn horner(c: &[f64], x: f64) -> f64 {
    let mut acc = 0.0;
    for &ci in c.iter().rev() {
        acc = acc * x + ci;
    }
    acc
}

#[test]
fn horner_has_the_derivative_polynomial() {
    let c = [1.0, -2.0, 0.5, 3.0, -0.25];
    let x = 0.8;
    let (value, (dc, dx)) = horner_grad(&c, x);
    let want: f64 = (1..c.len())
        .map(|i| i as f64 * c[i] * x.powi(i as i32 - 1))
        .sum();
    assert!((dx - want).abs() < 1e-14, "{dx} vs {want}");
    for (i, d) in dc.iter().enumerate() {
        assert!((d - x.powi(i as i32)).abs() < 1e-15);
    }
    assert_eq!(value.to_bits(), horner(&c, x).to_bits());
    let t = [0.1, 0.2, 0.3, 0.4, 0.5];
    let (_, d) = horner_jvp(&c, x, &t, -1.0);
    let mut g = dc.clone();
    g.push(dx);
    along("horner", &g, &[0.1, 0.2, 0.3, 0.4, 0.5, -1.0], d);
}

/// The linear recurrence yₙ = a·yₙ₋₁ + b·yₙ₋₂.
#[derive_grad]
pub fn recurrence(a: f64, b: f64, n: usize) -> f64 {
    let mut prev = 0.0;
    let mut y = 1.0;
    for _ in 0..n {
        let next = a * y + b * prev;
        prev = y;
        y = next;
    }
    y
}

#[test]
fn a_linear_recurrence_matches_its_closed_form() {
    // With b = 0: yₙ = aⁿ, ∂a = n·aⁿ⁻¹; at b = 0 also ∂b = (n−1)·aⁿ⁻² (one b·y_{k−1} term
    // per position, each scaled by a^(n−2)).
    let (a, n) = (1.1_f64, 12);
    let (value, (da, db)) = recurrence_grad(a, 0.0, n);
    assert!((value - a.powi(12)).abs() < 1e-12);
    assert!((da - 12.0 * a.powi(11)).abs() < 1e-12, "{da}");
    assert!((db - 11.0 * a.powi(10)).abs() < 1e-12, "{db}");
    let f = |p: &[f64]| recurrence(p[0], p[1], 9);
    let (value, (da, db)) = recurrence_grad(0.9, -0.3, 9);
    check("recurrence", &f, &[0.9, -0.3], value, &[da, db]);
}

/// The running product Π (1 + r·xᵢ), stopped early once it has grown past a cap.
#[derive_grad]
pub fn running_product(r: f64, xs: &[f64]) -> f64 {
    let mut p = 1.0;
    for &x in xs {
        p *= 1.0 + r * x;
        if p > 10.0 {
            break;
        }
    }
    p
}

#[test]
fn a_running_product_has_the_product_rule() {
    let xs = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
    for r in [0.3, 1.5] {
        let (value, (dr, dxs)) = running_product_grad(r, &xs);
        assert_eq!(value.to_bits(), running_product(r, &xs).to_bits());
        // The factors that ran: up to the first that passes the cap.
        let mut p = 1.0;
        let mut ran = 0;
        for &x in &xs {
            p *= 1.0 + r * x;
            ran += 1;
            if p > 10.0 {
                break;
            }
        }
        let want_r: f64 = xs[..ran].iter().map(|x| p * x / (1.0 + r * x)).sum();
        assert!(
            (dr - want_r).abs() < 1e-12 * want_r.abs(),
            "{dr} vs {want_r}"
        );
        for i in 0..xs.len() {
            let want = if i < ran {
                p * r / (1.0 + r * xs[i])
            } else {
                0.0
            };
            assert!((dxs[i] - want).abs() < 1e-12 * want.abs().max(1.0));
        }
    }
}

// ----- iterations -----

/// Newton's iteration for √a, stopped when the step is small.
#[derive_grad]
pub fn newton_sqrt(a: f64) -> f64 {
    let mut x = a.max(1.0);
    for _ in 0..50 {
        let next = 0.5 * (x + a / x);
        if (next - x).abs() < 1e-15 * x {
            return next;
        }
        x = next;
    }
    x
}

#[test]
fn newton_iterations_converge_to_the_derivative_of_the_root() {
    for a in [2.0, 10.0, 0.25] {
        let (value, da) = newton_sqrt_grad(a);
        assert!((value - a.sqrt()).abs() < 1e-14);
        let want = 0.5 / a.sqrt();
        assert!((da - want).abs() < 1e-9, "{da} vs {want}");
    }
}

/// The exponential moving average of a series, and its squared one-step forecast error.
#[derive_grad(jvp)]
pub fn ema_error(alpha: f64, ys: &[f64]) -> f64 {
    let mut level = ys[0];
    let mut error = 0.0;
    for t in 1..ys.len() {
        let e = ys[t] - level;
        error += e * e;
        level = alpha * ys[t] + (1.0 - alpha) * level;
    }
    error
}

#[test]
fn an_exponential_moving_average() {
    let ys = [1.0, 1.4, 0.9, 2.2, 1.7, 2.5];
    let (value, (da, dys)) = ema_error_grad(0.35, &ys);
    let f = |p: &[f64]| ema_error(p[0], &p[1..]);
    let mut x = vec![0.35];
    x.extend(&ys);
    let mut g = vec![da];
    g.extend(&dys);
    check("ema_error", &f, &x, value, &g);
    let t: Vec<f64> = (0..7).map(|i| 0.1 * i as f64 - 0.2).collect();
    let (_, d) = ema_error_jvp(0.35, &ys, t[0], &t[1..]);
    along("ema_error", &g, &t, d);
}

/// A one-dimensional Kalman filter's negative log-likelihood of the measurements, as a
/// function of the noise variances and the first guess.
#[derive_grad]
pub fn kalman_nll(q: f64, r: f64, x0: f64, zs: &[f64]) -> f64 {
    let mut x = x0;
    let mut p = 1.0;
    let mut nll = 0.0;
    for &z in zs {
        // Predict.
        p += q;
        // Update.
        let s = p + r;
        let innovation = z - x;
        nll += 0.5 * (s.ln() + innovation * innovation / s);
        let gain = p / s;
        x += gain * innovation;
        p *= 1.0 - gain;
    }
    nll
}

#[test]
fn a_kalman_filter_likelihood() {
    let zs = [0.2, 0.5, 0.1, 0.9, 1.3, 1.1];
    let (value, (dq, dr, dx, dzs)) = kalman_nll_grad(0.1, 0.4, 0.0, &zs);
    let f = |p: &[f64]| kalman_nll(p[0], p[1], p[2], &p[3..]);
    let mut x = vec![0.1, 0.4, 0.0];
    x.extend(&zs);
    let mut g = vec![dq, dr, dx];
    g.extend(&dzs);
    check("kalman_nll", &f, &x, value, &g);
}

/// Bisection for the root of x³ + c·x − d, finished by a secant step: the root moves with
/// c and d like the implicit function's (∂x/∂d = 1 / (3x² + c)).
#[derive_grad]
pub fn cubic_root(c: f64, d: f64) -> f64 {
    let mut lo = 0.0;
    let mut hi = 10.0;
    while hi - lo > 1e-9 {
        let mid = 0.5 * (lo + hi);
        if mid * mid * mid + c * mid - d > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let flo = lo * lo * lo + c * lo - d;
    let fhi = hi * hi * hi + c * hi - d;
    lo - flo * (hi - lo) / (fhi - flo)
}

#[test]
fn bisection_with_a_secant_step_follows_the_implicit_function() {
    for (c, d) in [(1.0, 3.0), (0.5, 20.0)] {
        let (x, (dc, dd)) = cubic_root_grad(c, d);
        let slope = 3.0 * x * x + c;
        assert!((dd - 1.0 / slope).abs() < 1e-6, "{dd} vs {}", 1.0 / slope);
        assert!((dc + x / slope).abs() < 1e-6, "{dc} vs {}", -x / slope);
    }
}
