//! Transposition by a stable parallel counting sort.

use crate::ops::bucket::{Transposed, group_by_key};
use crate::{Csr, CsrRef, Element, Index};

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The transpose, with every output row sorted by column index.
    ///
    /// Accepts unsorted rows and duplicates (duplicates stay duplicates, in input row order).
    /// Runs a counting sort by column in O(nnz + nrows + ncols): each rayon thread counts
    /// and then scatters a block of rows of about equal work. The result does not depend on
    /// the thread count.
    #[must_use]
    pub fn transpose(&self) -> Csr<T, I> {
        let grouped = group_by_key(self.ncols(), &Transposed(*self));
        // SAFETY: the counting sort places all nnz entries under ncols + 1 non-decreasing
        // pointers from 0 to nnz, every stored index is a row < nrows, and nrows, ncols and
        // nnz fit `I` because they did for the input.
        unsafe {
            Csr::from_parts_unchecked(
                self.ncols(),
                self.nrows(),
                grouped.ptrs,
                grouped.other,
                grouped.values,
            )
        }
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
}
