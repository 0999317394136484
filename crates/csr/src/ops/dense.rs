//! Conversions between [`Csr`] and [`Dense`], parallel over rows.

use rayon::prelude::*;

use crate::error::{Result, check_shape};
use crate::ops::rows::{fill_rows, row_ptrs_from_counts};
use crate::parallel::MIN_PARALLEL_WORK;
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// Rows per rayon task when each row costs `row_cost` (at least one row).
fn rows_per_task(row_cost: usize) -> usize {
    (MIN_PARALLEL_WORK / row_cost.max(1)).max(1)
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// The dense matrix; duplicate entries are summed. Parallel over rows.
    ///
    /// # Errors
    /// [`crate::Error::SizeOverflow`] if `nrows * ncols` overflows.
    pub fn to_dense(&self) -> Result<Dense<T>> {
        let mut d = Dense::zeros(self.nrows(), self.ncols())?;
        let stride = d.stride();
        if stride == 0 {
            return Ok(d);
        }
        let per_task = rows_per_task(stride + self.nnz() / self.nrows().max(1));
        d.raw_values_mut()
            .par_chunks_mut(stride)
            .with_min_len(per_task)
            .enumerate()
            .for_each(|(r, out)| {
                let (cols, vals) = self.row(r);
                for (&c, &v) in cols.iter().zip(vals) {
                    out[c.to_usize()] += v;
                }
            });
        Ok(d)
    }
}

/// The CSR matrix of `nrows` dense rows of `ncols` values, row `r` starting at
/// `values[r * stride]`, without exact zeros. Parallel over rows: a count pass, then a fill
/// pass.
///
/// # Errors
/// [`crate::Error::IndexTooNarrow`] if a size or the number of nonzeros does not fit `I`.
pub(crate) fn csr_of_strided<T: Scalar, I: Index>(
    nrows: usize,
    ncols: usize,
    values: &[T],
    stride: usize,
) -> Result<Csr<T, I>> {
    check_shape::<I>(nrows, ncols)?;
    let row = |r: usize| &values[r * stride..r * stride + ncols];
    let row_ptrs = row_ptrs_from_counts(nrows, |r| {
        row(r).iter().filter(|&&v| v != T::zero()).count()
    })?;
    let (cols, vals) = fill_rows(&row_ptrs, false, |r, out_cols, out_vals| {
        let nonzeros = row(r).iter().enumerate().filter(|(_, v)| **v != T::zero());
        for ((c, &v), (oc, ov)) in nonzeros.zip(out_cols.iter_mut().zip(out_vals)) {
            // c < ncols, which fits I (checked above).
            *oc = I::truncate(c);
            *ov = v;
        }
    });
    // SAFETY: row r holds exactly the count of its nonzeros (same filter in both passes),
    // so the pointers run from 0 to nnz, non-decreasing, nnz fitting I (checked by
    // row_ptrs_from_counts); columns are < ncols; nrows and ncols fit I (checked above).
    Ok(unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, cols, vals) })
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The dense matrix; duplicate entries are summed. Parallel over rows.
    ///
    /// # Errors
    /// [`crate::Error::SizeOverflow`] if `nrows * ncols` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::identity(2)?;
    /// assert_eq!(a.to_dense()?.to_row_major_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn to_dense(&self) -> Result<Dense<T>> {
        self.view().to_dense()
    }

    /// The sparse matrix of a dense one, dropping exact zeros. Parallel over rows.
    ///
    /// # Errors
    /// [`crate::Error::IndexTooNarrow`] if a size or the number of nonzeros does not fit `I`.
    pub fn from_dense(d: &Dense<T>) -> Result<Self> {
        let (values, stride) = d.strided();
        csr_of_strided(d.nrows(), d.ncols(), values, stride)
    }
}
