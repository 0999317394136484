//! The inner loops every SpMV strategy shares: one row (or part of a row) times `x`, summed
//! left to right in storage order from zero, without bounds checks.
//!
//! The arrays are a validated [`CsrRef`](crate::CsrRef)'s and `x` was shape-checked by the
//! kernel, so the callers can promise the ranges below.

use crate::{Dense, Index, Scalar};

/// `Σ vals[j] * x[cols[j]]` over `range`, left to right from zero.
///
/// # Safety
/// `range` lies inside `cols` and `vals`, and every `cols[j]` in it is a valid index of `x`
/// (below `ncols <= x.len()`).
#[inline(always)]
pub(super) unsafe fn dot<T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    x: &[T],
    range: std::ops::Range<usize>,
) -> T {
    debug_assert!(range.end <= cols.len() && range.end <= vals.len());
    let mut acc = T::zero();
    for j in range {
        // SAFETY: j < range.end <= cols.len() == vals.len() and cols[j] < ncols <= x.len()
        // (the caller's contract: a validated CSR and a shape-checked x).
        unsafe {
            let c = cols.get_unchecked(j).to_usize();
            acc += *vals.get_unchecked(j) * *x.get_unchecked(c);
        }
    }
    acc
}

/// A row-major block of right-hand sides: row `c` is `values[c * stride..][..k]`.
#[derive(Clone, Copy)]
pub(super) struct Block<'x, T> {
    /// The values, row-major.
    pub values: &'x [T],
    /// Distance between row starts.
    pub stride: usize,
}

impl<'x, T: Scalar> Block<'x, T> {
    /// The block of a dense matrix.
    pub fn of(d: &'x Dense<T>) -> Self {
        let (values, stride) = d.strided();
        Self { values, stride }
    }
}

/// `acc[l] += Σ vals[j] * x[cols[j], l]` over `range`, each `l` left to right; `acc.len()`
/// is the number of right-hand sides `k`. The loop over `l` is contiguous and vectorises.
///
/// # Safety
/// As [`dot`], with every row `cols[j]` of `x` holding `acc.len()` values
/// (`cols[j] * stride + acc.len() <= x.values.len()`).
#[inline(always)]
pub(super) unsafe fn accumulate<T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    x: Block<'_, T>,
    range: std::ops::Range<usize>,
    acc: &mut [T],
) {
    let k = acc.len();
    for j in range {
        // SAFETY: as in `dot`; the row of x has k values (the caller's contract), so the
        // slice stays inside x.values.
        let (v, xr) = unsafe {
            let c = cols.get_unchecked(j).to_usize();
            (
                *vals.get_unchecked(j),
                x.values.get_unchecked(c * x.stride..c * x.stride + k),
            )
        };
        for (a, &xv) in acc.iter_mut().zip(xr) {
            *a += v * xv;
        }
    }
}

/// `alpha * sum + beta * old`, or `alpha * sum` when `beta == 0` (the old value, perhaps
/// NaN, is ignored).
#[inline(always)]
pub(super) fn finish<T: Scalar>(alpha: T, sum: T, beta: T, old: T) -> T {
    if beta == T::zero() {
        alpha * sum
    } else {
        alpha * sum + beta * old
    }
}
