//! Transposition (plain and conjugate) by a stable parallel counting sort.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::formats::validate::{check_all_but_columns, check_columns};
use crate::ops::bucket::{Transposed, group_by_key};
use crate::ops::column_blocks::transpose_by_column_blocks;
use crate::parallel::MIN_PARALLEL_WORK;
use crate::{Csr, CsrRef, Element, Index, Scalar};

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The transpose, with every output row sorted by column index.
    ///
    /// Accepts unsorted rows and duplicates (duplicates stay duplicates, in input row order).
    /// Runs a counting sort by column in O(nnz + nrows + ncols): each rayon thread counts
    /// and then scatters a block of rows of about equal work, keeping extra memory O(nnz)
    /// beyond the result. A matrix with long sorted rows over many columns (a rating
    /// matrix) is transposed instead one block of columns at a time, each block's output
    /// in cache. The result does not depend on the thread count.
    ///
    /// # Panics
    /// If the result's `ncols + 1` row pointers cannot be allocated (a 1 × 2⁴⁰ matrix);
    /// [`CsrRef::try_transpose`] returns an error instead.
    #[must_use]
    pub fn transpose(&self) -> Csr<T, I> {
        self.try_transpose()
            .unwrap_or_else(|e| panic!("transpose of a {:?} matrix: {e}", self.shape()))
    }

    /// The transpose, as [`CsrRef::transpose`], or [`crate::Error::OutOfMemory`] if its
    /// `ncols + 1` row pointers cannot be allocated.
    ///
    /// # Errors
    /// [`crate::Error::OutOfMemory`] or [`crate::Error::SizeOverflow`].
    pub fn try_transpose(&self) -> Result<Csr<T, I>> {
        transposed(self.nrows(), self.ncols(), &Transposed::of(*self))
    }
}

/// The transpose of the `nrows × ncols` matrix `source` reads, its columns checked against
/// `ncols` by the counting sort.
fn transposed<T: Element, I: Index>(
    nrows: usize,
    ncols: usize,
    source: &Transposed<'_, T, I>,
) -> Result<Csr<T, I>> {
    let grouped = match transpose_by_column_blocks(nrows, ncols, source.parts())? {
        Some(grouped) => grouped,
        None => group_by_key(ncols, source)?,
    };
    // SAFETY: the blocked transpose or the counting sort checked every column against
    // ncols and placed all nnz entries under ncols + 1 non-decreasing pointers from 0 to
    // nnz; every stored index is a row < nrows; nrows, ncols and nnz fit `I` (checked for
    // the input).
    Ok(unsafe {
        Csr::from_parts_unchecked(ncols, nrows, grouped.ptrs, grouped.other, grouped.values)
    })
}

impl<T: Element, I: Index> Csr<T, I> {
    /// The transpose, with every output row sorted by column index. See
    /// [`CsrRef::transpose`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2, 3], vec![2, 0, 1], vec![1.0, 2.0, 3.0])?;
    /// let t = a.transpose();
    /// assert_eq!(t.shape(), (3, 2));
    /// assert_eq!(t.iter().collect::<Vec<_>>(), vec![(0, 0, 2.0), (1, 1, 3.0), (2, 0, 1.0)]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn transpose(&self) -> Csr<T, I> {
        self.view().transpose()
    }

    /// The transpose, or an error if it cannot be allocated. See [`CsrRef::try_transpose`].
    ///
    /// # Errors
    /// [`crate::Error::OutOfMemory`] or [`crate::Error::SizeOverflow`].
    pub fn try_transpose(&self) -> Result<Csr<T, I>> {
        self.view().try_transpose()
    }

    /// The transpose of the `nrows × ncols` matrix held by CSR arrays that nobody has
    /// checked (e.g. arrays from Python): what [`CsrRef::try_from_parts`] followed by
    /// [`CsrRef::transpose`] gives, with the columns checked by the counting pass that
    /// reads them anyway rather than by a pass of their own (poisson2d:2000, 20M entries, 2
    /// threads: that pass took 5.9–6.5 ms of a 72–94 ms transpose). Rows may be unsorted and
    /// hold duplicates.
    ///
    /// # Errors
    /// The error [`CsrRef::try_from_parts`] gives for the same arrays (the same first bad
    /// entry), or [`crate::Error::OutOfMemory`] / [`crate::Error::SizeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Error};
    ///
    /// let t = Csr::<f64, i32>::try_transpose_parts(2, 3, &[0, 2, 3], &[2, 0, 1], &[1.0, 2.0, 3.0])?;
    /// assert_eq!(t.iter().collect::<Vec<_>>(), vec![(0, 0, 2.0), (1, 1, 3.0), (2, 0, 1.0)]);
    ///
    /// let bad = Csr::<f64, i32>::try_transpose_parts(2, 3, &[0, 2, 3], &[2, 7, 1], &[1.0, 2.0, 3.0]);
    /// assert_eq!(bad, Err(Error::ColumnOutOfBounds { row: 0, pos: 1, col: 7, ncols: 3 }));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn try_transpose_parts(
        nrows: usize,
        ncols: usize,
        row_ptrs: &[I],
        col_idxs: &[I],
        values: &[T],
    ) -> Result<Self> {
        check_all_but_columns(nrows, ncols, row_ptrs, col_idxs.len(), values.len())?;
        let source = Transposed::of_checked_row_ptrs(row_ptrs, col_idxs, values);
        transposed(nrows, ncols, &source).map_err(|e| match e {
            // The pointers of a huge column count could not be allocated: a bad column is
            // still the error to report, as `try_from_parts` would.
            Error::OutOfMemory { .. } | Error::SizeOverflow { .. } => {
                check_columns(ncols, row_ptrs, col_idxs).err().unwrap_or(e)
            }
            e => e,
        })
    }
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// The conjugate transpose `Aᴴ` (the transpose for real types), with every output row
    /// sorted by column index. Accepts unsorted rows and duplicates, like
    /// [`CsrRef::transpose`].
    #[must_use]
    pub fn conj_transpose(&self) -> Csr<T, I> {
        let mut t = self.transpose();
        if T::IS_COMPLEX {
            t.values_mut()
                .par_iter_mut()
                .with_min_len(MIN_PARALLEL_WORK)
                .for_each(|v| *v = v.conj());
        }
        t
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The conjugate transpose. See [`CsrRef::conj_transpose`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Complex, Csr};
    ///
    /// let a = Csr::<Complex<f64>, i32>::try_from_parts(1, 2, vec![0, 1], vec![1], vec![Complex::new(1.0, 2.0)])?;
    /// let h = a.conj_transpose();
    /// assert_eq!(h.iter().collect::<Vec<_>>(), vec![(1, 0, Complex::new(1.0, -2.0))]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn conj_transpose(&self) -> Csr<T, I> {
        self.view().conj_transpose()
    }
}
