//! Adjoints in the shape of their values: zeros like a value, and element-wise accumulation.
//!
//! Generated code uses these for array adjoints: `zeros_like(&x)` makes the gradient of an
//! array parameter (`[f64; N]` for `[f64; N]` and `&[f64; N]`, `Vec<f64>` for `&[f64]` and
//! `&Vec<f64>`, and likewise for 2-D arrays), and `accumulate` adds one adjoint into another.

/// E value that has an adjoint of a known shape.
pub trait Adjoint {
    /// The adjoint's type: owned, and the same shape as the value.
    type Output;
    /// The element type.
    type Scalar;
    /// Zeros in the shape of `self`.
    fn zeros_like(&self) -> Self::Output;
    /// `target += source`, element by element; `source` has `self`'s shape.
    fn accumulate(target: &mut Self::Output, source: &Self);
    /// The sum of every element.
    fn sum_all(&self) -> Self::Scalar;
}

macro_rules! scalar_adjoint {
    ($($t:ty),*) => {$(
        impl Adjoint for $t {
            type Output = $t;
            type Scalar = $t;
            fn zeros_like(&self) -> $t {
                0.0
            }
            fn accumulate(target: &mut $t, source: &$t) {
                *target += *source;
            }
            fn sum_all(&self) -> $t {
                *self
            }
        }
    )*};
}
scalar_adjoint!(f64, f32);

impl<E: Adjoint<Scalar: core::iter::Sum>, const N: usize> Adjoint for [E; N] {
    type Output = [E::Output; N];
    type Scalar = E::Scalar;
    fn zeros_like(&self) -> Self::Output {
        core::array::from_fn(|i| self[i].zeros_like())
    }
    fn accumulate(target: &mut Self::Output, source: &Self) {
        for (t, s) in target.iter_mut().zip(source) {
            E::accumulate(t, s);
        }
    }
    fn sum_all(&self) -> E::Scalar {
        self.iter().map(Adjoint::sum_all).sum()
    }
}

impl<E: Adjoint<Scalar: core::iter::Sum>> Adjoint for [E] {
    type Output = Vec<E::Output>;
    type Scalar = E::Scalar;
    fn zeros_like(&self) -> Self::Output {
        self.iter().map(Adjoint::zeros_like).collect()
    }
    fn accumulate(target: &mut Self::Output, source: &Self) {
        for (t, s) in target.iter_mut().zip(source) {
            E::accumulate(t, s);
        }
    }
    fn sum_all(&self) -> E::Scalar {
        self.iter().map(Adjoint::sum_all).sum()
    }
}

impl<E: Adjoint<Scalar: core::iter::Sum>> Adjoint for Vec<E> {
    type Output = Vec<E::Output>;
    type Scalar = E::Scalar;
    fn zeros_like(&self) -> Self::Output {
        self.as_slice().zeros_like()
    }
    fn accumulate(target: &mut Self::Output, source: &Self) {
        <[E]>::accumulate(target, source);
    }
    fn sum_all(&self) -> E::Scalar {
        self.as_slice().sum_all()
    }
}

impl<E: Adjoint + ?Sized> Adjoint for &E {
    type Output = E::Output;
    type Scalar = E::Scalar;
    fn zeros_like(&self) -> Self::Output {
        (**self).zeros_like()
    }
    fn accumulate(target: &mut Self::Output, source: &Self) {
        E::accumulate(target, source);
    }
    fn sum_all(&self) -> E::Scalar {
        (**self).sum_all()
    }
}

/// Zeros in the shape of `value`: the initial adjoint of an array.
///
/// ```
/// # use grad_runtime as grad;
/// let x: &[f64] = &[1.0, 2.0];
/// assert_eq!(grad::zeros_like(&x), vec![0.0, 0.0]);
/// assert_eq!(grad::zeros_like(&[[1.0_f32; 2]; 3]), [[0.0; 2]; 3]);
/// ```
pub fn zeros_like<E: Adjoint + ?Sized>(value: &E) -> E::Output {
    value.zeros_like()
}

/// `target += source`, element by element.
///
/// ```
/// # use grad_runtime as grad;
/// let mut t = [1.0, 2.0];
/// grad::accumulate(&mut t, &[0.5, 0.5]);
/// assert_eq!(t, [1.5, 2.5]);
/// ```
pub fn accumulate<E: Adjoint + ?Sized>(target: &mut E::Output, source: &E) {
    E::accumulate(target, source);
}

/// The sum of every element of an array (the adjoint of `[x; N]` with respect to `x`).
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::sum_all(&[[1.0, 2.0], [3.0, 4.0]]), 10.0);
/// ```
pub fn sum_all<E: Adjoint + ?Sized>(value: &E) -> E::Scalar {
    value.sum_all()
}
