//! The checks behind every safe CSR constructor.

use rayon::prelude::*;

use crate::Index;
use crate::error::{Error, Extent, Result, check_fits, check_shape};
use crate::parallel::MIN_PARALLEL_WORK;

/// Checks every CSR invariant and returns the first violation, in this order: sizes fit `I`,
/// `row_ptrs` length, `col_idxs`/values lengths, nnz fits `I`, `row_ptrs[0] == 0`,
/// non-decreasing `row_ptrs`, `row_ptrs[nrows] == nnz`, every column in `0..ncols`.
///
/// Never panics, whatever the arrays hold.
pub(crate) fn check_csr<I: Index>(
    nrows: usize,
    ncols: usize,
    row_ptrs: &[I],
    col_idxs: &[I],
    nvalues: usize,
) -> Result<()> {
    check_all_but_columns(nrows, ncols, row_ptrs, col_idxs.len(), nvalues)?;
    check_columns(ncols, row_ptrs, col_idxs)
}

/// Every check of [`check_csr`] but the columns' (O(nrows)): for callers that check each
/// column where they read it.
pub(crate) fn check_all_but_columns<I: Index>(
    nrows: usize,
    ncols: usize,
    row_ptrs: &[I],
    nnz: usize,
    nvalues: usize,
) -> Result<()> {
    check_shape::<I>(nrows, ncols)?;
    let expected = nrows + 1;
    if row_ptrs.len() != expected {
        return Err(Error::RowPtrsLength {
            expected,
            actual: row_ptrs.len(),
        });
    }
    if nnz != nvalues {
        return Err(Error::ValuesLength {
            col_idxs: nnz,
            values: nvalues,
        });
    }
    check_fits::<I>(Extent::Nnz, nnz)?;
    check_row_ptrs(row_ptrs, nnz)
}

/// Checks that non-empty `row_ptrs` start at 0, never decrease and end at `nnz`.
pub(crate) fn check_row_ptrs<I: Index>(row_ptrs: &[I], nnz: usize) -> Result<()> {
    let (Some(&first), Some(&last)) = (row_ptrs.first(), row_ptrs.last()) else {
        return Err(Error::RowPtrsLength {
            expected: 1,
            actual: 0,
        });
    };
    if first != I::ZERO {
        return Err(Error::RowPtrsStart {
            first: first.to_i128(),
        });
    }
    check_monotone(row_ptrs)?;
    if last.try_to_usize() != Some(nnz) {
        return Err(Error::RowPtrsEnd {
            last: last.to_i128(),
            nnz,
        });
    }
    Ok(())
}

/// Work per parallel task of the checks: large enough that rayon's overhead vanishes.
const CHECK_CHUNK: usize = 1 << 14;

/// The first position `k` with `bad(&xs[k..k + window])` true, searched in parallel chunks
/// when large. `any_bad(part)` says, branch-free so that it vectorises, whether some window
/// of `part` (a run of whole windows) is bad: only a chunk that has one is searched.
fn first_bad<X: Sync>(
    xs: &[X],
    window: usize,
    any_bad: impl Fn(&[X]) -> bool + Sync,
    bad: impl Fn(&[X]) -> bool + Sync,
) -> Option<usize> {
    let n = xs.len().saturating_sub(window - 1);
    if n == 0 {
        return None;
    }
    let scan = |range: std::ops::Range<usize>| {
        if !any_bad(&xs[range.start..range.end + window - 1]) {
            return None;
        }
        range.into_iter().find(|&k| bad(&xs[k..k + window]))
    };
    if n < MIN_PARALLEL_WORK {
        return scan(0..n);
    }
    let chunks = n.div_ceil(CHECK_CHUNK);
    (0..chunks)
        .into_par_iter()
        .filter_map(|c| scan(c * CHECK_CHUNK..((c + 1) * CHECK_CHUNK).min(n)))
        .min()
}

/// The first `k` with `xs[k]` negative or at least `bound`, if any (vectorised, parallel
/// when large).
pub(crate) fn first_outside<I: Index>(xs: &[I], bound: usize) -> Option<usize> {
    let any_outside = |c: &[I]| I::any_outside(c, bound);
    first_bad(xs, 1, any_outside, |c| {
        c[0].try_to_usize().is_none_or(|c| c >= bound)
    })
}

/// The first `k` with `xs[k + 1] < xs[k]`, if any (vectorised, parallel when large).
pub(crate) fn first_decrease<I: Index>(xs: &[I]) -> Option<usize> {
    let any_decrease = |p: &[I]| {
        p[1..]
            .iter()
            .zip(p)
            .fold(false, |bad, (next, prev)| bad | (next < prev))
    };
    first_bad(xs, 2, any_decrease, |w| w[1] < w[0])
}

fn check_monotone<I: Index>(row_ptrs: &[I]) -> Result<()> {
    match first_decrease(row_ptrs) {
        Some(row) => Err(Error::DecreasingRowPtrs {
            row,
            start: row_ptrs[row].to_i128(),
            end: row_ptrs[row + 1].to_i128(),
        }),
        None => Ok(()),
    }
}

/// Needs `row_ptrs` already validated.
pub(crate) fn check_columns<I: Index>(ncols: usize, row_ptrs: &[I], col_idxs: &[I]) -> Result<()> {
    match first_outside(col_idxs, ncols) {
        Some(pos) => Err(column_error(ncols, row_ptrs, col_idxs, pos)),
        None => Ok(()),
    }
}

/// The error for entry `pos`, whose column is not in `0..ncols` (`row_ptrs` validated).
pub(crate) fn column_error<I: Index>(
    ncols: usize,
    row_ptrs: &[I],
    col_idxs: &[I],
    pos: usize,
) -> Error {
    // The row holding entry `pos` is the last r with row_ptrs[r] <= pos.
    let row = row_ptrs.partition_point(|p| p.to_usize() <= pos) - 1;
    Error::ColumnOutOfBounds {
        row,
        pos,
        col: col_idxs[pos].to_i128(),
        ncols,
    }
}
