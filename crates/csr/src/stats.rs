//! Row-length statistics of a matrix, as `csr info` prints them and strategies use them.

use crate::{CsrRef, Element, Index};

/// Summary of how entries are spread over rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowStats {
    /// Number of rows.
    pub nrows: usize,
    /// Number of stored entries.
    pub nnz: usize,
    /// Shortest row length (0 for a matrix without rows).
    pub min: usize,
    /// Longest row length (0 for a matrix without rows).
    pub max: usize,
    /// Mean row length (0 for a matrix without rows).
    pub mean: f64,
    /// Rows with no stored entry.
    pub empty_rows: usize,
}

impl RowStats {
    /// Computes the statistics in one pass over `row_ptrs`.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, RowStats};
    ///
    /// let a = Csr::<f64, i32>::try_from_parts(3, 3, vec![0, 2, 2, 3], vec![0, 1, 2], vec![1.0; 3])?;
    /// let s = RowStats::of(a.view());
    /// assert_eq!((s.min, s.max, s.empty_rows), (0, 2, 1));
    /// assert_eq!(s.mean, 1.0);
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn of<T: Element, I: Index>(a: CsrRef<'_, T, I>) -> Self {
        let (mut min, mut max, mut empty_rows) = (usize::MAX, 0, 0);
        for len in a.row_lengths() {
            min = min.min(len);
            max = max.max(len);
            empty_rows += usize::from(len == 0);
        }
        let nrows = a.nrows();
        Self {
            nrows,
            nnz: a.nnz(),
            min: if nrows == 0 { 0 } else { min },
            max,
            mean: if nrows == 0 {
                0.0
            } else {
                a.nnz() as f64 / nrows as f64
            },
            empty_rows,
        }
    }
}
