//! The integer types used for row pointers and column indices.
//!
//! [`Index`] is sealed and implemented for `i32`, `i64`, `u32` and `usize`. Every conversion
//! between an index and `usize` goes through its named methods; this module is the only place
//! with integer `as` casts.

use std::fmt::{Debug, Display};
use std::hash::Hash;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for u32 {}
    impl Sealed for usize {}
}

/// An index type for row pointers and column indices: `i32`, `i64`, `u32` or `usize`.
///
/// Matrices check once, when they are built, that their sizes and every stored index fit
/// the type and are non-negative; algorithms then convert with [`Index::to_usize`] freely.
///
/// # Examples
///
/// ```
/// use csr::Index;
///
/// assert_eq!(<i32 as Index>::try_from_usize(7), Some(7));
/// assert_eq!(<i32 as Index>::try_from_usize(1 << 40), None);
/// assert_eq!((-1_i64).try_to_usize(), None);
/// ```
pub trait Index:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + Ord
    + Eq
    + Hash
    + bytemuck::Pod
    + 'static
{
    /// The type's name as used in messages (`"i32"`).
    const NAME: &'static str;

    /// The largest count this type can hold, as a `usize`.
    const MAX_USIZE: usize;

    /// Zero.
    const ZERO: Self;

    /// Converts an index already known to be non-negative and in range (e.g. a validated
    /// column index). A negative value gives an unspecified (but not undefined) result.
    #[must_use]
    fn to_usize(self) -> usize;

    /// Converts to `usize`, or `None` if the value is negative.
    #[must_use]
    fn try_to_usize(self) -> Option<usize>;

    /// Converts from `usize`, or `None` if it does not fit.
    #[must_use]
    fn try_from_usize(n: usize) -> Option<Self>;

    /// Converts a `usize` the caller has already checked against [`Index::MAX_USIZE`];
    /// a larger value wraps (unspecified, not undefined).
    #[must_use]
    fn truncate(n: usize) -> Self;

    /// The value widened to `i128`, for messages that must show it exactly (even negative).
    #[must_use]
    fn to_i128(self) -> i128;

    /// Whether some index of `idx` is negative or at least `bound`: one branch-free pass
    /// that the compiler vectorises (checking a block of column indices before a loop that
    /// reads them unchecked).
    #[must_use]
    fn any_outside(idx: &[Self], bound: usize) -> bool;
}

macro_rules! impl_index {
    ($t:ty, $unsigned:ty, $name:literal) => {
        impl Index for $t {
            const NAME: &'static str = $name;
            const MAX_USIZE: usize = if (<$t>::MAX as u128) < (usize::MAX as u128) {
                <$t>::MAX as usize
            } else {
                usize::MAX
            };
            const ZERO: Self = 0;
            #[inline(always)]
            fn to_usize(self) -> usize {
                debug_assert!(self.try_to_usize().is_some(), "negative index {self}");
                self as usize
            }
            #[inline]
            fn try_to_usize(self) -> Option<usize> {
                usize::try_from(self).ok()
            }
            #[inline]
            fn try_from_usize(n: usize) -> Option<Self> {
                <$t>::try_from(n).ok()
            }
            #[inline(always)]
            fn truncate(n: usize) -> Self {
                debug_assert!(n <= Self::MAX_USIZE, "{n} does not fit {}", $name);
                n as $t
            }
            #[inline]
            fn to_i128(self) -> i128 {
                self as i128
            }
            #[inline]
            fn any_outside(idx: &[Self], bound: usize) -> bool {
                let Some(last) = bound.checked_sub(1) else {
                    return !idx.is_empty();
                };
                // Read as the unsigned type of its width, a negative index is at least
                // 2^(bits - 1), above every valid one (<= MAX_USIZE): one unsigned compare
                // with the last valid index checks both ends.
                let last = last.min(Self::MAX_USIZE) as $unsigned;
                idx.iter()
                    .fold(false, |bad, &c| bad | (c as $unsigned > last))
            }
        }
    };
}

impl_index!(i32, u32, "i32");
impl_index!(i64, u64, "i64");
impl_index!(u32, u32, "u32");
impl_index!(usize, usize, "usize");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_usize_is_the_type_maximum() {
        assert_eq!(<i32 as Index>::MAX_USIZE, i32::MAX as usize);
        assert_eq!(<u32 as Index>::MAX_USIZE, u32::MAX as usize);
        assert_eq!(<i64 as Index>::MAX_USIZE, i64::MAX as usize);
        assert_eq!(<usize as Index>::MAX_USIZE, usize::MAX);
    }

    #[test]
    fn any_outside_finds_negative_and_too_large_indices() {
        assert!(!<i32 as Index>::any_outside(&[0, 3, 4], 5));
        assert!(<i32 as Index>::any_outside(&[0, 5, 4], 5));
        assert!(<i32 as Index>::any_outside(&[0, -1], 5));
        assert!(<i32 as Index>::any_outside(&[i32::MIN], usize::MAX));
        assert!(!<i32 as Index>::any_outside(&[i32::MAX], usize::MAX));
        assert!(<i64 as Index>::any_outside(&[-7], 1 << 40));
        assert!(!<i64 as Index>::any_outside(&[(1 << 40) - 1], 1 << 40));
        assert!(!<u32 as Index>::any_outside(&[u32::MAX], usize::MAX));
        assert!(<usize as Index>::any_outside(&[9], 9));
        assert!(<i32 as Index>::any_outside(&[0], 0));
        assert!(!<i32 as Index>::any_outside(&[], 0));
    }

    #[test]
    fn conversions_refuse_what_does_not_fit() {
        assert_eq!(<i32 as Index>::try_from_usize(i32::MAX as usize + 1), None);
        assert_eq!((-5_i32).try_to_usize(), None);
        assert_eq!((-5_i32).to_i128(), -5);
        assert_eq!(
            <u32 as Index>::try_from_usize(4_000_000_000),
            Some(4_000_000_000)
        );
    }
}
