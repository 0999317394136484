//! Transposition (plain and conjugate) by a stable parallel counting sort.

use rayon::prelude::*;

use crate::error::Result;
use crate::ops::bucket::{Transposed, group_by_key};
use crate::parallel::MIN_PARALLEL_WORK;
use crate::{Csr, CsrRef, Element, Index, Scalar};

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The transpose, with every output row sorted by column index.
    ///
    /// Accepts unsorted rows and duplicates (duplicates stay duplicates, in input row order).
    /// Runs a counting sort by column in O(nnz + nrows + ncols): each rayon thread counts
    /// and then scatters a block of rows of about equal work, keeping extra memory O(nnz)
    /// beyond the result. The result does not depend on the thread count.
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
        let grouped = group_by_key(self.ncols(), &Transposed(*self))?;
        // SAFETY: the counting sort places all nnz entries under ncols + 1 non-decreasing
        // pointers from 0 to nnz, every stored index is a row < nrows, and nrows, ncols and
        // nnz fit `I` because they did for the input.
        Ok(unsafe {
            Csr::from_parts_unchecked(
                self.ncols(),
                self.nrows(),
                grouped.ptrs,
                grouped.other,
                grouped.values,
            )
        })
    }
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
