//! Transposition by a stable parallel counting sort.

use rayon::prelude::*;

use crate::parallel::{DisjointWriter, balanced_row_blocks, piece_count, plan_scatter};
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
        let (nrows, ncols, nnz) = (self.nrows(), self.ncols(), self.nnz());
        let pieces = if ncols > nnz {
            1
        } else {
            piece_count(nnz + nrows)
        };
        let bounds = balanced_row_blocks(self.row_ptrs(), pieces);
        let chunks: Vec<_> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
        let a = *self;
        let plan = plan_scatter(&chunks, ncols, |rows, counts| {
            for &c in &a.col_idxs()
                [a.row_ptrs()[rows.start].to_usize()..a.row_ptrs()[rows.end].to_usize()]
            {
                counts[c.to_usize()] += 1;
            }
        });
        let mut out_rows = vec![I::ZERO; nnz];
        let mut out_vals = vec![T::default(); nnz];
        {
            let rows_w = DisjointWriter::new(&mut out_rows);
            let vals_w = DisjointWriter::new(&mut out_vals);
            chunks
                .into_par_iter()
                .zip(plan.cursors)
                .for_each(|(rows, mut cursor)| {
                    for r in rows {
                        let (cols, vals) = a.row(r);
                        for (&c, &v) in cols.iter().zip(vals) {
                            let slot = &mut cursor[c.to_usize()];
                            // SAFETY: the scatter plan gives each chunk a private, disjoint
                            // run of output positions per column, sized by its own count, so
                            // `*slot` is written by this thread only, exactly once.
                            unsafe {
                                rows_w.write(*slot, I::truncate(r));
                                vals_w.write(*slot, v);
                            }
                            *slot += 1;
                        }
                    }
                });
        }
        let ptrs = plan.bucket_ptrs.into_iter().map(I::truncate).collect();
        // SAFETY: the counting sort places all nnz entries: ptrs has ncols + 1 non-decreasing
        // entries from 0 to nnz, every stored index is a row < nrows, and nrows, ncols and nnz
        // fit `I` because they did for the input.
        unsafe { Csr::from_parts_unchecked(ncols, nrows, ptrs, out_rows, out_vals) }
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
