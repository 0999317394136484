//! SpMV and SpMM over contiguous row blocks (the `classical` and `load_balance` strategies):
//! each rayon task owns the matching chunk of `y`, so writes are disjoint. Every row is
//! summed in the reference kernel's order (`scalar::sum_of_products`), so a row's result does
//! not depend on the blocks and equals the reference kernel's bit for bit.

use std::ops::Range;

use rayon::prelude::*;

use super::dot::{Block, accumulate, dot, dot_prefetch, finish, finish_row};
use crate::{CsrRef, Dense, Index, Scalar};

/// `classical`: `parts + 1` boundaries of blocks with equal numbers of rows.
pub(super) fn equal_rows(nrows: usize, parts: usize) -> Vec<usize> {
    let parts = parts.max(1);
    (0..=parts).map(|p| nrows * p / parts).collect()
}

/// Cuts `y` (one slot of `width` values per row) into the blocks' chunks.
pub(super) fn chunks<'y, T>(
    bounds: &[usize],
    width: usize,
    y: &'y mut [T],
) -> Vec<(Range<usize>, &'y mut [T])> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut rest = y;
    for w in bounds.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * width);
        out.push((w[0]..w[1], head));
        rest = tail;
    }
    out
}

/// `y = alpha * A * x + beta * y` on rows `rows` of the matrix `(ptrs, cols, vals)`, `y`
/// holding exactly those rows; with `prefetch`, `x` is asked for ahead of its reads (for
/// scattered columns).
///
/// # Safety
/// `rows.end < ptrs.len()`; `ptrs` is non-decreasing over `rows.start..=rows.end` with
/// `ptrs[rows.end] <= cols.len(), vals.len()`; every column in the rows' entries is below
/// `x.len()`.
unsafe fn vec_rows<T: Scalar, I: Index>(
    arrays: (&[I], &[I], &[T]),
    rows: Range<usize>,
    prefetch: bool,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    // With beta = 0 (the usual call), `y` is only written: a loop of its own never loads
    // its old values (a loop that might need them loads them for every row).
    // SAFETY: forwarded from the caller.
    unsafe {
        if beta == T::zero() {
            vec_rows_with::<true, _, _>(arrays, rows, prefetch, alpha, x, beta, y);
        } else {
            vec_rows_with::<false, _, _>(arrays, rows, prefetch, alpha, x, beta, y);
        }
    }
}

/// [`vec_rows`], with `OVERWRITE` when `beta == 0` (then `y` is not read).
///
/// # Safety
/// As [`vec_rows`].
#[inline(always)]
unsafe fn vec_rows_with<const OVERWRITE: bool, T: Scalar, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    rows: Range<usize>,
    prefetch: bool,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    debug_assert_eq!(rows.len(), y.len());
    for (r, yr) in rows.zip(y.iter_mut()) {
        // SAFETY: r + 1 <= rows.end < ptrs.len(), the row's range lies inside cols and vals
        // and its columns index x (caller).
        let sum = unsafe {
            let range = ptrs.get_unchecked(r).to_usize()..ptrs.get_unchecked(r + 1).to_usize();
            if prefetch {
                dot_prefetch(cols, vals, x, range)
            } else {
                dot(cols, vals, x, range)
            }
        };
        // `finish` with beta = 0 is `alpha * sum`.
        *yr = if OVERWRITE {
            alpha * sum
        } else {
            finish(alpha, sum, beta, *yr)
        };
    }
}

/// `y = alpha * A * x + beta * y` over the row blocks `bounds` (a partition of the rows;
/// one block runs on the calling thread), prefetching `x` with `prefetch`. Shapes already
/// checked.
pub(super) fn mult_vec<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    bounds: &[usize],
    prefetch: bool,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    debug_assert!(x.len() == a.ncols() && y.len() == a.nrows());
    debug_assert!(bounds.first() == Some(&0) && bounds.last() == Some(&a.nrows()));
    let work = |(rows, yc): (Range<usize>, &mut [T])| {
        let arrays = (a.row_ptrs(), a.col_idxs(), a.values());
        // SAFETY: the blocks partition 0..nrows (checked when the plan was made for this
        // matrix), `a` is a validated CsrRef (its columns are below ncols) and
        // x.len() == ncols (checked by the kernel).
        unsafe { vec_rows(arrays, rows, prefetch, alpha, x, beta, yc) }
    };
    let blocks = chunks(bounds, 1, y);
    if blocks.len() <= 1 {
        blocks.into_iter().for_each(work);
    } else {
        blocks.into_par_iter().for_each(work);
    }
}

/// `Y = alpha * A * X + beta * Y` over the row blocks `bounds`, for row-major `X`
/// (`ncols x k`) and `Y` (`nrows x k`), shapes already checked. `Y` is written in place,
/// its stride and padding kept. Column `l` of `Y` equals `mult_vec` of column `l` of `X`
/// bit for bit.
pub(super) fn mult_dense<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    bounds: &[usize],
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) {
    let k = x.ncols();
    if a.nrows() == 0 || k == 0 {
        return;
    }
    let xb = Block::of(x);
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (ys, stride) = y.strided_mut();
    let work = |(rows, yc): (Range<usize>, &mut [T])| {
        let mut acc = vec![T::zero(); k];
        for (r, yr) in rows.zip(yc.chunks_exact_mut(stride)) {
            acc.fill(T::zero());
            // SAFETY: r < nrows (the blocks partition the rows), row_ptrs is a validated
            // CsrRef's, and X has ncols rows of k values (checked by the kernel).
            unsafe {
                let range = ptrs.get_unchecked(r).to_usize()..ptrs.get_unchecked(r + 1).to_usize();
                accumulate(cols, vals, xb, range, &mut acc);
            }
            finish_row(alpha, &acc, beta, &mut yr[..k]);
        }
    };
    let blocks = chunks(bounds, stride, ys);
    if blocks.len() <= 1 {
        blocks.into_iter().for_each(work);
    } else {
        blocks.into_par_iter().for_each(work);
    }
}
