//! [`Coo`], the coordinate format: one (row, column, value) triple per stored entry.

use rayon::prelude::*;

use super::common::{check_mult_vec, fill_row_starts, shape_accessors};
use super::format::MatrixFormat;
use crate::error::{Error, Extent, Result, check_fits, check_shape};
use crate::parallel::{balanced_row_blocks, copy_of, even_ranges, piece_count, try_zeroed};
use crate::{Csr, CsrRef, Index, Scalar};

/// A sparse matrix in coordinate form: entry `k` is `(row_idxs[k], col_idxs[k], values[k])`.
///
/// Entries are stored row by row (as Ginkgo's `Coo`), which makes conversion to CSR a
/// prefix count and lets [`Coo::mult_vec`] split the entries evenly between threads
/// (balanced by nnz, robust to very long rows).
///
/// # Invariants (checked by [`Coo::try_from_parts`])
/// - `row_idxs`, `col_idxs` and `values` have the same length `nnz`;
/// - every row index is in `0..nrows`, every column index in `0..ncols`;
/// - row indices are non-decreasing;
/// - `nrows`, `ncols` and `nnz` fit `I`.
///
/// # Properties (not checked, allowed)
/// Columns within a row in any order, duplicate entries (summed by SpMV), explicit zeros.
///
/// # Examples
///
/// ```
/// use csr::{Coo, Csr};
///
/// let coo = Coo::<f64, i32>::try_from_parts(2, 3, vec![0, 0, 1], vec![2, 0, 1], vec![1.0, 2.0, 3.0])?;
/// let mut y = vec![0.0; 2];
/// coo.mult_vec(1.0, &[1.0, 1.0, 1.0], 0.0, &mut y)?;
/// assert_eq!(y, vec![3.0, 3.0]);
/// let a = Csr::from(&coo);
/// assert_eq!(a.row_ptrs(), &[0, 2, 3]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Coo<T, I = i32> {
    nrows: usize,
    ncols: usize,
    row_idxs: Vec<I>,
    col_idxs: Vec<I>,
    values: Vec<T>,
}

/// Entries checked per rayon task in the constructor's scan.
const CHECK_CHUNK: usize = 1 << 14;

impl<T: Scalar, I: Index> Coo<T, I> {
    /// Builds a matrix from its arrays after checking every invariant (see [`Coo`]).
    ///
    /// # Errors
    /// The first violated invariant: [`Error::IndexTooNarrow`] (a size), then
    /// [`Error::TripletLength`], then for the first bad entry in storage order
    /// [`Error::EntryOutOfBounds`] or [`Error::UnsortedRows`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Coo, Error};
    ///
    /// let err = Coo::<f64, i32>::try_from_parts(2, 2, vec![1, 0], vec![0, 0], vec![1.0, 2.0]);
    /// assert_eq!(err, Err(Error::UnsortedRows { pos: 1, row: 0, prev: 1 }));
    /// ```
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        row_idxs: Vec<I>,
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        if row_idxs.len() != col_idxs.len() || col_idxs.len() != values.len() {
            return Err(Error::TripletLength {
                rows: row_idxs.len(),
                cols: col_idxs.len(),
                values: values.len(),
            });
        }
        check_fits::<I>(Extent::Nnz, values.len())?;
        let in_range = |i: I, n: usize| i.try_to_usize().is_some_and(|i| i < n);
        let bad = |k: usize| {
            let (r, c) = (row_idxs[k], col_idxs[k]);
            if !in_range(r, nrows) || !in_range(c, ncols) {
                return Some(Error::EntryOutOfBounds {
                    entry: k,
                    row: r.to_i128(),
                    col: c.to_i128(),
                    nrows,
                    ncols,
                });
            }
            (k > 0 && r < row_idxs[k - 1]).then(|| Error::UnsortedRows {
                pos: k,
                row: r.to_usize(),
                prev: row_idxs[k - 1].to_usize(),
            })
        };
        let first = (0..values.len())
            .into_par_iter()
            .with_min_len(CHECK_CHUNK)
            .find_map_first(bad);
        match first {
            Some(err) => Err(err),
            None => Ok(Self {
                nrows,
                ncols,
                row_idxs,
                col_idxs,
                values,
            }),
        }
    }

    /// The COO form of a CSR matrix (entries in the same order). Parallel over rows.
    #[must_use]
    pub fn from_csr(a: CsrRef<'_, T, I>) -> Self {
        Self::with_arrays(
            a.shape(),
            a.row_ptrs(),
            copy_of(a.col_idxs()),
            copy_of(a.values()),
        )
    }

    /// The COO matrix of a CSR matrix's shape and row pointers and its column and value
    /// arrays (validated CSR parts).
    fn with_arrays(
        (nrows, ncols): (usize, usize),
        ptrs: &[I],
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Self {
        let nnz = values.len();
        let mut row_idxs = crate::parallel::zeroed_output(nnz);
        let bounds = balanced_row_blocks(ptrs, piece_count(nnz + nrows));
        let mut pieces = Vec::with_capacity(bounds.len());
        let mut rest = row_idxs.as_mut_slice();
        for w in bounds.windows(2) {
            let n = ptrs[w[1]].to_usize() - ptrs[w[0]].to_usize();
            let (head, tail) = rest.split_at_mut(n);
            rest = tail;
            pieces.push((w[0]..w[1], head));
        }
        pieces.into_par_iter().for_each(|(rows, out)| {
            let base = ptrs[rows.start].to_usize();
            for r in rows {
                let range = ptrs[r].to_usize() - base..ptrs[r + 1].to_usize() - base;
                // r < nrows, which fits I (CSR invariant).
                out[range].fill(I::truncate(r));
            }
        });
        Self {
            nrows,
            ncols,
            row_idxs,
            col_idxs,
            values,
        }
    }

    /// The CSR form (entries in the same order). Parallel.
    ///
    /// # Panics
    /// If the `nrows + 1` row pointers cannot be allocated (a COO matrix of 2⁴⁰ rows);
    /// [`Coo::try_to_csr`] returns an error instead.
    #[must_use]
    pub fn to_csr(&self) -> Csr<T, I> {
        self.try_to_csr()
            .unwrap_or_else(|e| panic!("CSR form of a {:?} COO matrix: {e}", self.shape()))
    }

    /// The CSR form (entries in the same order), or an error if its row pointers cannot be
    /// allocated.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`].
    pub fn try_to_csr(&self) -> Result<Csr<T, I>> {
        csr_of(
            self.shape(),
            &self.row_idxs,
            copy_of(&self.col_idxs),
            copy_of(&self.values),
        )
    }

    /// Takes the matrix apart: `(nrows, ncols, row_idxs, col_idxs, values)`.
    #[must_use]
    pub fn into_parts(self) -> (usize, usize, Vec<I>, Vec<I>, Vec<T>) {
        (
            self.nrows,
            self.ncols,
            self.row_idxs,
            self.col_idxs,
            self.values,
        )
    }

    shape_accessors!();

    /// Number of stored entries.
    #[must_use]
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// The row index of every entry (non-decreasing).
    #[must_use]
    pub fn row_idxs(&self) -> &[I] {
        &self.row_idxs
    }

    /// The column index of every entry.
    #[must_use]
    pub fn col_idxs(&self) -> &[I] {
        &self.col_idxs
    }

    /// The value of every entry.
    #[must_use]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The values, mutable (the structure stays fixed).
    #[must_use]
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// The same matrix with every value mapped by `f` (for example to another precision).
    #[must_use]
    pub fn map_values<U: Scalar>(&self, f: impl Fn(T) -> U + Sync) -> Coo<U, I> {
        Coo {
            nrows: self.nrows,
            ncols: self.ncols,
            row_idxs: self.row_idxs.clone(),
            col_idxs: self.col_idxs.clone(),
            values: self.values.par_iter().map(|&v| f(v)).collect(),
        }
    }

    /// `y = alpha * A * x + beta * y`. With `beta == 0` the old `y` is not read.
    ///
    /// The entries are cut into equal pieces, one per thread; each piece writes the rows it
    /// owns (those starting inside it) and hands the partial sum of a row continued from
    /// the previous piece back as a carry, added afterwards. Per row, entries are summed in
    /// storage order within a piece.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    pub fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        check_mult_vec("coo mult_vec", self.shape(), x.len(), y.len())?;
        let nnz = self.nnz();
        let parts = even_ranges(nnz, piece_count(nnz + self.nrows));
        // Piece p owns rows owned[p]..owned[p + 1]: from the row of its first entry.
        let mut owned: Vec<usize> = parts
            .iter()
            .map(|e| match e.start {
                0 => 0,
                s if s < nnz => self.row_idxs[s].to_usize(),
                _ => self.nrows,
            })
            .collect();
        owned.push(self.nrows);
        let mut pieces = Vec::with_capacity(parts.len());
        let mut rest: &mut [T] = &mut *y;
        for (p, entries) in parts.into_iter().enumerate() {
            let (head, tail) = rest.split_at_mut(owned[p + 1] - owned[p]);
            rest = tail;
            pieces.push((entries, owned[p], head));
        }
        let carries: Vec<Option<(usize, T)>> = pieces
            .into_par_iter()
            .map(|(entries, row0, ys)| self.piece_mult_vec(entries, row0, alpha, x, beta, ys))
            .collect();
        // A carried row belongs to a later piece, which has written it already.
        for (row, sum) in carries.into_iter().flatten() {
            y[row] += alpha * sum;
        }
        Ok(())
    }

    /// One piece of [`Coo::mult_vec`]: entries `entries`, owning the rows of `ys` (from
    /// `row0`). Returns the partial sum of the row its last entries continue into, if that
    /// row is owned by a later piece.
    fn piece_mult_vec(
        &self,
        entries: std::ops::Range<usize>,
        row0: usize,
        alpha: T,
        x: &[T],
        beta: T,
        ys: &mut [T],
    ) -> Option<(usize, T)> {
        let (rows, cols, vals) = (
            &self.row_idxs[entries.clone()],
            &self.col_idxs[entries.clone()],
            &self.values[entries],
        );
        // Entries of rows before row0 (continued from an earlier piece) cannot occur: row0
        // is the row of this piece's first entry.
        let mut k = 0;
        for (i, yr) in ys.iter_mut().enumerate() {
            let r = row0 + i;
            let mut sum = T::zero();
            while k < rows.len() && rows[k].to_usize() == r {
                sum += vals[k] * x[cols[k].to_usize()];
                k += 1;
            }
            *yr = if beta == T::zero() {
                alpha * sum
            } else {
                alpha * sum + beta * *yr
            };
        }
        // What is left belongs to the first row of the next piece (rows are sorted).
        let rest = k..rows.len();
        (!rest.is_empty()).then(|| {
            let sum = rest
                .clone()
                .fold(T::zero(), |s, k| s + vals[k] * x[cols[k].to_usize()]);
            (rows[rest.start].to_usize(), sum)
        })
    }
}

impl<T: Scalar, I: Index> From<&Csr<T, I>> for Coo<T, I> {
    fn from(a: &Csr<T, I>) -> Self {
        Self::from_csr(a.view())
    }
}

impl<T: Scalar, I: Index> From<Csr<T, I>> for Coo<T, I> {
    /// Moves the column and value arrays over (no copy).
    fn from(a: Csr<T, I>) -> Self {
        let (nrows, ncols, row_ptrs, col_idxs, values) = a.into_parts();
        Self::with_arrays((nrows, ncols), &row_ptrs, col_idxs, values)
    }
}

impl<T: Scalar, I: Index> From<&Coo<T, I>> for Csr<T, I> {
    fn from(a: &Coo<T, I>) -> Self {
        a.to_csr()
    }
}

impl<T: Scalar, I: Index> From<Coo<T, I>> for Csr<T, I> {
    /// Moves the column and value arrays over (no copy).
    ///
    /// # Panics
    /// As [`Coo::to_csr`].
    fn from(a: Coo<T, I>) -> Self {
        let shape = a.shape();
        csr_of(shape, &a.row_idxs, a.col_idxs, a.values)
            .unwrap_or_else(|e| panic!("CSR form of a {shape:?} COO matrix: {e}"))
    }
}

/// The CSR matrix of a valid COO matrix's shape, row indices, columns and values.
///
/// # Errors
/// [`Error::OutOfMemory`] if the `nrows + 1` row pointers cannot be allocated.
fn csr_of<T: Scalar, I: Index>(
    (nrows, ncols): (usize, usize),
    row_idxs: &[I],
    col_idxs: Vec<I>,
    values: Vec<T>,
) -> Result<Csr<T, I>> {
    // nrows + 1 fits usize: `try_from_parts` checks it.
    let mut row_ptrs = try_zeroed(nrows + 1, "row pointer array")?;
    fill_row_starts(row_idxs, &mut row_ptrs, I::truncate);
    // SAFETY: the arrays come from a `Coo`, whose rows are sorted and < nrows, so the counts
    // give non-decreasing pointers from 0 to nnz (which fits I); columns are < ncols; sizes
    // fit I (all checked when the Coo was built; its fields are private).
    Ok(unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, col_idxs, values) })
}

impl<T: Scalar, I: Index> MatrixFormat<T, I> for Coo<T, I> {
    const NAME: &'static str = "coo";

    fn shape(&self) -> (usize, usize) {
        self.shape()
    }

    fn stored_slots(&self) -> usize {
        self.nnz()
    }

    fn storage_bytes(&self) -> usize {
        self.nnz() * (2 * std::mem::size_of::<I>() + std::mem::size_of::<T>())
    }

    fn try_from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
        Ok(Self::from_csr(a))
    }

    fn to_csr(&self) -> Result<Csr<T, I>> {
        self.try_to_csr()
    }

    fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        self.mult_vec(alpha, x, beta, y)
    }
}
