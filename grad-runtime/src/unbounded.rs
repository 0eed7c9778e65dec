//! Infinite tangents and adjoints arriving at a generated function.
//!
//! A derivative can be infinite where the value is finite (`√x` at 0). Inside one function the
//! generated code treats a zero partial (a kink's convention, a factor that is 0) times an
//! infinite tangent or adjoint as 0 — a *strong zero* — as dual numbers written out by hand
//! would. When the infinite value crosses a call, the callee's `_jvp` or `_pullback` gives the
//! same answer as if its body were inlined: the derivative is linear in the incoming tangent
//! (adjoint), so the callee runs once on its finite part and once on the direction (±1) of its
//! infinite part, and adds the second run's result times ∞, with 0 · ∞ = 0.

use crate::Real;
use core::borrow::Borrow;

/// A tangent or adjoint that may hold infinities: a float, or an array or `Vec` of them.
pub trait Unbounded {
    /// An owned value of the same shape.
    type Owned;
    /// Whether any element is ±∞.
    fn has_infinity(&self) -> bool;
    /// The value with every ±∞ replaced by 0.
    fn finite_part(&self) -> Self::Owned;
    /// ±1 where the value is ±∞, 0 elsewhere.
    fn direction(&self) -> Self::Owned;
    /// Zeros of the same shape.
    fn zeros(&self) -> Self::Owned;
    /// `self += direction · ∞`, element by element, where `0 · ∞` is 0.
    fn add_unbounded(&mut self, direction: &Self);
}

impl<T: Real> Unbounded for T {
    type Owned = T;
    fn has_infinity(&self) -> bool {
        self.to_f64().is_infinite()
    }
    fn finite_part(&self) -> T {
        if self.has_infinity() {
            T::zero()
        } else {
            *self
        }
    }
    fn direction(&self) -> T {
        if self.has_infinity() {
            T::from_f64(self.to_f64().signum())
        } else {
            T::zero()
        }
    }
    fn zeros(&self) -> T {
        T::zero()
    }
    fn add_unbounded(&mut self, direction: &T) {
        if *direction != T::zero() {
            *self += *direction * T::from_f64(f64::INFINITY);
        }
    }
}

macro_rules! unbounded_sequence {
    ($([$($generics:tt)*] $t:ty => $owned:ty, $collect:expr;)*) => {$(
        impl<$($generics)*> Unbounded for $t {
            type Owned = $owned;
            fn has_infinity(&self) -> bool {
                self.iter().any(Unbounded::has_infinity)
            }
            fn finite_part(&self) -> Self::Owned {
                $collect(self, Unbounded::finite_part)
            }
            fn direction(&self) -> Self::Owned {
                $collect(self, Unbounded::direction)
            }
            fn zeros(&self) -> Self::Owned {
                $collect(self, Unbounded::zeros)
            }
            fn add_unbounded(&mut self, direction: &Self) {
                for (t, d) in self.iter_mut().zip(direction.iter()) {
                    t.add_unbounded(d);
                }
            }
        }
    )*};
}

fn array<E: Unbounded, const N: usize>(a: &[E; N], f: impl Fn(&E) -> E::Owned) -> [E::Owned; N] {
    core::array::from_fn(|i| f(&a[i]))
}

fn vec<E: Unbounded>(a: &[E], f: impl Fn(&E) -> E::Owned) -> Vec<E::Owned> {
    a.iter().map(f).collect()
}

unbounded_sequence! {
    [E: Unbounded, const N: usize] [E; N] => [E::Owned; N], array;
    [E: Unbounded] [E] => Vec<E::Owned>, vec;
    [E: Unbounded] Vec<E> => Vec<E::Owned>, vec;
}

/// Whether any element of `value` is ±∞.
///
/// ```
/// # use grad_runtime as grad;
/// assert!(grad::has_infinity(&[1.0, f64::NEG_INFINITY]));
/// assert!(!grad::has_infinity(&f64::NAN));
/// ```
pub fn has_infinity<E: Unbounded + ?Sized>(value: &E) -> bool {
    value.has_infinity()
}

/// `value` with every ±∞ replaced by 0.
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::finite_part(&[2.0, f64::INFINITY]), [2.0, 0.0]);
/// ```
pub fn finite_part<E: Unbounded + ?Sized>(value: &E) -> E::Owned {
    value.finite_part()
}

/// ±1 where `value` is ±∞, 0 elsewhere.
///
/// ```
/// # use grad_runtime as grad;
/// assert_eq!(grad::direction(&vec![2.0, f64::NEG_INFINITY]), vec![0.0, -1.0]);
/// ```
pub fn direction<E: Unbounded + ?Sized>(value: &E) -> E::Owned {
    value.direction()
}

/// Zeros in the shape of `value`.
///
/// ```
/// # use grad_runtime as grad;
/// let w: &[f64] = &[1.0, 2.0];
/// assert_eq!(grad::unbounded_zeros(w), vec![0.0, 0.0]);
/// ```
pub fn unbounded_zeros<E: Unbounded + ?Sized>(value: &E) -> E::Owned {
    value.zeros()
}

/// `target += direction · ∞`, element by element, where `0 · ∞` is 0.
///
/// ```
/// # use grad_runtime as grad;
/// let mut t = [1.0, 2.0];
/// grad::add_unbounded(&mut t, &[0.0, -1.0]);
/// assert_eq!(t, [1.0, f64::NEG_INFINITY]);
/// ```
pub fn add_unbounded<E: Unbounded + ?Sized>(target: &mut E, direction: &impl Borrow<E>) {
    target.add_unbounded(direction.borrow());
}
