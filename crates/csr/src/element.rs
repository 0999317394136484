//! What a matrix stores per entry: a [`Scalar`], or `()` for a pattern matrix.

use crate::Scalar;

mod sealed {
    pub trait Sealed {}
    impl<T: crate::Scalar> Sealed for T {}
    impl Sealed for () {}
}

/// A stored entry value: any [`Scalar`], or `()` for pattern (structure-only) matrices whose
/// values are implicitly one.
///
/// Structural operations (construction, sorting, transposition, duplicate handling) accept
/// any `Element`; numeric ones need a [`Scalar`]. A `Csr<(), I>` (see [`CsrPattern`]) stores
/// no values at all: `Vec<()>` occupies no memory.
///
/// [`CsrPattern`]: crate::CsrPattern
pub trait Element:
    sealed::Sealed
    + Copy
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + PartialEq
    + bytemuck::Zeroable
    + 'static
{
    /// Folds a duplicate entry into `self`: addition for scalars, nothing for patterns.
    #[doc(hidden)]
    fn merge(&mut self, other: Self);
}

impl<T: Scalar> Element for T {
    #[inline]
    fn merge(&mut self, other: Self) {
        *self += other;
    }
}

impl Element for () {
    #[inline]
    fn merge(&mut self, _other: Self) {}
}
