//! Tapes: where the forward sweep of a loop keeps the values its reverse sweep needs.
//!
//! `#[derive_grad]` tapes only a value the reverse sweep needs that the loop overwrites (a
//! `mut` variable, an element of a mutable array, a value merged after a branch). Each such
//! value has its own tape: the forward sweep pushes it once per iteration, the reverse sweep
//! pops it once per iteration, so the last value pushed is the first popped.

/// A tape on the heap, reserved once for the iterations known in advance.
///
/// ```
/// # use grad_runtime as grad;
/// let mut tape = grad::Tape::with_capacity(3);
/// for v in [1.0, 2.0, 3.0] {
///     tape.push(v);
/// }
/// assert_eq!((tape.pop(), tape.pop(), tape.pop()), (3.0, 2.0, 1.0));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tape<T> {
    values: Vec<T>,
}

impl<T> Tape<T> {
    /// An empty tape with room for `capacity` values.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Tape<T> {
        Tape {
            values: Vec::with_capacity(capacity),
        }
    }

    /// Saves a value.
    pub fn push(&mut self, value: T) {
        self.values.push(value);
    }

    /// The last value saved, removed.
    ///
    /// # Panics
    ///
    /// If the tape is empty: generated code pops exactly what it pushed, so this is a bug in
    /// `#[derive_grad]`.
    pub fn pop(&mut self) -> T {
        match self.values.pop() {
            Some(value) => value,
            None => underflow(),
        }
    }

    /// How many values are saved.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` when no value is saved.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A tape on the stack, for loops whose trip counts are constants: no allocation.
///
/// ```
/// # use grad_runtime as grad;
/// let mut tape = grad::StackTape::<f64, 4>::new();
/// tape.push(1.5);
/// tape.push(2.5);
/// assert_eq!(tape.pop(), 2.5);
/// assert_eq!(tape.pop(), 1.5);
/// ```
#[derive(Clone, Debug)]
pub struct StackTape<T, const N: usize> {
    values: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> StackTape<T, N> {
    /// An empty tape.
    #[must_use]
    pub fn new() -> StackTape<T, N> {
        StackTape {
            values: [T::default(); N],
            len: 0,
        }
    }

    /// Saves a value.
    ///
    /// # Panics
    ///
    /// If more than `N` values are pushed: a bug in `#[derive_grad]`.
    pub fn push(&mut self, value: T) {
        match self.values.get_mut(self.len) {
            Some(slot) => *slot = value,
            None => overflow(),
        }
        self.len += 1;
    }

    /// The last value saved, removed.
    ///
    /// # Panics
    ///
    /// If the tape is empty: a bug in `#[derive_grad]`.
    pub fn pop(&mut self) -> T {
        if self.len == 0 {
            underflow();
        }
        self.len -= 1;
        self.values[self.len]
    }
}

impl<T: Copy + Default, const N: usize> Default for StackTape<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cold]
fn underflow() -> ! {
    panic!(
        "grad tape underflow: the reverse sweep popped more than it pushed (a bug in #[derive_grad])"
    )
}

#[cold]
fn overflow() -> ! {
    panic!(
        "grad tape overflow: more iterations than the constant trip count (a bug in #[derive_grad])"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tapes_are_last_in_first_out() {
        let mut heap = Tape::with_capacity(1);
        let mut stack = StackTape::<u32, 3>::new();
        for v in 0..3 {
            heap.push(v);
            stack.push(v);
        }
        assert_eq!(heap.len(), 3);
        for v in (0..3).rev() {
            assert_eq!((heap.pop(), stack.pop()), (v, v));
        }
        assert!(heap.is_empty());
    }

    #[test]
    #[should_panic(expected = "underflow")]
    fn popping_an_empty_tape_is_a_loud_bug() {
        Tape::<f64>::default().pop();
    }

    #[test]
    #[should_panic(expected = "overflow")]
    fn overfilling_a_stack_tape_is_a_loud_bug() {
        let mut t = StackTape::<f64, 1>::new();
        t.push(1.0);
        t.push(2.0);
    }
}
