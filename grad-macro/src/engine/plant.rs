//! Known-wrong rules, planted on purpose to prove that the differential harness of
//! `grad-fuzz` catches such bugs. They exist only with the `plant-bugs` feature and act only
//! when `GRAD_PLANT` names one; otherwise [`planted`] is `false` and compiles to nothing.

/// A planted bug.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bug {
    /// `d sin a = −cos a · da`: a sign flipped in one derivative.
    SignFlip,
    /// The second contribution to an adjoint overwrites the first: a dropped fan-out sum.
    FanOut,
    /// The reverse sweep runs loops forwards: taped values come back in the wrong order.
    LoopOrder,
    /// A tie of `max`/`min` goes entirely to the first operand.
    Ties,
    /// The adjoint a loop's next iteration passes back is not made before the reversed body:
    /// a variable updated after its last use loses its dependence (the bug of every Euler
    /// loop, once real).
    LoopCarried,
}

#[cfg(feature = "plant-bugs")]
impl Bug {
    /// Every planted bug, by its `GRAD_PLANT` name.
    pub const ALL: [(Bug, &'static str); 5] = [
        (Bug::SignFlip, "sign-flip"),
        (Bug::FanOut, "fan-out"),
        (Bug::LoopOrder, "loop-order"),
        (Bug::Ties, "ties"),
        (Bug::LoopCarried, "loop-carried"),
    ];
}

/// Whether `bug` is planted in this expansion.
#[cfg(feature = "plant-bugs")]
pub fn planted(bug: Bug) -> bool {
    std::env::var("GRAD_PLANT").is_ok_and(|v| Bug::ALL.iter().any(|(b, n)| *b == bug && v == *n))
}

/// Whether `bug` is planted in this expansion: never, without the `plant-bugs` feature.
#[cfg(not(feature = "plant-bugs"))]
pub fn planted(_bug: Bug) -> bool {
    false
}
