//! Building a new matrix row by row in parallel: row pointers from per-row counts, then
//! every row's entries written into its own slice.

use rayon::prelude::*;

use crate::error::{Extent, Result, check_fits};
use crate::ops::sort::sort_row;
use crate::parallel::{MIN_PARALLEL_WORK, alloc_output, row_blocks_mut, try_with_capacity};
use crate::{Element, Index};

/// Row pointers for `nrows` rows where row `r` holds `count(r)` entries (counted in
/// parallel, summed serially).
///
/// # Errors
/// [`crate::Error::IndexTooNarrow`] if the total does not fit `I`.
pub(crate) fn row_ptrs_from_counts<I: Index>(
    nrows: usize,
    count: impl Fn(usize) -> usize + Sync,
) -> Result<Vec<I>> {
    row_ptrs_from_counts_with(nrows, || (), |(), r| count(r))
}

/// [`row_ptrs_from_counts`] where counting needs scratch space: `init` makes one per rayon
/// task, which `count(scratch, r)` reuses row after row.
///
/// # Errors
/// [`crate::Error::IndexTooNarrow`] if the total does not fit `I`;
/// [`crate::Error::OutOfMemory`] if the `nrows + 1` pointers cannot be allocated.
pub(crate) fn row_ptrs_from_counts_with<I: Index, S>(
    nrows: usize,
    init: impl Fn() -> S + Sync + Send,
    count: impl Fn(&mut S, usize) -> usize + Sync + Send,
) -> Result<Vec<I>> {
    let mut counts = try_with_capacity(nrows, "row count array")?;
    (0..nrows)
        .into_par_iter()
        .with_min_len(MIN_PARALLEL_WORK / 16)
        .map_init(init, count)
        .collect_into_vec(&mut counts);
    let mut ptrs = try_with_capacity(nrows.saturating_add(1), "row pointer array")?;
    ptrs.push(I::ZERO);
    let mut acc = 0usize;
    for c in counts {
        acc = acc.saturating_add(c);
        check_fits::<I>(Extent::Nnz, acc)?;
        ptrs.push(I::truncate(acc));
    }
    Ok(ptrs)
}

/// The column and value arrays of a matrix with (valid) `row_ptrs`: `fill(r, cols, vals)`
/// writes row `r` into slices of exactly its length, rows in parallel blocks of about equal
/// work; with `sort`, each row is then sorted by column (stably).
pub(crate) fn fill_rows<T: Element, I: Index>(
    row_ptrs: &[I],
    sort: bool,
    fill: impl Fn(usize, &mut [I], &mut [T]) + Sync,
) -> (Vec<I>, Vec<T>) {
    fill_rows_with(row_ptrs, sort, || (), |(), r, c, v| fill(r, c, v))
}

/// [`fill_rows`] where filling needs scratch space: `init` makes one per block of rows,
/// which `fill(scratch, r, cols, vals)` reuses row after row.
pub(crate) fn fill_rows_with<T: Element, I: Index, S>(
    row_ptrs: &[I],
    sort: bool,
    init: impl Fn() -> S + Sync,
    fill: impl Fn(&mut S, usize, &mut [I], &mut [T]) + Sync,
) -> (Vec<I>, Vec<T>) {
    let nnz = row_ptrs.last().map_or(0, |p| p.to_usize());
    let mut cols = alloc_output(nnz, I::ZERO);
    let mut vals = alloc_output(nnz, T::default());
    row_blocks_mut(row_ptrs, &mut cols, &mut vals)
        .into_par_iter()
        .for_each(|block| {
            let (mut state, mut sort_scratch) = (init(), Vec::new());
            for r in block.rows.clone() {
                let dst = block.local_range(r);
                let (out_cols, out_vals) = (&mut block.cols[dst.clone()], &mut block.vals[dst]);
                fill(&mut state, r, out_cols, out_vals);
                if sort {
                    sort_row(out_cols, out_vals, &mut sort_scratch);
                }
            }
        });
    (cols, vals)
}
