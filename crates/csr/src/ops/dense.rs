//! Conversions between [`Csr`] and [`Dense`].

use crate::error::Result;
use crate::{Csr, CsrRef, Dense, Index, Scalar};

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// The dense matrix; duplicate entries are summed.
    ///
    /// # Errors
    /// [`crate::Error::SizeOverflow`] if `nrows * ncols` overflows.
    pub fn to_dense(&self) -> Result<Dense<T>> {
        let mut d = Dense::zeros(self.nrows(), self.ncols())?;
        for r in 0..self.nrows() {
            let (cols, vals) = self.row(r);
            let out = d.row_mut(r);
            for (&c, &v) in cols.iter().zip(vals) {
                out[c.to_usize()] += v;
            }
        }
        Ok(d)
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The dense matrix; duplicate entries are summed.
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

    /// The sparse matrix of a dense one, dropping exact zeros.
    ///
    /// # Errors
    /// [`crate::Error::IndexTooNarrow`] if a size or the number of nonzeros does not fit `I`.
    pub fn from_dense(d: &Dense<T>) -> Result<Self> {
        Self::try_from_dense_row_major(d.nrows(), d.ncols(), &d.to_row_major_vec())
    }
}
