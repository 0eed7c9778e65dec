//! ADBench's bundle adjustment: the reprojection error of one observation in plain scalar
//! Rust with the structure of its `ba.h` (Rodrigues rotation with its θ = 0 branch, radial
//! distortion, projection), its 2×15 Jacobian block from `#[derive_grad]`'s `_jacobian`, and
//! the sparse Jacobian of a whole problem in ADBench's CSR layout (`BASparseMat`).

// Mirrors ADBench's C++ index by index, on purpose.
#![allow(
    clippy::doc_markdown,
    clippy::needless_range_loop,
    clippy::unreadable_literal,
    clippy::if_not_else
)]

use super::data;
use grad::derive_grad;

/// Parameters per camera: rotation (3), centre (3), focal length, principal point (2),
/// radial distortion (2).
pub const CAM: usize = 11;

/// One bundle-adjustment problem: `n` cameras, `m` points, `p` observations.
pub struct Ba {
    pub n: usize,
    pub m: usize,
    pub p: usize,
    pub cams: Vec<[f64; CAM]>,
    pub x: Vec<[f64; 3]>,
    pub w: Vec<f64>,
    /// `(camera, point)` of each observation.
    pub obs: Vec<(usize, usize)>,
    pub feats: Vec<[f64; 2]>,
}

/// A sparse matrix in compressed-row form, as ADBench writes it.
pub struct Csr {
    pub nrows: usize,
    pub ncols: usize,
    /// `nrows + 1` offsets into `cols` and `vals`.
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
    pub vals: Vec<f64>,
}

impl Ba {
    /// Reads `ba/…`: one camera, point, weight and feature, replicated as ADBench does
    /// (`read_ba_instance`).
    pub fn read(relative: &str) -> Ba {
        let v = data::numbers(relative);
        let (n, m, p) = (v[0] as usize, v[1] as usize, v[2] as usize);
        let cam: [f64; CAM] = v[3..14].try_into().expect("camera");
        let x: [f64; 3] = v[14..17].try_into().expect("point");
        let (w, feat) = (v[17], [v[18], v[19]]);
        Ba {
            n,
            m,
            p,
            cams: vec![cam; n],
            x: vec![x; m],
            w: vec![w; p],
            obs: (0..p).map(|i| (i % n, i % m)).collect(),
            feats: vec![feat; p],
        }
    }

    /// `reproj_err` (2 per observation) then `w_err` (1 per observation): ADBench's
    /// `ba_objective`.
    pub fn objective(&self) -> (Vec<f64>, Vec<f64>) {
        let (mut reproj, mut w_err) = (Vec::new(), Vec::new());
        self.objective_into(&mut reproj, &mut w_err);
        (reproj, w_err)
    }

    /// [`Ba::objective`] into buffers kept from call to call, as ADBench's harness keeps its
    /// output arrays.
    pub fn objective_into(&self, reproj: &mut Vec<f64>, w_err: &mut Vec<f64>) {
        reproj.clear();
        w_err.clear();
        reproj.reserve(2 * self.p);
        w_err.reserve(self.p);
        for (i, &(c, j)) in self.obs.iter().enumerate() {
            let e = reprojection_error(&self.cams[c], &self.x[j], self.w[i], &self.feats[i]);
            reproj.extend(e);
            w_err.push(weight_error(self.w[i]));
        }
    }

    /// The Jacobian of the objective in ADBench's CSR layout, each observation's 2×15 block
    /// computed by `reprojection_error_jacobian` (ADBench's `calculate_jacobian`).
    pub fn jacobian(&self) -> Csr {
        let mut j = Csr {
            nrows: 0,
            ncols: 0,
            rows: Vec::new(),
            cols: Vec::new(),
            vals: Vec::new(),
        };
        self.jacobian_into(&mut j);
        j
    }

    /// [`Ba::jacobian`] into a matrix kept from call to call, as ADBench's `BASparseMat` is.
    pub fn jacobian_into(&self, j: &mut Csr) {
        let (n, m, p) = (self.n, self.m, self.p);
        let nnz = 15 * 2 * p + p;
        j.nrows = 2 * p + p;
        j.ncols = CAM * n + 3 * m + p;
        j.rows.clear();
        j.cols.clear();
        j.vals.clear();
        j.rows.reserve(3 * p + 1);
        j.cols.reserve(nnz);
        j.vals.reserve(nnz);
        j.rows.push(0);
        for (i, &(c, pt)) in self.obs.iter().enumerate() {
            let (_, block) =
                reprojection_error_jacobian(&self.cams[c], &self.x[pt], self.w[i], &self.feats[i]);
            for row in &block {
                j.cols.extend(CAM * c..CAM * (c + 1));
                j.cols.extend(CAM * n + 3 * pt..CAM * n + 3 * (pt + 1));
                j.cols.push(CAM * n + 3 * m + i);
                j.vals.extend_from_slice(row);
                j.rows.push(j.cols.len());
            }
        }
        for i in 0..p {
            let (_, d) = weight_error_grad(self.w[i]);
            j.cols.push(CAM * n + 3 * m + i);
            j.vals.push(d);
            j.rows.push(j.cols.len());
        }
    }
}

/// `Xcam = R(r) (X − C)`: Rodrigues' rotation, with the first-order form ADBench keeps for
/// θ = 0; then radial distortion and projection, weighted: ADBench's `computeReprojError`.
#[derive_grad(wrt(cam, x, w))]
pub fn reprojection_error(cam: &[f64; CAM], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let sqtheta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    let xcam = if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let theta_inverse = 1.0 / theta;
        let v = [
            cam[0] * theta_inverse,
            cam[1] * theta_inverse,
            cam[2] * theta_inverse,
        ];
        let cross = [
            v[1] * xo[2] - v[2] * xo[1],
            v[2] * xo[0] - v[0] * xo[2],
            v[0] * xo[1] - v[1] * xo[0],
        ];
        let tmp = (v[0] * xo[0] + v[1] * xo[1] + v[2] * xo[2]) * (1.0 - costheta);
        [
            xo[0] * costheta + cross[0] * sintheta + v[0] * tmp,
            xo[1] * costheta + cross[1] * sintheta + v[1] * tmp,
            xo[2] * costheta + cross[2] * sintheta + v[2] * tmp,
        ]
    } else {
        [
            xo[0] + cam[1] * xo[2] - cam[2] * xo[1],
            xo[1] + cam[2] * xo[0] - cam[0] * xo[2],
            xo[2] + cam[0] * xo[1] - cam[1] * xo[0],
        ]
    };
    let p0 = xcam[0] / xcam[2];
    let p1 = xcam[1] / xcam[2];
    let rsq = p0 * p0 + p1 * p1;
    let distortion = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    let proj = [
        p0 * distortion * cam[6] + cam[7],
        p1 * distortion * cam[6] + cam[8],
    ];
    [w * (proj[0] - feat[0]), w * (proj[1] - feat[1])]
}

/// `1 − w²`: ADBench's `computeZachWeightError`.
#[derive_grad]
pub fn weight_error(w: f64) -> f64 {
    1.0 - w * w
}
