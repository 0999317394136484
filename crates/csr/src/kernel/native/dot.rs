//! The inner loops every SpMV strategy shares: one row (or part of a row) times `x`, summed
//! in the order of [`sum_of_products`] (left to right from zero; long rows in eight
//! interleaved partial sums), without bounds checks.
//!
//! The arrays are a validated [`CsrRef`](crate::CsrRef)'s and `x` was shape-checked by the
//! kernel, so the callers can promise the ranges below.

use crate::scalar::{SUM_LANES_MIN, sum_of_products};
use crate::{Dense, Index, Scalar};

/// `Σ vals[j] * x[cols[j]]` over `range`, in the order of [`sum_of_products`].
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
    // SAFETY: the caller's contract.
    unsafe { dot_with::<false, T, I>(cols, vals, x, range) }
}

/// [`dot`] that also asks for the entry of `x` that the entry [`PREFETCH_ENTRIES`] ahead
/// will read (the column indices are read sequentially anyway; the matching `x` entry may
/// be anywhere). For scattered columns, whose `x` reads are cache misses: asked early, more
/// of them are in flight at once.
///
/// # Safety
/// As [`dot`].
#[inline(always)]
pub(super) unsafe fn dot_prefetch<T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    x: &[T],
    range: std::ops::Range<usize>,
) -> T {
    // SAFETY: the caller's contract.
    unsafe { dot_with::<true, T, I>(cols, vals, x, range) }
}

/// [`dot`], prefetching `x` ahead when `AHEAD` (a constant, so each caller gets its own loop
/// without the test).
///
/// # Safety
/// As [`dot`].
#[inline(always)]
unsafe fn dot_with<const AHEAD: bool, T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    x: &[T],
    range: std::ops::Range<usize>,
) -> T {
    debug_assert!(range.end <= cols.len() && range.end <= vals.len());
    let ahead = cols.len().saturating_sub(PREFETCH_ENTRIES);
    sum_of_products(range.len(), |i| {
        let j = range.start + i;
        // SAFETY: j < range.end <= cols.len() == vals.len() and cols[j] < ncols <= x.len()
        // (the caller's contract: a validated CSR and a shape-checked x); the entry ahead is
        // read only when it exists (j < ahead), and a prefetch of any address is harmless.
        unsafe {
            if AHEAD && j < ahead {
                let c = cols.get_unchecked(j + PREFETCH_ENTRIES).to_usize();
                prefetch(x.as_ptr().wrapping_add(c));
            }
            let c = cols.get_unchecked(j).to_usize();
            *vals.get_unchecked(j) * *x.get_unchecked(c)
        }
    })
}

/// How far ahead [`dot_prefetch`] asks for `x`, in entries.
pub(super) const PREFETCH_ENTRIES: usize = 24;

/// Asks for the cache line holding `p` into the L1 cache (`p` may lie outside its array: a
/// prefetch never faults and reads nothing into registers).
#[inline(always)]
pub(super) fn prefetch<T>(p: *const T) {
    prefetch_with::<3, T>(p);
}

/// Asks for the cache line holding `p` into the L2 cache (as [`prefetch`]).
#[inline(always)]
pub(super) fn prefetch_l2<T>(p: *const T) {
    prefetch_with::<2, T>(p);
}

/// `prefetcht0` (`HINT` 3, `_MM_HINT_T0`) or `prefetcht1` (2, `_MM_HINT_T1`) of `p`; nothing
/// off x86-64.
#[inline(always)]
fn prefetch_with<const HINT: i32, T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0/1` are hints (SSE, part of x86-64): they have no effect on memory
    // and cannot fault, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<HINT>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(target_arch = "x86_64")]
const _: () = assert!(
    core::arch::x86_64::_MM_HINT_T0 == 3 && core::arch::x86_64::_MM_HINT_T1 == 2,
    "prefetch hints"
);

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

/// `acc[l] += Σ vals[j] * x[cols[j], l]` over `range`, the sum for each `l` in the order of
/// [`sum_of_products`] (so a whole row from a zero `acc` equals [`dot`] of column `l`);
/// `acc.len()` is the number of right-hand sides `k`. Short ranges add entry by entry,
/// the loop over `l` contiguous (it vectorises); long ones sum each `l` on its own.
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
    if range.len() >= SUM_LANES_MIN {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += sum_of_products(range.len(), |i| {
                let j = range.start + i;
                // SAFETY: as below; l < k, so the value lies in row cols[j] of x.
                unsafe {
                    let c = cols.get_unchecked(j).to_usize();
                    *vals.get_unchecked(j) * *x.values.get_unchecked(c * x.stride + l)
                }
            });
        }
        return;
    }
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

pub(super) use crate::scalar::finish;

/// `y[l] = finish(alpha, sums[l], beta, y[l])` for one row of `k` right-hand sides.
#[inline]
pub(super) fn finish_row<T: Scalar>(alpha: T, sums: &[T], beta: T, y: &mut [T]) {
    for (o, &s) in y.iter_mut().zip(sums) {
        *o = finish(alpha, s, beta, *o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_changes_no_bit() {
        // Scattered columns over a long x, rows of every length around the prefetch distance.
        let n: usize = 100_000;
        let cols: Vec<i32> = (0..5000).map(|k| ((k * 7919 + 13) % n) as i32).collect();
        let vals: Vec<f64> = (0..5000).map(|k| (k as f64 * 0.37).sin()).collect();
        let x: Vec<f64> = (0..n).map(|j| 1.0 / (1.0 + j as f64)).collect();
        let mut start = 0;
        for len in [
            0,
            1,
            PREFETCH_ENTRIES - 1,
            PREFETCH_ENTRIES,
            PREFETCH_ENTRIES + 1,
            300,
        ] {
            for range in [start..start + len, 5000 - len..5000] {
                // SAFETY: ranges inside cols/vals, columns below n = x.len().
                let (plain, ahead) = unsafe {
                    (
                        dot(&cols, &vals, &x, range.clone()),
                        dot_prefetch(&cols, &vals, &x, range),
                    )
                };
                assert_eq!(plain.to_bits(), ahead.to_bits());
            }
            start += len;
        }
    }
}
