//! Sortedness, duplicates and explicit zeros: checks and in-place cleanup on [`Csr`].

use rayon::prelude::*;

use crate::parallel::{MIN_PARALLEL_WORK, any_row_block, for_each_row_block_mut, row_blocks_mut};
use crate::{Csr, CsrRef, Element, Index, Scalar};

/// Rows shorter than this are sorted by insertion (stable, no allocation).
const INSERTION_SORT_MAX: usize = 32;

/// Sorts one row by column, stably (equal columns keep their order), moving values along.
pub(crate) fn sort_row<I: Index, T: Copy>(
    cols: &mut [I],
    vals: &mut [T],
    scratch: &mut Vec<(I, T)>,
) {
    if cols.is_sorted() {
        return;
    }
    if cols.len() <= INSERTION_SORT_MAX {
        for k in 1..cols.len() {
            let (c, v) = (cols[k], vals[k]);
            let mut j = k;
            while j > 0 && cols[j - 1] > c {
                cols[j] = cols[j - 1];
                vals[j] = vals[j - 1];
                j -= 1;
            }
            cols[j] = c;
            vals[j] = v;
        }
        return;
    }
    scratch.clear();
    scratch.extend(cols.iter().copied().zip(vals.iter().copied()));
    scratch.sort_by_key(|&(c, _)| c);
    for (k, &(c, v)) in scratch.iter().enumerate() {
        cols[k] = c;
        vals[k] = v;
    }
}

/// A row at least `1 / COUNTING_SORT_RATIO` of the matrix's width (and longer than
/// [`INSERTION_SORT_MAX`]) is sorted by counting its columns: O(ncols + len) simple steps
/// against the comparison sort's O(len log len). The MKL kernel's item-item A·Aᵀ of
/// `bench/python_compare.py`'s rating matrix (5k × 5k, rows of ~5000 entries left unsorted
/// by MKL) took 289 ms with the comparison sort and 223–262 ms with this one (`CSR.multiply`
/// from Python, 2 threads; single runs on a VM whose speed drifts by ±25 %). The ratio itself is a cost-model choice (counting costs about
/// two passes over `ncols` counters), not measured at the boundary.
const COUNTING_SORT_RATIO: usize = 8;

/// Scratch for sorting the rows of one matrix ([`sort_row_of`]), reused row after row.
pub(crate) struct RowSortScratch<I, T> {
    ncols: usize,
    pairs: Vec<(I, T)>,
    counts: Vec<usize>,
}

impl<I: Index, T: Copy> RowSortScratch<I, T> {
    /// Scratch for rows of a matrix of `ncols` columns (allocated on first need).
    pub(crate) fn new(ncols: usize) -> Self {
        Self {
            ncols,
            pairs: Vec::new(),
            counts: Vec::new(),
        }
    }
}

/// [`sort_row`] for a row of a matrix of `scratch.ncols` columns: a wide row (at least
/// `ncols / COUNTING_SORT_RATIO` entries) is sorted by a stable counting sort over the
/// columns, the others as [`sort_row`] does.
pub(crate) fn sort_row_of<I: Index, T: Copy>(
    cols: &mut [I],
    vals: &mut [T],
    scratch: &mut RowSortScratch<I, T>,
) {
    let wide = cols.len() > INSERTION_SORT_MAX
        && cols.len().saturating_mul(COUNTING_SORT_RATIO) >= scratch.ncols;
    if !wide {
        sort_row(cols, vals, &mut scratch.pairs);
        return;
    }
    if cols.is_sorted() {
        return;
    }
    let RowSortScratch {
        ncols,
        pairs,
        counts,
    } = scratch;
    // counts[c + 1] counts column c; summed, counts[c] is the row's entries with a column
    // below c, which becomes column c's next slot.
    counts.clear();
    counts.resize(*ncols + 1, 0);
    for &c in cols.iter() {
        counts[c.to_usize() + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    pairs.clear();
    pairs.extend(cols.iter().copied().zip(vals.iter().copied()));
    for &(c, v) in pairs.iter() {
        let slot = &mut counts[c.to_usize()];
        cols[*slot] = c;
        vals[*slot] = v;
        *slot += 1;
    }
}

/// Merges runs of equal columns in a sorted row into their first entry (in order), returning
/// the new length; the kept entries form the row's prefix.
fn merge_sorted_row<I: Index, T: Element>(cols: &mut [I], vals: &mut [T]) -> usize {
    if cols.is_empty() {
        return 0;
    }
    let mut w = 0;
    for k in 1..cols.len() {
        if cols[k] == cols[w] {
            let v = vals[k];
            vals[w].merge(v);
        } else {
            w += 1;
            cols[w] = cols[k];
            vals[w] = vals[k];
        }
    }
    w + 1
}

/// Whether any row's (unsorted) column list holds a repeated column.
fn row_has_duplicates<I: Index>(cols: &[I], scratch: &mut Vec<I>) -> bool {
    if cols.is_sorted() {
        return cols.windows(2).any(|w| w[0] == w[1]);
    }
    scratch.clear();
    scratch.extend_from_slice(cols);
    scratch.sort_unstable();
    scratch.windows(2).any(|w| w[0] == w[1])
}

/// Whether some row of `(row_ptrs, cols)` has a neighbour pair out of order: a later column
/// below the earlier (`strict`: at or below it). A block of rows compares every neighbour
/// pair of its entries branch-free (vectorised), then discounts the pairs that straddle a
/// row boundary, so short rows cost no per-row loop over their entries.
fn rows_out_of_order<I: Index>(row_ptrs: &[I], cols: &[I], strict: bool) -> bool {
    let out_of_order = |next: I, prev: I| if strict { next <= prev } else { next < prev };
    any_row_block(row_ptrs, |rows| {
        let (start, end) = (
            row_ptrs[rows.start].to_usize(),
            row_ptrs[rows.end].to_usize(),
        );
        if end - start < 2 {
            return false;
        }
        let pairs: usize = cols[start + 1..end]
            .iter()
            .zip(&cols[start..end - 1])
            .map(|(&next, &prev)| usize::from(out_of_order(next, prev)))
            .sum();
        // Pairs whose later entry starts a row (each position once: empty rows share it).
        let mut straddling = 0;
        let mut last = start;
        for p in &row_ptrs[rows.start + 1..rows.end] {
            let p = p.to_usize();
            if p > last && p < end {
                straddling += usize::from(out_of_order(cols[p], cols[p - 1]));
                last = p;
            }
        }
        pairs != straddling
    })
}

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// Whether every row's columns are in non-decreasing order (duplicates count as sorted).
    ///
    /// O(nnz), parallel over row blocks.
    #[must_use]
    pub fn is_sorted_by_column_index(&self) -> bool {
        !rows_out_of_order(self.row_ptrs(), self.col_idxs(), false)
    }

    /// Whether every row's columns strictly increase: sorted, with no duplicates (what
    /// MKL requires of its inputs). One pass, parallel over row blocks.
    #[must_use]
    pub fn is_sorted_without_duplicates(&self) -> bool {
        !rows_out_of_order(self.row_ptrs(), self.col_idxs(), true)
    }

    /// Whether some row stores the same column twice. Accepts unsorted rows.
    #[must_use]
    pub fn has_duplicates(&self) -> bool {
        let a = *self;
        any_row_block(self.row_ptrs(), |rows| {
            let mut scratch = Vec::new();
            rows.into_iter()
                .any(|r| row_has_duplicates(a.row(r).0, &mut scratch))
        })
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// Whether every row's columns are in non-decreasing order (duplicates count as sorted).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let mut a = Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 3], vec![2, 0, 0], vec![1.0, 2.0, 3.0])?;
    /// assert!(!a.is_sorted_by_column_index());
    /// a.sort_by_column_index();
    /// assert_eq!(a.row(0), (&[0, 0, 2][..], &[2.0, 3.0, 1.0][..]));
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn is_sorted_by_column_index(&self) -> bool {
        self.view().is_sorted_by_column_index()
    }

    /// Whether some row stores the same column twice. Accepts unsorted rows.
    #[must_use]
    pub fn has_duplicates(&self) -> bool {
        self.view().has_duplicates()
    }

    /// Whether every row's columns strictly increase (sorted, no duplicates).
    #[must_use]
    pub fn is_sorted_without_duplicates(&self) -> bool {
        self.view().is_sorted_without_duplicates()
    }

    /// Sorts every row by column index; values move with their columns, and duplicates keep
    /// their relative order (the sort is stable). Parallel over row blocks.
    pub fn sort_by_column_index(&mut self) {
        let ncols = self.ncols();
        let (ptrs, cols, vals) = self.parts_mut();
        for_each_row_block_mut(ptrs, cols, vals, |block| {
            let mut scratch = RowSortScratch::new(ncols);
            for r in block.rows.clone() {
                let range = block.local_range(r);
                sort_row_of(
                    &mut block.cols[range.clone()],
                    &mut block.vals[range],
                    &mut scratch,
                );
            }
        });
    }

    /// Sorts every row and merges entries with equal coordinates into one (summing values;
    /// a pattern matrix keeps one of them), in storage order, so the result is deterministic.
    ///
    /// Accepts unsorted rows; the result is sorted with no duplicates. Sums that cancel stay
    /// as explicit zeros (see [`Csr::eliminate_zeros`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let mut a = Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 3], vec![2, 0, 2], vec![1.0, 2.0, 3.0])?;
    /// a.sum_duplicates();
    /// assert_eq!(a.row(0), (&[0, 2][..], &[2.0, 4.0][..]));
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn sum_duplicates(&mut self) {
        let ncols = self.ncols();
        let (ptrs, cols, vals) = self.parts_mut();
        let lens = for_each_row_block_mut(ptrs, cols, vals, |block| {
            let mut scratch = RowSortScratch::new(ncols);
            let mut lens = Vec::with_capacity(block.rows.len());
            for r in block.rows.clone() {
                let range = block.local_range(r);
                let (c, v) = (&mut block.cols[range.clone()], &mut block.vals[range]);
                sort_row_of(c, v, &mut scratch);
                lens.push(merge_sorted_row(c, v));
            }
            lens
        });
        compact_rows(self, lens.concat());
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// Removes stored entries whose value is exactly zero, keeping the order of the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let mut a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 2, 3], vec![0, 1, 1], vec![0.0, 2.0, 0.0])?;
    /// a.eliminate_zeros();
    /// assert_eq!((a.row_ptrs(), a.col_idxs()), (&[0, 1, 1][..], &[1][..]));
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn eliminate_zeros(&mut self) {
        // Most matrices hold no zero: a read-only scan spares them the rewrite below.
        let zero = T::zero();
        if !self
            .values()
            .par_iter()
            .with_min_len(MIN_PARALLEL_WORK)
            .any(|v| *v == zero)
        {
            return;
        }
        let (ptrs, cols, vals) = self.parts_mut();
        let lens = for_each_row_block_mut(ptrs, cols, vals, |block| {
            let mut lens = Vec::with_capacity(block.rows.len());
            for r in block.rows.clone() {
                let range = block.local_range(r);
                let mut w = range.start;
                for k in range.clone() {
                    if block.vals[k] != T::zero() {
                        block.cols[w] = block.cols[k];
                        block.vals[w] = block.vals[k];
                        w += 1;
                    }
                }
                lens.push(w - range.start);
            }
            lens
        });
        compact_rows(self, lens.concat());
    }
}

/// Keeps the first `lens[r]` entries of every row `r`, dropping the rest.
fn compact_rows<T: Element, I: Index>(a: &mut Csr<T, I>, lens: Vec<usize>) {
    let new_nnz: usize = lens.iter().sum();
    if new_nnz == a.nnz() {
        return;
    }
    let mut new_ptrs = Vec::with_capacity(lens.len() + 1);
    new_ptrs.push(I::ZERO);
    let mut acc = 0usize;
    for &l in &lens {
        acc += l;
        new_ptrs.push(I::truncate(acc));
    }
    let mut new_cols = vec![I::ZERO; new_nnz];
    let mut new_vals = vec![T::default(); new_nnz];
    let old = a.view();
    row_blocks_mut(&new_ptrs, &mut new_cols, &mut new_vals)
        .into_par_iter()
        .for_each(|block| {
            for r in block.rows.clone() {
                let start = old.row_range(r).start;
                let dst = block.local_range(r);
                let src = start..start + dst.len();
                block.cols[dst.clone()].copy_from_slice(&old.col_idxs()[src.clone()]);
                block.vals[dst].copy_from_slice(&old.values()[src]);
            }
        });
    a.set_arrays(new_ptrs, new_cols, new_vals);
}
