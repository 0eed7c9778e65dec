//! Tapes: where the forward sweep of a loop keeps the values its reverse sweep needs.
//!
//! `#[derive_grad]` tapes only a value the reverse sweep needs that the loop overwrites (a
//! `mut` variable, an element of a mutable array, a value merged after a branch). Each such
//! value has its own tape: the forward sweep pushes it once per iteration, the reverse sweep
//! pops it once per iteration, so the last value pushed is the first popped. Popping reads
//! without forgetting: [`Tape::rewind`] lets the next reverse sweep of a Jacobian (one per
//! output, after a single forward sweep) read the same values again.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

/// A tape on the heap, reserved once for the iterations known in advance.
///
/// A dropped tape leaves its buffer to the next tape of the same thread and element type (at
/// most [`SPARE_BUFFERS`] buffers per type, of at most [`SPARE_VALUES`] values each), so a
/// gradient called again and again allocates its tapes once, not on every call.
///
/// ```
/// # use grad_runtime as grad;
/// let mut tape = grad::Tape::with_capacity(3);
/// for v in [1.0, 2.0, 3.0] {
///     tape.push(v);
/// }
/// assert_eq!((tape.pop(), tape.pop(), tape.pop()), (3.0, 2.0, 1.0));
/// tape.rewind();
/// assert_eq!(tape.pop(), 3.0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tape<T: 'static> {
    values: Vec<T>,
    /// How many values are still to be popped.
    unread: usize,
}

/// How many dropped tape buffers a thread keeps per element type.
pub const SPARE_BUFFERS: usize = 16;

/// The largest dropped tape buffer a thread keeps, in values.
pub const SPARE_VALUES: usize = 1 << 22;

thread_local! {
    /// Buffers of dropped tapes, by element type (each a `Vec<Vec<T>>`), emptied.
    static SPARE: RefCell<HashMap<TypeId, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

impl<T: Clone + 'static> Tape<T> {
    /// An empty tape with room for `capacity` values: a count of any integer type (a loop's
    /// bound as the user wrote it), none where it is negative.
    #[must_use]
    pub fn with_capacity(capacity: impl TryInto<usize>) -> Tape<T> {
        let capacity = capacity.try_into().unwrap_or(0);
        let spare = SPARE
            .try_with(|spare| {
                let mut spare = spare.borrow_mut();
                let list = spare
                    .get_mut(&TypeId::of::<T>())?
                    .downcast_mut::<Vec<Vec<T>>>()?;
                let largest = (0..list.len()).max_by_key(|&i| list[i].capacity())?;
                Some(list.swap_remove(largest))
            })
            .ok()
            .flatten();
        let mut values = spare.unwrap_or_default();
        values.reserve(capacity);
        Tape { values, unread: 0 }
    }

    /// Saves a value.
    pub fn push(&mut self, value: T) {
        self.values.push(value);
        self.unread = self.values.len();
    }

    /// The last value saved that has not been popped since the last push or rewind.
    ///
    /// # Panics
    ///
    /// If every value has been popped: generated code pops exactly what it pushed, so this is
    /// a bug in `#[derive_grad]`.
    pub fn pop(&mut self) -> T {
        if self.unread == 0 {
            underflow();
        }
        self.unread -= 1;
        self.values[self.unread].clone()
    }

    /// Makes every saved value available to pop again, last saved first.
    pub fn rewind(&mut self) {
        self.unread = self.values.len();
    }

    /// How many values are left to pop.
    #[must_use]
    pub fn len(&self) -> usize {
        self.unread
    }

    /// `true` when no value is left to pop.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.unread == 0
    }
}

impl<T: 'static> Drop for Tape<T> {
    fn drop(&mut self) {
        let mut values = std::mem::take(&mut self.values);
        if values.capacity() == 0 || values.capacity() > SPARE_VALUES {
            return;
        }
        values.clear();
        // During the thread's teardown the spares are gone: the buffer is simply freed.
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let entry = spare
                .entry(TypeId::of::<T>())
                .or_insert_with(|| Box::new(Vec::<Vec<T>>::new()));
            if let Some(list) = entry.downcast_mut::<Vec<Vec<T>>>()
                && list.len() < SPARE_BUFFERS
            {
                list.push(values);
            }
        });
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
/// tape.rewind();
/// assert_eq!(tape.pop(), 2.5);
/// ```
#[derive(Clone, Debug)]
pub struct StackTape<T, const N: usize> {
    values: [T; N],
    len: usize,
    unread: usize,
}

impl<T: Copy + Default, const N: usize> StackTape<T, N> {
    /// An empty tape.
    #[must_use]
    pub fn new() -> StackTape<T, N> {
        StackTape {
            values: [T::default(); N],
            len: 0,
            unread: 0,
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
        self.unread = self.len;
    }

    /// The last value saved that has not been popped since the last push or rewind.
    ///
    /// # Panics
    ///
    /// If every value has been popped: a bug in `#[derive_grad]`.
    pub fn pop(&mut self) -> T {
        if self.unread == 0 {
            underflow();
        }
        self.unread -= 1;
        self.values[self.unread]
    }

    /// Makes every saved value available to pop again, last saved first.
    pub fn rewind(&mut self) {
        self.unread = self.len;
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
    fn rewound_tapes_replay_the_same_values() {
        let mut heap = Tape::with_capacity(2);
        let mut stack = StackTape::<u32, 2>::new();
        for v in [4, 5] {
            heap.push(v);
            stack.push(v);
        }
        for _ in 0..3 {
            assert_eq!([heap.pop(), heap.pop()], [5, 4]);
            assert_eq!([stack.pop(), stack.pop()], [5, 4]);
            heap.rewind();
            stack.rewind();
        }
        assert_eq!(heap.len(), 2);
    }

    #[test]
    #[should_panic(expected = "underflow")]
    fn popping_an_empty_tape_is_a_loud_bug() {
        Tape::<f64>::default().pop();
    }

    #[test]
    #[should_panic(expected = "underflow")]
    fn popping_past_the_first_value_is_a_loud_bug() {
        let mut t = StackTape::<f64, 2>::new();
        t.push(1.0);
        t.pop();
        t.pop();
    }

    #[test]
    #[should_panic(expected = "overflow")]
    fn overfilling_a_stack_tape_is_a_loud_bug() {
        let mut t = StackTape::<f64, 1>::new();
        t.push(1.0);
        t.push(2.0);
    }

    #[test]
    fn a_dropped_tape_leaves_its_buffer_to_the_next_one() {
        let mut tape = Tape::<u16>::with_capacity(1000);
        tape.push(7);
        drop(tape);
        let mut next = Tape::<u16>::with_capacity(10);
        assert!(next.values.capacity() >= 1000);
        assert!(next.is_empty(), "the buffer comes back empty");
        next.push(1);
        assert_eq!(next.pop(), 1);
    }
}
