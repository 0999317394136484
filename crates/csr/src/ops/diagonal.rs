//! The diagonal of a [`Csr`]: extraction, a presence check, and `alpha·I + beta·A`.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::parallel::{
    MIN_PARALLEL_WORK, balanced_row_blocks, for_each_row_block_mut, piece_count,
};
use crate::{Csr, CsrRef, Element, Index, Scalar};

/// Position (within the row) of the first entry of row `r` stored in column `r`.
fn diagonal_position<I: Index>(cols: &[I], r: usize) -> Option<usize> {
    cols.iter().position(|c| c.to_usize() == r)
}

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The first row `r < min(nrows, ncols)` that stores no entry in column `r`, if any.
    /// Parallel over row blocks.
    #[must_use]
    pub fn first_missing_diagonal(&self) -> Option<usize> {
        let n = self.nrows().min(self.ncols());
        let ptrs = &self.row_ptrs()[..=n];
        let work = ptrs[n].to_usize() + n;
        balanced_row_blocks(ptrs, piece_count(work))
            .par_windows(2)
            .find_map_first(|w| {
                (w[0]..w[1]).find(|&r| diagonal_position(self.row(r).0, r).is_none())
            })
    }

    /// Whether every row `r < min(nrows, ncols)` stores an entry in column `r` (Ginkgo's
    /// `check_diagonal_entries_exist`). Accepts unsorted rows.
    #[must_use]
    pub fn has_full_diagonal(&self) -> bool {
        self.first_missing_diagonal().is_none()
    }
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// The diagonal, `min(nrows, ncols)` values: entry `r` is the sum of the entries stored
    /// at `(r, r)` (zero when there is none), so it equals the diagonal of
    /// [`CsrRef::to_dense`]. Ginkgo takes the first entry instead of the sum; the two differ
    /// only for duplicates. Accepts unsorted rows. Parallel over rows.
    #[must_use]
    pub fn extract_diagonal(&self) -> Vec<T> {
        let n = self.nrows().min(self.ncols());
        (0..n)
            .into_par_iter()
            .with_min_len(MIN_PARALLEL_WORK / 16)
            .map(|r| {
                let (cols, vals) = self.row(r);
                cols.iter()
                    .zip(vals)
                    .filter(|(c, _)| c.to_usize() == r)
                    .fold(T::zero(), |acc, (_, &v)| acc + v)
            })
            .collect()
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// The first row without a stored diagonal entry. See
    /// [`CsrRef::first_missing_diagonal`].
    #[must_use]
    pub fn first_missing_diagonal(&self) -> Option<usize> {
        self.view().first_missing_diagonal()
    }

    /// Whether every diagonal entry is stored. See [`CsrRef::has_full_diagonal`].
    #[must_use]
    pub fn has_full_diagonal(&self) -> bool {
        self.view().has_full_diagonal()
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The diagonal, absent entries as zero. See [`CsrRef::extract_diagonal`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(3, 3, &[0.0, 2.0, 1.0, 3.0, 1.0, 8.0, 2.0, 0.0, 3.0])?;
    /// assert_eq!(a.extract_diagonal(), vec![0.0, 1.0, 3.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn extract_diagonal(&self) -> Vec<T> {
        self.view().extract_diagonal()
    }

    /// `A ← alpha·I + beta·A` in place, for square or rectangular `A` (Ginkgo's
    /// `add_scaled_identity`). The pattern does not change, so every diagonal entry
    /// `(r, r)`, `r < min(nrows, ncols)`, must be stored; with duplicates, `alpha` goes to the
    /// first one. Values are left untouched by `beta == 1`, diagonals by `alpha == 0`.
    /// Accepts unsorted rows. Parallel over row blocks.
    ///
    /// # Errors
    /// [`Error::MissingDiagonal`] naming the first row without a diagonal entry; the matrix
    /// is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let mut a = Csr::<f64, i32>::try_from_dense_row_major(3, 2, &[2.0, 0.0, 1.0, 2.5, 0.0, -4.0])?;
    /// a.add_scaled_identity(2.0, -1.0)?;
    /// assert_eq!(a.to_dense()?.to_row_major_vec(), vec![0.0, 0.0, -1.0, -0.5, 0.0, 4.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn add_scaled_identity(&mut self, alpha: T, beta: T) -> Result<()> {
        if let Some(row) = self.first_missing_diagonal() {
            return Err(Error::MissingDiagonal {
                op: "add_scaled_identity",
                row,
            });
        }
        let n = self.nrows().min(self.ncols());
        let (ptrs, cols, vals) = self.parts_mut();
        for_each_row_block_mut(ptrs, cols, vals, |block| {
            if beta != T::one() {
                block.vals.iter_mut().for_each(|v| *v *= beta);
            }
            if alpha != T::zero() {
                for r in block.rows.start..block.rows.end.min(n) {
                    let range = block.local_range(r);
                    if let Some(k) = diagonal_position(&block.cols[range.clone()], r) {
                        block.vals[range.start + k] += alpha;
                    }
                }
            }
        });
        Ok(())
    }
}
