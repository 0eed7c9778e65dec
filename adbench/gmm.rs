//! ADBench's Gaussian mixture model objective, in plain scalar Rust with the loop structure of
//! its `gmm.h`, differentiated by `#[derive_grad]`; and a gradient derived by hand.

// Mirrors ADBench's C++ index by index, on purpose.
#![allow(
    clippy::doc_markdown,
    clippy::needless_range_loop,
    clippy::unreadable_literal
)]

use super::data;
use grad::derive_grad;

/// ADBench's truncated π (`defs.h`), for agreement with its objective.
#[allow(clippy::approx_constant, reason = "ADBench's value, on purpose")]
pub const PI: f64 = 3.14159265359;

/// One GMM instance.
pub struct Gmm {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    pub alphas: Vec<f64>,
    pub means: Vec<f64>,
    pub icf: Vec<f64>,
    pub x: Vec<f64>,
    pub gamma: f64,
    pub m: usize,
}

impl Gmm {
    /// Reads `gmm/…` in ADBench's format.
    pub fn read(relative: &str) -> Gmm {
        let v = data::numbers(relative);
        let (d, k, n) = (v[0] as usize, v[1] as usize, v[2] as usize);
        let icf_sz = d * (d + 1) / 2;
        let mut at = 3;
        let mut take = |count: usize| {
            let slice = v[at..at + count].to_vec();
            at += count;
            slice
        };
        let alphas = take(k);
        let means = take(k * d);
        let icf = take(k * icf_sz);
        let x = take(n * d);
        let wishart = take(2);
        Gmm {
            d,
            k,
            n,
            alphas,
            means,
            icf,
            x,
            gamma: wishart[0],
            m: wishart[1] as usize,
        }
    }

    /// The objective.
    pub fn objective(&self) -> f64 {
        gmm_objective(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }

    /// The objective and its gradient `[∂alphas | ∂means | ∂icf]`, by `#[derive_grad]`.
    pub fn gradient(&self) -> (f64, Vec<f64>) {
        let (value, (da, dm, di)) = gmm_objective_grad(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        );
        let mut g = da;
        g.extend(dm);
        g.extend(di);
        (value, g)
    }
}

/// `log Γ_p(a)`, the multivariate log-gamma function (a constant of the prior).
pub fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * PI.ln();
    for j in 1..=p {
        out += ln_gamma(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// `ln Γ(x)` for `x > 0`, by Lanczos' approximation (g = 7), accurate to about 1e-15.
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ADBench's `gmm_objective`: the log-likelihood of points `x` under a mixture of `k`
/// Gaussians with a Wishart prior, loop for loop as in `gmm.h`.
#[derive_grad(wrt(alphas, means, icf))]
#[allow(clippy::too_many_arguments, reason = "ADBench's signature")]
pub fn gmm_objective(
    d: usize,
    k: usize,
    n: usize,
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    gamma: f64,
    m: usize,
) -> f64 {
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();
    let icf_sz = d * (d + 1) / 2;
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];

    // preprocess_qs
    for ik in 0..k {
        sum_qs[ik] = 0.0;
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            // subtract
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            // Qtimesx
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lparamsidx = 0;
            for i in 0..d {
                for j in i + 1..d {
                    qxcentered[j] += icf[ik * icf_sz + d + lparamsidx] * xcentered[i];
                    lparamsidx += 1;
                }
            }
            // sqnorm
            let mut sqnorm = qxcentered[0] * qxcentered[0];
            for id in 1..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        // logsumexp
        let mut mx = main_term[0];
        for ik in 1..k {
            if mx < main_term[ik] {
                mx = main_term[ik];
            }
        }
        let mut semx = 0.0;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }

    // logsumexp(alphas)
    let mut mx = alphas[0];
    for ik in 1..k {
        if mx < alphas[ik] {
            mx = alphas[ik];
        }
    }
    let mut semx = 0.0;
    for ik in 0..k {
        semx += (alphas[ik] - mx).exp();
    }
    let lse_alphas = semx.ln() + mx;

    let err = constant + slse - (n as f64) * lse_alphas;

    // log_wishart_prior
    let nn = d + m + 1;
    let c = (nn as f64) * (d as f64) * (gamma.ln() - 0.5 * 2f64.ln())
        - log_gamma_distrib(0.5 * (nn as f64), d);
    let mut out = 0.0;
    for ik in 0..k {
        let mut frobenius = qdiags[ik * d] * qdiags[ik * d];
        for id in 1..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        let mut lower = icf[ik * icf_sz + d] * icf[ik * icf_sz + d];
        for id in 1..icf_sz - d {
            lower += icf[ik * icf_sz + d + id] * icf[ik * icf_sz + d + id];
        }
        out = out + 0.5 * gamma * gamma * (frobenius + lower) - (m as f64) * sum_qs[ik];
    }
    err + out - (k as f64) * c
}

/// The gradient derived by hand (independently of the macro), `[∂alphas | ∂means | ∂icf]`.
///
/// With `Q_k` lower triangular (diagonal `exp(q_k)`, the rest `l_k` column by column),
/// `y = x_i − μ_k`, `r_ik` the posterior softmax of the main terms over `k`:
/// ∂α_k = Σ_i r_ik − n·softmax(α)_k; ∂μ_k = Σ_i r_ik Q_kᵀQ_k y;
/// ∂q_kj = Σ_i r_ik (1 − (Q_k y)_j y_j e^{q_kj}) + γ² e^{2 q_kj} − m;
/// ∂l_k(row a, col b) = −Σ_i r_ik (Q_k y)_a y_b + γ² l.
pub fn gradient_by_hand(g: &Gmm) -> Vec<f64> {
    let (d, k) = (g.d, g.k);
    let icf_sz = d * (d + 1) / 2;
    let (mut da, mut dm, mut di) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * icf_sz]);
    // Q_k as a dense lower-triangular matrix.
    let q: Vec<Vec<Vec<f64>>> = (0..k)
        .map(|ik| {
            let p = &g.icf[ik * icf_sz..(ik + 1) * icf_sz];
            let mut m = vec![vec![0.0; d]; d];
            let mut idx = d;
            for col in 0..d {
                m[col][col] = p[col].exp();
                for row in col + 1..d {
                    m[row][col] = p[idx];
                    idx += 1;
                }
            }
            m
        })
        .collect();
    for i in 0..g.n {
        let xi = &g.x[i * d..(i + 1) * d];
        let mut mains = vec![0.0; k];
        let mut qys = vec![vec![0.0; d]; k];
        let mut ys = vec![vec![0.0; d]; k];
        for ik in 0..k {
            let y: Vec<f64> = (0..d).map(|j| xi[j] - g.means[ik * d + j]).collect();
            let qy: Vec<f64> = (0..d)
                .map(|a| (0..d).map(|b| q[ik][a][b] * y[b]).sum())
                .collect();
            let sum_q: f64 = (0..d).map(|j| g.icf[ik * icf_sz + j]).sum();
            mains[ik] = g.alphas[ik] + sum_q - 0.5 * qy.iter().map(|v| v * v).sum::<f64>();
            qys[ik] = qy;
            ys[ik] = y;
        }
        let mx = mains.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = mains.iter().map(|v| (v - mx).exp()).sum();
        for ik in 0..k {
            let r = (mains[ik] - mx).exp() / z;
            let (y, qy) = (&ys[ik], &qys[ik]);
            da[ik] += r;
            for b in 0..d {
                // (QᵀQ y)_b
                let qtqy: f64 = (0..d).map(|a| q[ik][a][b] * qy[a]).sum();
                dm[ik * d + b] += r * qtqy;
            }
            let base = ik * icf_sz;
            for j in 0..d {
                di[base + j] += r * (1.0 - qy[j] * y[j] * q[ik][j][j]);
            }
            let mut idx = d;
            for col in 0..d {
                for row in col + 1..d {
                    di[base + idx] -= r * qy[row] * y[col];
                    idx += 1;
                }
            }
        }
    }
    let mx = g.alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = g.alphas.iter().map(|a| (a - mx).exp()).sum();
    for ik in 0..k {
        da[ik] -= g.n as f64 * (g.alphas[ik] - mx).exp() / z;
        let base = ik * icf_sz;
        for j in 0..d {
            let e = g.icf[base + j].exp();
            di[base + j] += g.gamma * g.gamma * e * e - g.m as f64;
        }
        for idx in d..icf_sz {
            di[base + idx] += g.gamma * g.gamma * g.icf[base + idx];
        }
    }
    da.extend(dm);
    da.extend(di);
    da
}
