//! [`Csr`], the owned compressed-sparse-row matrix, and [`CsrRef`], its borrowed view.

use std::ops::Range;

use crate::error::{Error, Result, check_shape};
use crate::formats::validate::check_csr;
use crate::parallel::{copy_of, try_filled};
use crate::{Element, Index, Scalar, Strategy};

/// A sparse matrix in compressed sparse row form, owning its arrays.
///
/// Row `r` holds the entries `row_ptrs[r]..row_ptrs[r + 1]` of `col_idxs` and `values`.
///
/// # Invariants (checked by every safe constructor)
/// - `row_ptrs.len() == nrows + 1`, `row_ptrs[0] == 0`, `row_ptrs` non-decreasing,
///   `row_ptrs[nrows] == nnz == col_idxs.len() == values.len()`;
/// - every column index lies in `0..ncols`;
/// - `nrows`, `ncols` and `nnz` fit the index type `I`.
///
/// # Properties (not checked, allowed)
/// - columns inside a row may be in any order ([`Csr::is_sorted_by_column_index`]);
/// - duplicate entries may occur ([`Csr::has_duplicates`], [`Csr::sum_duplicates`]);
/// - explicit zeros may be stored ([`Csr::eliminate_zeros`]).
///
/// Each operation's docs say whether it accepts unsorted rows and duplicates.
///
/// `T` is any [`Element`]: a [`Scalar`], or `()` for a pattern matrix ([`CsrPattern`]).
///
/// # Examples
///
/// ```
/// use csr::Csr;
///
/// // [[1, 0, 2],
/// //  [0, 0, 3]]
/// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2, 3], vec![0, 2, 2], vec![1.0, 2.0, 3.0])?;
/// assert_eq!(a.nnz(), 3);
/// assert_eq!(a.row(0), (&[0, 2][..], &[1.0, 2.0][..]));
/// # Ok::<(), csr::Error>(())
/// ```
///
/// A matrix carries the SpMV [`Strategy`] kernels use for it ([`Csr::set_strategy`],
/// [`Strategy::Automatic`] by default); clones and views keep it. Equality (`==`) compares
/// the matrices, not their strategies. `clone` copies each array on the calling thread;
/// [`CsrRef::to_csr`] (`a.view().to_csr()`) copies the large ones on all threads.
#[derive(Clone, Debug)]
pub struct Csr<T, I = i32> {
    nrows: usize,
    ncols: usize,
    row_ptrs: Vec<I>,
    col_idxs: Vec<I>,
    values: Vec<T>,
    strategy: Strategy,
}

/// A pattern (structure-only) matrix: every stored entry is implicitly one, and no value
/// array is kept.
///
/// # Examples
///
/// ```
/// use csr::CsrPattern;
///
/// let p = CsrPattern::<i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![(); 2])?;
/// let a = p.to_valued::<f64>();
/// assert_eq!(a.values(), &[1.0, 1.0]);
/// # Ok::<(), csr::Error>(())
/// ```
pub type CsrPattern<I = i32> = Csr<(), I>;

/// A borrowed CSR matrix over slices it does not own (zero copy), with the same invariants
/// as [`Csr`].
///
/// `CsrRef` is `Copy`; [`Csr::view`] makes one for free.
///
/// # Examples
///
/// ```
/// use csr::CsrRef;
///
/// let (ptrs, cols, vals) = ([0_i64, 1, 1], [2_i64], [5.0_f32]);
/// let a = CsrRef::try_from_parts(2, 3, &ptrs, &cols, &vals)?;
/// assert_eq!(a.iter().collect::<Vec<_>>(), vec![(0, 2, 5.0)]);
/// # Ok::<(), csr::Error>(())
/// ```
///
/// A view carries its matrix's SpMV [`Strategy`] ([`CsrRef::with_strategy`]); equality
/// ignores it.
#[derive(Clone, Copy, Debug)]
pub struct CsrRef<'a, T, I = i32> {
    nrows: usize,
    ncols: usize,
    row_ptrs: &'a [I],
    col_idxs: &'a [I],
    values: &'a [T],
    strategy: Strategy,
}

impl<T: PartialEq, I: PartialEq> PartialEq for CsrRef<'_, T, I> {
    fn eq(&self, other: &Self) -> bool {
        self.shape_and_arrays() == other.shape_and_arrays()
    }
}

impl<T: PartialEq, I: PartialEq> PartialEq for Csr<T, I> {
    fn eq(&self, other: &Self) -> bool {
        self.view_any() == other.view_any()
    }
}

impl<'a, T, I> CsrRef<'a, T, I> {
    /// Everything equality compares (not the strategy).
    #[allow(clippy::type_complexity, reason = "a private tuple of the fields")]
    fn shape_and_arrays(&self) -> (usize, usize, &'a [I], &'a [I], &'a [T]) {
        (
            self.nrows,
            self.ncols,
            self.row_ptrs,
            self.col_idxs,
            self.values,
        )
    }
}

impl<T, I> Csr<T, I> {
    /// A view without trait bounds (for equality; [`Csr::view`] is this).
    fn view_any(&self) -> CsrRef<'_, T, I> {
        CsrRef {
            nrows: self.nrows,
            ncols: self.ncols,
            row_ptrs: &self.row_ptrs,
            col_idxs: &self.col_idxs,
            values: &self.values,
            strategy: self.strategy,
        }
    }
}

impl<'a, T: Element, I: Index> CsrRef<'a, T, I> {
    /// Wraps foreign arrays after checking every invariant of [`Csr`].
    ///
    /// # Errors
    /// The first violated invariant, as its own [`Error`] variant naming the position:
    /// [`Error::IndexTooNarrow`], [`Error::RowPtrsLength`], [`Error::ValuesLength`],
    /// [`Error::RowPtrsStart`], [`Error::DecreasingRowPtrs`], [`Error::RowPtrsEnd`],
    /// [`Error::ColumnOutOfBounds`].
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        row_ptrs: &'a [I],
        col_idxs: &'a [I],
        values: &'a [T],
    ) -> Result<Self> {
        check_csr(nrows, ncols, row_ptrs, col_idxs, values.len())?;
        Ok(Self {
            nrows,
            ncols,
            row_ptrs,
            col_idxs,
            values,
            strategy: Strategy::default(),
        })
    }

    /// Wraps foreign arrays without checking them.
    ///
    /// # Safety
    /// The arrays must satisfy every invariant listed on [`Csr`]: kernels index them without
    /// bounds checks, so a violation is undefined behaviour.
    #[must_use]
    pub unsafe fn from_parts_unchecked(
        nrows: usize,
        ncols: usize,
        row_ptrs: &'a [I],
        col_idxs: &'a [I],
        values: &'a [T],
    ) -> Self {
        debug_assert!(check_csr(nrows, ncols, row_ptrs, col_idxs, values.len()).is_ok());
        Self {
            nrows,
            ncols,
            row_ptrs,
            col_idxs,
            values,
            strategy: Strategy::default(),
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    #[must_use]
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// `(nrows, ncols)`.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of stored entries (explicit zeros and duplicates included).
    #[must_use]
    pub fn nnz(&self) -> usize {
        self.col_idxs.len()
    }

    /// The SpMV strategy kernels use for this view (its matrix's, unless changed).
    #[must_use]
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The same view with its SpMV strategy set to `strategy` (the matrix is untouched).
    #[must_use]
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The row pointers, `nrows + 1` entries.
    #[must_use]
    pub fn row_ptrs(&self) -> &'a [I] {
        self.row_ptrs
    }

    /// The column index of every stored entry.
    #[must_use]
    pub fn col_idxs(&self) -> &'a [I] {
        self.col_idxs
    }

    /// The value of every stored entry (empty for a pattern matrix).
    #[must_use]
    pub fn values(&self) -> &'a [T] {
        self.values
    }

    /// The positions in `col_idxs`/`values` of row `row`'s entries.
    ///
    /// # Panics
    /// If `row >= nrows`.
    #[must_use]
    #[track_caller]
    pub fn row_range(&self, row: usize) -> Range<usize> {
        self.row_ptrs[row].to_usize()..self.row_ptrs[row + 1].to_usize()
    }

    /// Row `row` as (column indices, values) slices, in storage order.
    ///
    /// For a pattern matrix the value slice is `&[(); len]`.
    ///
    /// # Panics
    /// If `row >= nrows`; [`CsrRef::get_row`] returns `None` instead.
    #[must_use]
    #[track_caller]
    pub fn row(&self, row: usize) -> (&'a [I], &'a [T]) {
        assert!(
            row < self.nrows,
            "row {row} out of bounds ({} rows)",
            self.nrows
        );
        let range = self.row_range(row);
        (&self.col_idxs[range.clone()], &self.values[range])
    }

    /// Row `row` as (column indices, values), or `None` if `row >= nrows`.
    #[must_use]
    pub fn get_row(&self, row: usize) -> Option<(&'a [I], &'a [T])> {
        (row < self.nrows).then(|| self.row(row))
    }

    /// The number of stored entries of each row.
    pub fn row_lengths(&self) -> impl ExactSizeIterator<Item = usize> + 'a {
        self.row_ptrs
            .windows(2)
            .map(|w| w[1].to_usize() - w[0].to_usize())
    }

    /// Every stored entry as `(row, col, value)`, row by row in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, T)> + 'a {
        let this = *self;
        (0..self.nrows).flat_map(move |r| {
            let (cols, vals) = this.row(r);
            cols.iter()
                .zip(vals.iter())
                .map(move |(&c, &v)| (r, c.to_usize(), v))
        })
    }

    /// Copies the view into an owned [`Csr`]; arrays of 32 MB and more are copied on all
    /// threads.
    #[must_use]
    pub fn to_csr(&self) -> Csr<T, I> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            row_ptrs: copy_of(self.row_ptrs),
            col_idxs: copy_of(self.col_idxs),
            values: copy_of(self.values),
            strategy: self.strategy,
        }
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// Builds a matrix from its arrays after checking every invariant (see [`Csr`]).
    ///
    /// Never panics, whatever the arrays hold.
    ///
    /// # Errors
    /// The first violated invariant, as its own [`Error`] variant naming the position:
    /// [`Error::IndexTooNarrow`], [`Error::RowPtrsLength`], [`Error::ValuesLength`],
    /// [`Error::RowPtrsStart`], [`Error::DecreasingRowPtrs`], [`Error::RowPtrsEnd`],
    /// [`Error::ColumnOutOfBounds`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Error};
    ///
    /// let err = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![0, 5], vec![1.0, 2.0]);
    /// assert_eq!(err, Err(Error::ColumnOutOfBounds { row: 1, pos: 1, col: 5, ncols: 2 }));
    /// ```
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        row_ptrs: Vec<I>,
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Result<Self> {
        check_csr(nrows, ncols, &row_ptrs, &col_idxs, values.len())?;
        Ok(Self {
            nrows,
            ncols,
            row_ptrs,
            col_idxs,
            values,
            strategy: Strategy::default(),
        })
    }

    /// Builds a matrix from its arrays without checking them.
    ///
    /// # Safety
    /// The arrays must satisfy every invariant listed on [`Csr`]: kernels index them without
    /// bounds checks, so a violation is undefined behaviour.
    #[must_use]
    pub unsafe fn from_parts_unchecked(
        nrows: usize,
        ncols: usize,
        row_ptrs: Vec<I>,
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Self {
        debug_assert!(check_csr(nrows, ncols, &row_ptrs, &col_idxs, values.len()).is_ok());
        Self {
            nrows,
            ncols,
            row_ptrs,
            col_idxs,
            values,
            strategy: Strategy::default(),
        }
    }

    /// An `nrows x ncols` matrix with no stored entries.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if a size does not fit `I`; [`Error::SizeOverflow`] if
    /// `nrows + 1` or `ncols + 1` overflows; [`Error::OutOfMemory`] if the row pointers
    /// cannot be allocated.
    pub fn empty(nrows: usize, ncols: usize) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        Ok(Self {
            nrows,
            ncols,
            row_ptrs: try_filled(nrows + 1, I::ZERO, "row pointer array")?,
            col_idxs: Vec::new(),
            values: Vec::new(),
            strategy: Strategy::default(),
        })
    }

    /// Takes the matrix apart: `(nrows, ncols, row_ptrs, col_idxs, values)`.
    #[must_use]
    pub fn into_parts(self) -> (usize, usize, Vec<I>, Vec<I>, Vec<T>) {
        (
            self.nrows,
            self.ncols,
            self.row_ptrs,
            self.col_idxs,
            self.values,
        )
    }

    /// A free borrowed view of the matrix.
    #[must_use]
    pub fn view(&self) -> CsrRef<'_, T, I> {
        self.view_any()
    }

    /// The SpMV strategy kernels use for this matrix ([`Strategy::Automatic`] unless set).
    #[must_use]
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Sets the SpMV strategy kernels use for this matrix (handles made afterwards).
    pub fn set_strategy(&mut self, strategy: Strategy) {
        self.strategy = strategy;
    }

    /// The matrix with its SpMV strategy set to `strategy`.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::{Kernel, NativeKernel};
    /// use csr::{Csr, Strategy};
    ///
    /// let a = Csr::<f64, i32>::identity(4)?.with_strategy(Strategy::LoadBalance);
    /// let h = Kernel::<f64, i32>::to_handle(&NativeKernel, a.view())?;
    /// assert_eq!(h.strategy(), Some(Strategy::LoadBalance));
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Number of rows.
    #[must_use]
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    #[must_use]
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// `(nrows, ncols)`.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of stored entries (explicit zeros and duplicates included).
    #[must_use]
    pub fn nnz(&self) -> usize {
        self.col_idxs.len()
    }

    /// The row pointers, `nrows + 1` entries.
    #[must_use]
    pub fn row_ptrs(&self) -> &[I] {
        &self.row_ptrs
    }

    /// The column index of every stored entry.
    #[must_use]
    pub fn col_idxs(&self) -> &[I] {
        &self.col_idxs
    }

    /// The value of every stored entry.
    #[must_use]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The values, mutable (the structure stays fixed, so no invariant can break).
    #[must_use]
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// Row `row` as (column indices, values) slices, in storage order.
    ///
    /// # Panics
    /// If `row >= nrows`; [`Csr::get_row`] returns `None` instead.
    #[must_use]
    #[track_caller]
    pub fn row(&self, row: usize) -> (&[I], &[T]) {
        self.view().row(row)
    }

    /// Row `row` as (column indices, values), or `None` if `row >= nrows`.
    #[must_use]
    pub fn get_row(&self, row: usize) -> Option<(&[I], &[T])> {
        self.view().get_row(row)
    }

    /// The number of stored entries of each row.
    pub fn row_lengths(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.row_ptrs
            .windows(2)
            .map(|w| w[1].to_usize() - w[0].to_usize())
    }

    /// Every stored entry as `(row, col, value)`, row by row in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, T)> + '_ {
        let view: CsrRef<'_, T, I> = self.view();
        (0..self.nrows).flat_map(move |r| {
            let (cols, vals) = view.row(r);
            cols.iter()
                .zip(vals.iter())
                .map(move |(&c, &v)| (r, c.to_usize(), v))
        })
    }

    /// Mutable access to the column indices and values of rows `0..nrows` for in-place
    /// structural algorithms that keep every invariant.
    pub(crate) fn parts_mut(&mut self) -> (&[I], &mut [I], &mut [T]) {
        (&self.row_ptrs, &mut self.col_idxs, &mut self.values)
    }

    /// Replaces the arrays with ones produced by an internal algorithm that upholds every
    /// invariant.
    pub(crate) fn set_arrays(&mut self, row_ptrs: Vec<I>, col_idxs: Vec<I>, values: Vec<T>) {
        debug_assert!(
            check_csr(self.nrows, self.ncols, &row_ptrs, &col_idxs, values.len()).is_ok()
        );
        self.row_ptrs = row_ptrs;
        self.col_idxs = col_idxs;
        self.values = values;
    }
}

impl<I: Index> CsrPattern<I> {
    /// The valued matrix with this pattern and every value one.
    #[must_use]
    pub fn to_valued<T: Scalar>(&self) -> Csr<T, I> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            row_ptrs: self.row_ptrs.clone(),
            col_idxs: self.col_idxs.clone(),
            values: vec![T::one(); self.nnz()],
            strategy: self.strategy,
        }
    }

    /// Attaches `values` to this pattern.
    ///
    /// # Errors
    /// [`Error::ValuesLength`] if `values.len() != nnz`.
    pub fn with_values<T: Scalar>(self, values: Vec<T>) -> Result<Csr<T, I>> {
        if values.len() != self.nnz() {
            return Err(Error::ValuesLength {
                col_idxs: self.nnz(),
                values: values.len(),
            });
        }
        Ok(Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            row_ptrs: self.row_ptrs,
            col_idxs: self.col_idxs,
            values,
            strategy: self.strategy,
        })
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The pattern of this matrix (its structure without values).
    #[must_use]
    pub fn to_pattern(&self) -> CsrPattern<I> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            row_ptrs: self.row_ptrs.clone(),
            col_idxs: self.col_idxs.clone(),
            values: vec![(); self.nnz()],
            strategy: self.strategy,
        }
    }

    /// The `n x n` identity matrix.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if `n` does not fit `I`; [`Error::SizeOverflow`] if
    /// `n + 1` overflows; [`Error::OutOfMemory`] if the arrays cannot be allocated.
    pub fn identity(n: usize) -> Result<Self> {
        let mut a = Self::empty(n, n)?;
        a.col_idxs = try_filled(n, I::ZERO, "column index array")?;
        a.values = try_filled(n, T::one(), "value array")?;
        for (k, (p, c)) in a.row_ptrs[1..].iter_mut().zip(&mut a.col_idxs).enumerate() {
            // k < n, which fits I (checked by `empty`).
            *p = I::truncate(k + 1);
            *c = I::truncate(k);
        }
        Ok(a)
    }

    /// Builds a matrix from a dense row-major array, dropping exact zeros.
    ///
    /// # Errors
    /// [`Error::DenseLength`] if `values.len() != nrows * ncols`; [`Error::IndexTooNarrow`]
    /// if a size or the number of nonzeros does not fit `I`.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(2, 2, &[1.0, 0.0, 0.0, 4.0])?;
    /// assert_eq!(a.col_idxs(), &[0, 1]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn try_from_dense_row_major(nrows: usize, ncols: usize, values: &[T]) -> Result<Self> {
        let size = nrows.checked_mul(ncols).ok_or(Error::SizeOverflow {
            what: "nrows * ncols",
        })?;
        if values.len() != size {
            return Err(Error::DenseLength {
                nrows,
                ncols,
                actual: values.len(),
            });
        }
        crate::ops::dense::csr_of_strided(nrows, ncols, values, ncols)
    }
}
