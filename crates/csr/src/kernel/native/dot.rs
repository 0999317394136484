//! The inner loops every SpMV strategy shares: one row (or part of a row) times `x`, summed
//! in the order of [`sum_of_products`] (left to right from zero; long rows in eight
//! interleaved partial sums), without bounds checks.
//!
//! The arrays are a validated [`CsrRef`](crate::CsrRef)'s and `x` was shape-checked by the
//! kernel, so the callers can promise the ranges below.

use std::mem::MaybeUninit;

use super::stream::Streaming;
use crate::scalar::{SUM_LANES, SUM_LANES_MIN, combine_lanes, sum_of_products};
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
/// `acc.len()` is the number of right-hand sides `k`. The loops over `l` are contiguous and
/// vectorise.
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
    let entry = |j: usize, from: usize, to: usize| {
        // SAFETY: every j passed lies in `range`, so j < range.end <= cols.len() ==
        // vals.len(); from <= to <= k and row cols[j] of x holds k values (the caller's
        // contract), so the slice lies inside x.values.
        unsafe {
            let c = cols.get_unchecked(j).to_usize();
            (
                *vals.get_unchecked(j),
                x.values
                    .get_unchecked(c * x.stride + from..c * x.stride + to),
            )
        }
    };
    if range.len() >= SUM_LANES_MIN {
        let whole = range.start + range.len() / SUM_LANES * SUM_LANES;
        // Column c0 + c of acc gains its combined partial sums, then the tail entries.
        let add = |acc: &mut [T], c0: usize, sums: &[[T; SUM_LANES]]| {
            for (c, (a, lanes)) in acc.iter_mut().zip(sums).enumerate() {
                let mut sum = combine_lanes(*lanes);
                for j in whole..range.end {
                    let (v, xr) = entry(j, c0 + c, c0 + c + 1);
                    sum += v * xr[0];
                }
                *a += sum;
            }
        };
        let mut c0 = 0;
        while c0 < k {
            if k - c0 >= LANE_COLS {
                let sums =
                    lane_sums::<LANE_COLS, T>(range.start..whole, |j| entry(j, c0, c0 + LANE_COLS));
                add(&mut acc[c0..c0 + LANE_COLS], c0, &sums);
                c0 += LANE_COLS;
            } else {
                let sums = lane_sums::<1, T>(range.start..whole, |j| entry(j, c0, c0 + 1));
                add(&mut acc[c0..=c0], c0, &sums);
                c0 += 1;
            }
        }
        return;
    }
    for j in range {
        let (v, xr) = entry(j, 0, k);
        for (a, &xv) in acc.iter_mut().zip(xr) {
            *a += v * xv;
        }
    }
}

/// Columns of `X` whose partial sums [`accumulate`] keeps at once on long rows.
const LANE_COLS: usize = 8;

/// The [`SUM_LANES`] partial sums of `W` columns over `whole` (a multiple of `SUM_LANES`
/// entries): `entry(j)` gives entry `j`'s value and its `W` values of `x`. Returned per
/// column.
#[inline(always)]
fn lane_sums<'x, const W: usize, T: Scalar + 'x>(
    whole: std::ops::Range<usize>,
    entry: impl Fn(usize) -> (T, &'x [T]),
) -> [[T; SUM_LANES]; W] {
    let mut lanes = [[T::zero(); W]; SUM_LANES];
    for j0 in whole.step_by(SUM_LANES) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            let (v, xr) = entry(j0 + l);
            for (s, &xv) in lane.iter_mut().zip(&xr[..W]) {
                *s += v * xv;
            }
        }
    }
    std::array::from_fn(|c| std::array::from_fn(|l| lanes[l][c]))
}

pub(super) use crate::scalar::finish;

/// How a row's sum is written into `y` (`y = alpha * sum + beta * y`, the rule of
/// [`finish`]): with `beta = 0` the old value is never read (a loop that only writes `y`
/// does not load it), and may be stored past the cache ([`Streaming`]); otherwise it is
/// read and combined.
#[derive(Clone, Copy)]
pub(super) struct Out<'s, T> {
    alpha: T,
    /// `None` for `beta = 0`.
    beta: Option<T>,
    /// Streaming stores, used only with `beta = 0`.
    stream: Option<&'s Streaming>,
}

impl<'s, T: Scalar> Out<'s, T> {
    /// The writer of `alpha * sum + beta * y`, streaming with `stream` when `beta = 0`.
    pub(super) fn new(alpha: T, beta: T, stream: Option<&'s Streaming>) -> Self {
        let overwrite = beta == T::zero();
        Self {
            alpha,
            beta: (!overwrite).then_some(beta),
            stream: stream.filter(|_| overwrite),
        }
    }

    /// Writes row sum `sum` into `*y`.
    #[inline(always)]
    pub(super) fn write(self, sum: T, y: &mut T) {
        // SAFETY: `y` is initialised, and `write_slot` writes only initialised values.
        unsafe { self.write_slot(sum, slot(y)) };
    }

    /// Writes row sum `sum` into `*y`, which may be uninitialised where `beta = 0` (the old
    /// value is read only otherwise).
    ///
    /// # Safety
    /// Unless `beta = 0`, `*y` is initialised (the slots then come from a `&mut [T]`:
    /// [`slots`]).
    #[inline(always)]
    pub(super) unsafe fn write_slot(self, sum: T, y: &mut MaybeUninit<T>) {
        match (self.beta, self.stream) {
            // SAFETY: a `&mut` is valid for writes and aligned.
            (None, Some(streaming)) => unsafe { streaming.store(y.as_mut_ptr(), self.alpha * sum) },
            // `finish` with beta = 0.
            (None, None) => {
                y.write(self.alpha * sum);
            }
            (Some(beta), _) => {
                // SAFETY: beta != 0, so `*y` is initialised (the caller).
                let old = unsafe { y.assume_init_read() };
                y.write(finish(self.alpha, sum, beta, old));
            }
        }
    }
}

/// `y` as a slot that may be left uninitialised.
///
/// # Safety
/// Only initialised values may be written through the result (`y` stays a valid `T`).
#[inline(always)]
unsafe fn slot<T>(y: &mut T) -> &mut MaybeUninit<T> {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`; the caller writes only valid `T`s.
    unsafe { &mut *std::ptr::from_mut(y).cast::<MaybeUninit<T>>() }
}

/// [`slot`] for a whole slice: `y` as slots for the row loops, which write only
/// initialised values ([`Out::write_slot`]) and read them only with `beta != 0`.
///
/// # Safety
/// As for [`slot`].
#[inline(always)]
pub(super) unsafe fn slots<T>(y: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: as for `slot`, element by element (same length, same layout).
    unsafe { &mut *(std::ptr::from_mut(y) as *mut [MaybeUninit<T>]) }
}

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
    fn each_column_of_a_block_sums_like_dot() {
        // Rows of every length around the lane threshold, k around the lane-column chunk,
        // real values whose sums round (so a different order shows in the bits).
        let n: usize = 1000;
        let cols: Vec<i32> = (0..200).map(|k| ((k * 7919 + 13) % n) as i32).collect();
        let vals: Vec<f64> = (0..200).map(|k| (k as f64 * 0.37).sin() * 1e3).collect();
        for k in [1, 3, LANE_COLS, LANE_COLS + 1, 2 * LANE_COLS + 3] {
            let values: Vec<f64> = (0..n * k).map(|i| 1.0 / (1.0 + i as f64).sqrt()).collect();
            let x = Block {
                values: &values,
                stride: k,
            };
            for len in [0, 7, 15, 16, 17, 23, 24, 31, 200] {
                let mut acc = vec![0.0; k];
                // SAFETY: the range lies inside cols/vals, columns are below n, and every
                // row of x holds k values.
                unsafe { accumulate(&cols, &vals, x, 0..len, &mut acc) };
                for (l, a) in acc.iter().enumerate() {
                    let column: Vec<f64> = (0..n).map(|c| values[c * k + l]).collect();
                    // SAFETY: as above, x of n values.
                    let want = unsafe { dot(&cols, &vals, &column, 0..len) };
                    assert_eq!(
                        a.to_bits(),
                        want.to_bits(),
                        "k {k}, length {len}, column {l}"
                    );
                }
            }
        }
    }

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
