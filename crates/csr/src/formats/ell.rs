//! [`Ell`], the ELLPACK format: every row padded to the same number of slots, stored
//! column-major.

use rayon::prelude::*;

use super::common::{csr_convertible_format, shape_accessors};
use super::format::MatrixFormat;
use super::padded::{
    self, Block, LANES, Layout, PaddedStorage, check_len, padding_index, slot_count,
};
use super::padded_simd::Simd;
use crate::error::{Error, Result, check_shape};
use crate::{Csr, CsrRef, Index, Scalar};

/// A sparse matrix in ELLPACK form: each row has `width` slots; slot `k` of row `r` lies at
/// `r + k * stride` (column-major), so consecutive rows are adjacent in memory.
///
/// A row with fewer than `width` entries is padded with slots whose column index is
/// [`padding_index`] (`-1` for signed index types, `MAX` for unsigned ones) and whose value
/// is zero; padding may sit anywhere in a row. Rows `nrows..stride` (stride padding) hold
/// only padding. Converting from CSR uses `width` = the longest row and `stride = nrows`.
///
/// # Invariants (checked by [`Ell::try_from_parts`])
/// - `stride >= nrows`; `col_idxs` and `values` hold `stride * width` slots;
/// - every slot holds a column in `0..ncols` or the padding index; padding slots hold
///   zero; slots of rows `>= nrows` are padding;
/// - `nrows` and `ncols` fit `I`.
///
/// # Properties (not checked, allowed)
/// Columns within a row in any order, duplicates (summed by SpMV), explicit zeros.
///
/// # Examples
///
/// ```
/// use csr::{Csr, Ell};
///
/// // [[1, 3, 2],
/// //  [0, 5, 0]]
/// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 3, 4], vec![0, 1, 2, 1], vec![1.0, 3.0, 2.0, 5.0])?;
/// let ell = Ell::try_from(&a)?;
/// assert_eq!((ell.width(), ell.stride()), (3, 2));
/// assert_eq!(ell.col_idxs(), &[0, 1, 1, -1, 2, -1]);
/// assert_eq!(ell.values(), &[1.0, 5.0, 3.0, 0.0, 2.0, 0.0]);
/// assert_eq!(Csr::try_from(&ell)?, a);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Ell<T, I = i32> {
    nrows: usize,
    ncols: usize,
    width: usize,
    stride: usize,
    col_idxs: Vec<I>,
    values: Vec<T>,
}

/// The ELL layout: groups of [`LANES`] rows, each one block of `width` slots per row.
pub(crate) struct EllLayout {
    pub nrows: usize,
    pub width: usize,
    pub stride: usize,
}

impl Layout for EllLayout {
    fn group_rows(&self) -> usize {
        LANES
    }

    fn for_each_block(&self, g: usize, mut f: impl FnMut(Block)) {
        let row = g * LANES;
        if row < self.nrows {
            f(Block {
                row,
                rows: LANES.min(self.nrows - row),
                base: row,
                step: self.stride,
                len: self.width,
            });
        }
    }

    fn nrows(&self) -> usize {
        self.nrows
    }

    fn nslots(&self) -> usize {
        self.stride * self.width
    }
}

impl<T: Scalar, I: Index> Ell<T, I> {
    /// Builds a matrix from its arrays after checking every invariant (see [`Ell`]).
    ///
    /// # Errors
    /// The first violated invariant: [`Error::IndexTooNarrow`] (a size),
    /// [`Error::StrideTooSmall`], [`Error::SizeOverflow`] (`stride * width`),
    /// [`Error::ArrayLength`], then for the first bad slot in storage order
    /// [`Error::NonZeroPadding`], [`Error::EntryPastLastRow`] or
    /// [`Error::SlotOutOfBounds`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Ell, Error};
    ///
    /// let err = Ell::<f64, i32>::try_from_parts(2, 2, 1, 2, vec![0, 7], vec![1.0, 2.0]);
    /// assert_eq!(err, Err(Error::SlotOutOfBounds { format: "ell", row: 1, pos: 1, col: 7, ncols: 2 }));
    /// ```
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        width: usize,
        stride: usize,
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        if stride < nrows {
            return Err(Error::StrideTooSmall {
                format: "ell",
                stride,
                what: "number of rows",
                min: nrows,
            });
        }
        let nslots = slot_count(stride, width, "ell stride * width")?;
        check_len("ell", "col_idxs", nslots, col_idxs.len())?;
        check_len("ell", "values", nslots, values.len())?;
        let segments = (0..width).into_par_iter().map(|k| (k * stride, 0, stride));
        padded::check_slots("ell", nrows, ncols, &col_idxs, &values, segments)?;
        Ok(Self {
            nrows,
            ncols,
            width,
            stride,
            col_idxs,
            values,
        })
    }

    /// The ELL form of a CSR matrix with `stride = nrows`.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `nrows * width` slots cannot be allocated.
    pub fn from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
        Self::from_csr_with_stride(a, a.nrows())
    }

    /// The ELL form of a CSR matrix with a given stride (`>= nrows`, e.g. rounded up for
    /// alignment). Each row's entries keep their order; `width` is the longest row.
    ///
    /// # Errors
    /// [`Error::StrideTooSmall`] if `stride < nrows`; [`Error::SizeOverflow`] if
    /// `stride * width` slots cannot be allocated.
    pub fn from_csr_with_stride(a: CsrRef<'_, T, I>, stride: usize) -> Result<Self> {
        let width = a.row_lengths().max().unwrap_or(0);
        Self::from_csr_parts(a, width, stride)
    }

    /// The first `width` entries of every row of `a` in ELL form (the ELL part of a
    /// [`Hybrid`](crate::Hybrid) matrix when `width` is less than the longest row).
    pub(crate) fn from_csr_parts(a: CsrRef<'_, T, I>, width: usize, stride: usize) -> Result<Self> {
        if stride < a.nrows() {
            return Err(Error::StrideTooSmall {
                format: "ell",
                stride,
                what: "number of rows",
                min: a.nrows(),
            });
        }
        let nslots = slot_count(stride, width, "ell stride * width")?;
        let (mut col_idxs, mut values) = padded::padding_slots(nslots, "ell storage")?;
        let layout = EllLayout {
            nrows: a.nrows(),
            width,
            stride,
        };
        padded::fill_from_csr(&layout, a, &mut col_idxs, &mut values);
        Ok(Self {
            nrows: a.nrows(),
            ncols: a.ncols(),
            width,
            stride,
            col_idxs,
            values,
        })
    }

    /// The CSR form: each row's non-padding slots in slot order. Parallel.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if the number of entries does not fit `I`.
    pub fn to_csr(&self) -> Result<Csr<T, I>> {
        padded::to_csr(self, None)
    }

    /// Takes the matrix apart: `(nrows, ncols, width, stride, col_idxs, values)`.
    #[must_use]
    pub fn into_parts(self) -> (usize, usize, usize, usize, Vec<I>, Vec<T>) {
        (
            self.nrows,
            self.ncols,
            self.width,
            self.stride,
            self.col_idxs,
            self.values,
        )
    }

    shape_accessors!();

    /// The number of slots, padding included (`stride * width`).
    #[must_use]
    pub fn stored_slots(&self) -> usize {
        self.col_idxs.len()
    }

    /// The bytes of the column-index and value arrays.
    #[must_use]
    pub fn storage_bytes(&self) -> usize {
        self.col_idxs.len() * (std::mem::size_of::<I>() + std::mem::size_of::<T>())
    }

    /// Slots per row (Ginkgo's `num_stored_elements_per_row`).
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Distance between slot `k` and slot `k + 1` of a row (`>= nrows`).
    #[must_use]
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The column index of every slot, column-major ([`padding_index`] in padding).
    #[must_use]
    pub fn col_idxs(&self) -> &[I] {
        &self.col_idxs
    }

    /// The value of every slot (zero in padding).
    #[must_use]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// Slot `k` of row `row` as `(column, value)`: `None` for padding or outside the
    /// matrix.
    #[must_use]
    pub fn entry(&self, row: usize, k: usize) -> Option<(usize, T)> {
        if row >= self.nrows || k >= self.width {
            return None;
        }
        let slot = row + k * self.stride;
        let c = self.col_idxs[slot];
        (c != padding_index::<I>()).then(|| (c.to_usize(), self.values[slot]))
    }

    /// The number of non-padding slots.
    #[must_use]
    pub fn nnz(&self) -> usize {
        let pad = padding_index::<I>();
        self.col_idxs.par_iter().filter(|&&c| c != pad).count()
    }

    /// The same matrix with every value mapped by `f` (padding stays zero: `f` is applied
    /// to entries only).
    #[must_use]
    pub fn map_values<U: Scalar>(&self, f: impl Fn(T) -> U + Sync) -> Ell<U, I> {
        Ell {
            nrows: self.nrows,
            ncols: self.ncols,
            width: self.width,
            stride: self.stride,
            col_idxs: self.col_idxs.clone(),
            values: map_slots(&self.col_idxs, &self.values, f),
        }
    }

    /// `y = alpha * A * x + beta * y`, parallel over blocks of 64 rows, each computed with
    /// SIMD across its rows (AVX2 and FMA for `f64` values where the CPU has them, detected
    /// at run time). With `beta == 0` the old `y` is not read.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    pub fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        padded::mult_vec(self, Simd::detect(), alpha, x, beta, y)
    }
}

// SAFETY: the arrays hold stride * width slots and every block of the layout lies inside
// (rows < nrows <= stride); non-padding columns are < ncols; padding holds zero; the
// layout has nrows rows (all checked by the constructors; fields private, never mutated).
unsafe impl<T: Scalar, I: Index> PaddedStorage<T, I> for Ell<T, I> {
    type Layout<'a>
        = EllLayout
    where
        Self: 'a;
    const OP: &'static str = "ell mult_vec";

    fn layout(&self) -> EllLayout {
        EllLayout {
            nrows: self.nrows,
            width: self.width,
            stride: self.stride,
        }
    }

    fn dims(&self) -> (usize, usize) {
        self.shape()
    }

    fn slots(&self) -> (&[I], &[T]) {
        (&self.col_idxs, &self.values)
    }
}

/// Values of padded storage mapped by `f`, padding kept zero.
pub(crate) fn map_slots<T: Scalar, U: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    f: impl Fn(T) -> U + Sync,
) -> Vec<U> {
    let pad = padding_index::<I>();
    cols.par_iter()
        .zip(vals)
        .map(|(&c, &v)| if c == pad { U::zero() } else { f(v) })
        .collect()
}

csr_convertible_format!(Ell, "ell");
