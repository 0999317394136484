//! Row-parallel SpMV (`y = αAx + βy`) and SpMM with a dense block of right-hand sides.
//!
//! Rows are split into contiguous blocks of about equal work (nnz + rows), computed once when
//! the handle is made ([`row_blocks`]); each rayon task owns the matching chunk of `y`, so the
//! writes are disjoint and safe. Every row is summed left to right in storage order, so a
//! row's result does not depend on the partition or the thread count and equals the
//! reference kernel's bit for bit.

use rayon::prelude::*;

use crate::parallel::{balanced_row_blocks, piece_count};
use crate::{CsrRef, Dense, Index, Scalar};

/// The SpMV partition of `a`: `parts + 1` row boundaries, one block per rayon thread of the
/// current pool, a single block when the matrix is small (see [`piece_count`]).
pub(super) fn row_blocks<T, I: Index>(a: CsrRef<'_, T, I>) -> Vec<usize>
where
    T: crate::Element,
{
    balanced_row_blocks(a.row_ptrs(), piece_count(a.nnz() + a.nrows()))
}

/// Whether `blocks` is a partition of `0..nrows` (it may be stale after a mutation).
fn is_partition(blocks: &[usize], nrows: usize) -> bool {
    blocks.len() >= 2 && blocks[0] == 0 && blocks[blocks.len() - 1] == nrows
}

/// The dot product of row `r` of `a` with `x`, summed left to right from zero.
///
/// # Safety
/// `r < a.nrows()` and `x.len() >= a.ncols()`.
#[inline(always)]
unsafe fn row_dot<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, r: usize, x: &[T]) -> T {
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    // SAFETY: r < nrows (caller), and row_ptrs has nrows + 1 entries (CsrRef invariant,
    // checked by its constructors; fields are private and never mutated).
    let (start, end) = unsafe {
        (
            ptrs.get_unchecked(r).to_usize(),
            ptrs.get_unchecked(r + 1).to_usize(),
        )
    };
    let mut acc = T::zero();
    for j in start..end {
        // SAFETY: row_ptrs is non-decreasing and ends at nnz == col_idxs.len() ==
        // values.len(), so j < nnz; every column index is < ncols <= x.len() (CsrRef
        // invariants checked at construction, caller's contract on x).
        unsafe {
            let c = cols.get_unchecked(j).to_usize();
            acc += *vals.get_unchecked(j) * *x.get_unchecked(c);
        }
    }
    acc
}

/// `y = alpha * A * x + beta * y` on the rows `rows` of `a`, `y` holding exactly those rows.
/// With `beta == 0` the old `y` is not read.
fn mult_vec_rows<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    rows: std::ops::Range<usize>,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    debug_assert_eq!(rows.len(), y.len());
    debug_assert!(rows.end <= a.nrows() && x.len() == a.ncols());
    if beta == T::zero() {
        for (r, yr) in rows.zip(y.iter_mut()) {
            // SAFETY: r < rows.end <= nrows and x.len() == ncols (checked by mult_vec).
            *yr = alpha * unsafe { row_dot(a, r, x) };
        }
    } else {
        for (r, yr) in rows.zip(y.iter_mut()) {
            // SAFETY: as above.
            *yr = alpha * unsafe { row_dot(a, r, x) } + beta * *yr;
        }
    }
}

/// `y = alpha * A * x + beta * y`, shapes already checked (`x.len() == ncols`,
/// `y.len() == nrows`), parallel over `blocks` (recomputed if stale).
pub(super) fn mult_vec<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    blocks: &[usize],
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    let fresh;
    let blocks = if is_partition(blocks, a.nrows()) {
        blocks
    } else {
        fresh = row_blocks(a);
        &fresh
    };
    if blocks.len() <= 2 {
        mult_vec_rows(a, 0..a.nrows(), alpha, x, beta, y);
        return;
    }
    let mut chunks = Vec::with_capacity(blocks.len() - 1);
    let mut rest = y;
    for w in blocks.windows(2) {
        let (head, tail) = rest.split_at_mut(w[1] - w[0]);
        chunks.push((w[0]..w[1], head));
        rest = tail;
    }
    chunks
        .into_par_iter()
        .for_each(|(rows, yc)| mult_vec_rows(a, rows, alpha, x, beta, yc));
}

/// `Y = alpha * A * X + beta * Y` for row-major dense `X` (`ncols x k`) and `Y`
/// (`nrows x k`), shapes already checked. Each row of `Y` accumulates its `k` values left to
/// right over the row's entries, so column `j` of `Y` equals `mult_vec` of column `j` of `X`.
pub(super) fn mult_dense<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    blocks: &[usize],
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) {
    let (nrows, k) = (a.nrows(), x.ncols());
    if nrows == 0 || k == 0 {
        return;
    }
    let fresh;
    let blocks = if is_partition(blocks, nrows) {
        blocks
    } else {
        fresh = row_blocks(a);
        &fresh
    };
    // `Dense` exposes rows, not its storage, so the result is built in a new row-major
    // array (each block writes its own rows) and then replaces `y`.
    let mut out = vec![T::zero(); nrows * k];
    let old: &Dense<T> = y;
    let mut chunks = Vec::with_capacity(blocks.len() - 1);
    let mut rest = out.as_mut_slice();
    for w in blocks.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * k);
        chunks.push((w[0]..w[1], head));
        rest = tail;
    }
    let work = |(rows, yc): (std::ops::Range<usize>, &mut [T])| {
        let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
        for (r, yr) in rows.zip(yc.chunks_exact_mut(k)) {
            // yr starts at zero: accumulate the row's entries left to right.
            for j in ptrs[r].to_usize()..ptrs[r + 1].to_usize() {
                let (c, v) = (cols[j].to_usize(), vals[j]);
                for (acc, &xv) in yr.iter_mut().zip(x.row(c)) {
                    *acc += v * xv;
                }
            }
            if beta == T::zero() {
                yr.iter_mut().for_each(|acc| *acc = alpha * *acc);
            } else {
                for (acc, &yv) in yr.iter_mut().zip(old.row(r)) {
                    *acc = alpha * *acc + beta * yv;
                }
            }
        }
    };
    if chunks.len() <= 1 {
        chunks.into_iter().for_each(work);
    } else {
        chunks.into_par_iter().for_each(work);
    }
    // The shapes were checked, so the length is right.
    if let Ok(d) = Dense::try_from_row_major(nrows, k, out) {
        *y = d;
    }
}
