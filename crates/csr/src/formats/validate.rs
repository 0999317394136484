//! The checks behind every safe CSR constructor.

use rayon::prelude::*;

use crate::Index;
use crate::error::{Error, Extent, Result, check_fits};
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
    check_fits::<I>(Extent::Rows, nrows)?;
    check_fits::<I>(Extent::Cols, ncols)?;
    let expected = nrows
        .checked_add(1)
        .ok_or(Error::SizeOverflow { what: "nrows + 1" })?;
    if row_ptrs.len() != expected {
        return Err(Error::RowPtrsLength {
            expected,
            actual: row_ptrs.len(),
        });
    }
    if col_idxs.len() != nvalues {
        return Err(Error::ValuesLength {
            col_idxs: col_idxs.len(),
            values: nvalues,
        });
    }
    let nnz = col_idxs.len();
    check_fits::<I>(Extent::Nnz, nnz)?;
    if row_ptrs[0] != I::ZERO {
        return Err(Error::RowPtrsStart {
            first: row_ptrs[0].to_i128(),
        });
    }
    check_monotone(row_ptrs)?;
    let last = row_ptrs[nrows];
    if last.try_to_usize() != Some(nnz) {
        return Err(Error::RowPtrsEnd {
            last: last.to_i128(),
            nnz,
        });
    }
    check_columns(ncols, row_ptrs, col_idxs)
}

fn check_monotone<I: Index>(row_ptrs: &[I]) -> Result<()> {
    let bad = |w: &[I]| w[1] < w[0];
    let row = if row_ptrs.len() >= MIN_PARALLEL_WORK {
        row_ptrs.par_windows(2).position_first(bad)
    } else {
        row_ptrs.windows(2).position(bad)
    };
    match row {
        Some(row) => Err(Error::DecreasingRowPtrs {
            row,
            start: row_ptrs[row].to_i128(),
            end: row_ptrs[row + 1].to_i128(),
        }),
        None => Ok(()),
    }
}

/// Needs `row_ptrs` already validated.
fn check_columns<I: Index>(ncols: usize, row_ptrs: &[I], col_idxs: &[I]) -> Result<()> {
    let bad = |c: &I| c.try_to_usize().is_none_or(|c| c >= ncols);
    let pos = if col_idxs.len() >= MIN_PARALLEL_WORK {
        col_idxs.par_iter().position_first(bad)
    } else {
        col_idxs.iter().position(bad)
    };
    match pos {
        Some(pos) => {
            // The row holding entry `pos` is the last r with row_ptrs[r] <= pos.
            let row = row_ptrs.partition_point(|p| p.to_usize() <= pos) - 1;
            Err(Error::ColumnOutOfBounds {
                row,
                pos,
                col: col_idxs[pos].to_i128(),
                ncols,
            })
        }
        None => Ok(()),
    }
}
