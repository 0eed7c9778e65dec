//! Optimisations, all IEEE-exact.

pub mod dce;
pub mod fold;
pub mod fuse;
pub mod jam;
