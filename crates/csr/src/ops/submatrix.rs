//! Submatrices of a [`Csr`]: by row and column ranges, and by index sets.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::ops::rows::{fill_rows, row_ptrs_from_counts};
use crate::{Csr, CsrRef, Element, Index};

/// Marks a column that is not selected in [`extract`]'s column map.
const ABSENT: usize = usize::MAX;

/// `Err(RangeOutOfBounds)` unless `range` lies within `0..len`.
fn check_range(what: &'static str, range: &Range<usize>, len: usize) -> Result<()> {
    if range.start > range.end || range.end > len {
        return Err(Error::RangeOutOfBounds {
            what,
            start: range.start,
            end: range.end,
            len,
        });
    }
    Ok(())
}

/// For an index set over `0..len`: `map[i]` is the position of `i` in `set`, or [`ABSENT`].
///
/// # Errors
/// [`Error::IndexOutOfRange`] or [`Error::RepeatedIndex`] at the first offending entry.
fn position_map(what: &'static str, set: &[usize], len: usize) -> Result<Vec<usize>> {
    let mut map = vec![ABSENT; len];
    for (pos, &i) in set.iter().enumerate() {
        let slot = map.get_mut(i).ok_or(Error::IndexOutOfRange {
            what,
            pos,
            index: i128::try_from(i).unwrap_or(i128::MAX),
            len,
        })?;
        if *slot != ABSENT {
            return Err(Error::RepeatedIndex {
                what,
                pos,
                index: i,
                first: *slot,
            });
        }
        *slot = pos;
    }
    Ok(map)
}

/// The `nrows x ncols` matrix whose row `r` holds the entries of input row `row_src(r)` whose
/// column `c` has `col(c) != ABSENT`, at column `col(c)`, rows sorted by column (stably).
fn extract<T: Element, I: Index>(
    a: CsrRef<'_, T, I>,
    (nrows, row_src): (usize, impl Fn(usize) -> usize + Sync),
    (ncols, col): (usize, impl Fn(usize) -> usize + Sync),
) -> Result<Csr<T, I>> {
    let row_ptrs = row_ptrs_from_counts(nrows, |r| {
        let kept = a
            .row(row_src(r))
            .0
            .iter()
            .filter(|c| col(c.to_usize()) != ABSENT);
        kept.count()
    })?;
    let (cols, vals) = fill_rows(&row_ptrs, true, |r, out_cols, out_vals| {
        let (in_cols, in_vals) = a.row(row_src(r));
        let mut k = 0;
        for (&c, &v) in in_cols.iter().zip(in_vals) {
            let j = col(c.to_usize());
            if j != ABSENT {
                // j < ncols <= input ncols, which fits I.
                out_cols[k] = I::truncate(j);
                out_vals[k] = v;
                k += 1;
            }
        }
    });
    // SAFETY: each row's pointer span was set to the number of entries the fill pass writes
    // for it (the same filter on the same row), so the pointers run from 0 to nnz without
    // decreasing; every column is a position < ncols in the selection; nrows, ncols and nnz
    // are at most the input's, which fit `I`.
    let out = unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, cols, vals) };
    Ok(out.with_strategy(a.strategy()))
}

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The submatrix of rows `rows` and columns `cols` (Ginkgo's
    /// `create_submatrix(span, span)`): entry `(i, j)` of the result is entry
    /// `(rows.start + i, cols.start + j)` of the matrix.
    ///
    /// Accepts unsorted rows and duplicates; output rows are sorted by column (stably, so
    /// duplicates keep their order). The result keeps the matrix's SpMV strategy. Parallel
    /// over rows.
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if a range ends before it starts or past the matrix.
    pub fn submatrix(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Csr<T, I>> {
        check_range("row", &rows, self.nrows())?;
        check_range("column", &cols, self.ncols())?;
        let (first_row, col_range) = (rows.start, cols.clone());
        extract(
            *self,
            (rows.len(), |r| first_row + r),
            (cols.len(), |c| {
                if col_range.contains(&c) {
                    c - col_range.start
                } else {
                    ABSENT
                }
            }),
        )
    }

    /// The submatrix of the rows listed in `rows` and the columns listed in `cols` (Ginkgo's
    /// `create_submatrix(index_set, index_set)`, and scipy's `A[rows][:, cols]`): entry
    /// `(i, j)` of the result is entry `(rows[i], cols[j])` of the matrix.
    ///
    /// The lists may be in any order (the result follows it; with sorted lists this is
    /// Ginkgo's behaviour), but each is a set: an index may appear only once. An empty list
    /// gives a result with no rows (or no columns); Ginkgo returns 0x0 then.
    ///
    /// Accepts unsorted rows and duplicates; output rows are sorted by column (stably).
    /// Parallel over rows; builds an `ncols`-entry column map.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for an index past the matrix, [`Error::RepeatedIndex`] for
    /// an index listed twice, each naming the list (`"row index set"` or
    /// `"column index set"`) and the position.
    pub fn submatrix_by_indices(&self, rows: &[usize], cols: &[usize]) -> Result<Csr<T, I>> {
        position_map("row index set", rows, self.nrows())?;
        let col_map = position_map("column index set", cols, self.ncols())?;
        extract(
            *self,
            (rows.len(), |r| rows[r]),
            (cols.len(), |c| col_map[c]),
        )
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// The submatrix of rows `rows` and columns `cols`. See [`CsrRef::submatrix`].
    ///
    /// # Errors
    /// As [`CsrRef::submatrix`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(2, 3, &[1.0, 3.0, 2.0, 0.0, 5.0, 0.0])?;
    /// let s = a.submatrix(0..2, 0..2)?;
    /// assert_eq!(s.to_dense()?.to_row_major_vec(), vec![1.0, 3.0, 0.0, 5.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn submatrix(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Csr<T, I>> {
        self.view().submatrix(rows, cols)
    }

    /// The submatrix of the listed rows and columns. See [`CsrRef::submatrix_by_indices`].
    ///
    /// # Errors
    /// As [`CsrRef::submatrix_by_indices`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(2, 3, &[1.0, 3.0, 2.0, 0.0, 5.0, 0.0])?;
    /// let s = a.submatrix_by_indices(&[1, 0], &[2, 1])?;
    /// assert_eq!(s.to_dense()?.to_row_major_vec(), vec![0.0, 5.0, 2.0, 3.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn submatrix_by_indices(&self, rows: &[usize], cols: &[usize]) -> Result<Csr<T, I>> {
        self.view().submatrix_by_indices(rows, cols)
    }
}
