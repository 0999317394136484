//! [`Sellp`], sliced ELLPACK: ELL per slice of consecutive rows, each slice padded only to
//! its own longest row.

use rayon::prelude::*;

use super::common::{csr_convertible_format, shape_accessors};
use super::ell::map_slots;
use super::format::MatrixFormat;
use super::padded::{self, Block, LANES, Layout, PaddedStorage, check_len, padding_index};
use super::padded_simd::Simd;
use crate::error::{Error, Result, check_shape};
use crate::{Csr, CsrRef, Index, Scalar};

/// A sparse matrix in SELL-P form (Ginkgo's `Sellp`): rows are cut into slices of
/// `slice_size` consecutive rows; slice `s` has `slice_lengths[s]` slots per row (a
/// multiple of `stride_factor`, at least its longest row when converted from CSR), stored
/// column-major inside the slice: slot `k` of local row `r` lies at
/// `(slice_sets[s] + k) * slice_size + r`, where `slice_sets` is the running sum of the
/// lengths (`slice_sets[0] = 0`, `nslices + 1` entries).
///
/// Padding is as in [`Ell`](crate::Ell): column [`padding_index`], value zero; the rows
/// of the last slice past `nrows` are padding. An empty matrix has `slice_sets = [0]`.
///
/// SpMV processes a slice of 64 rows (the default slice size) with one accumulator per row,
/// vectorised across rows.
///
/// # Invariants (checked by [`Sellp::try_from_parts`])
/// - `slice_size > 0`, `stride_factor > 0`;
/// - `slice_lengths` has `ceil(nrows / slice_size)` entries, each a multiple of
///   `stride_factor`; `slice_sets` has one more, starting at 0, each the previous plus the
///   slice's length;
/// - `col_idxs` and `values` hold `slice_sets[nslices] * slice_size` slots, each a column in
///   `0..ncols` or padding; padding holds zero; slots of rows `>= nrows` are padding;
/// - `nrows` and `ncols` fit `I`.
///
/// # Properties (not checked, allowed)
/// Columns within a row in any order, duplicates (summed by SpMV), explicit zeros.
///
/// # Examples
///
/// ```
/// use csr::{Csr, Sellp};
///
/// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 3, 4], vec![0, 1, 2, 1], vec![1.0, 3.0, 2.0, 5.0])?;
/// let s = Sellp::try_from(&a)?;
/// assert_eq!((s.slice_size(), s.stride_factor()), (64, 1));
/// assert_eq!(s.slice_lengths(), &[3]);
/// assert_eq!(s.slice_sets(), &[0, 3]);
/// assert_eq!((s.col_idxs()[0], s.col_idxs()[64], s.col_idxs()[65]), (0, 1, -1));
/// assert_eq!(Csr::try_from(&s)?, a);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sellp<T, I = i32> {
    nrows: usize,
    ncols: usize,
    slice_size: usize,
    stride_factor: usize,
    slice_lengths: Vec<usize>,
    slice_sets: Vec<usize>,
    col_idxs: Vec<I>,
    values: Vec<T>,
}

/// The SELL-P layout: one group per slice, blocks of up to [`LANES`] rows within it.
pub(crate) struct SellpLayout<'a> {
    nrows: usize,
    slice_size: usize,
    slice_sets: &'a [usize],
}

impl Layout for SellpLayout<'_> {
    fn group_rows(&self) -> usize {
        self.slice_size
    }

    fn for_each_block(&self, s: usize, mut f: impl FnMut(Block)) {
        let ss = self.slice_size;
        let (set, len) = (
            self.slice_sets[s],
            self.slice_sets[s + 1] - self.slice_sets[s],
        );
        for lane in (0..ss).step_by(LANES) {
            let row = s * ss + lane;
            if row >= self.nrows {
                break;
            }
            f(Block {
                row,
                rows: LANES.min(ss - lane).min(self.nrows - row),
                base: set * ss + lane,
                step: ss,
                len,
            });
        }
    }

    fn nrows(&self) -> usize {
        self.nrows
    }

    fn nslots(&self) -> usize {
        self.slice_sets.last().copied().unwrap_or(0) * self.slice_size
    }
}

impl<T: Scalar, I: Index> Sellp<T, I> {
    /// Ginkgo's default slice size.
    pub const DEFAULT_SLICE_SIZE: usize = 64;

    /// Ginkgo's default stride factor.
    pub const DEFAULT_STRIDE_FACTOR: usize = 1;

    /// Builds a matrix from its arrays after checking every invariant (see [`Sellp`]).
    ///
    /// # Errors
    /// The first violated invariant: [`Error::IndexTooNarrow`] (a size),
    /// [`Error::ZeroParameter`], [`Error::ArrayLength`] (`slice_lengths`, `slice_sets`),
    /// [`Error::SliceSetsStart`], then per slice [`Error::SliceLength`] or
    /// [`Error::SliceSets`], [`Error::SizeOverflow`], [`Error::ArrayLength`] (`col_idxs`,
    /// `values`), then for the first bad slot in storage order [`Error::NonZeroPadding`],
    /// [`Error::EntryPastLastRow`] or [`Error::SlotOutOfBounds`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Error, Sellp};
    ///
    /// // One slice of 2 rows, 1 slot per row; row 1's slot holds column 9 of 2.
    /// let err = Sellp::<f64, i32>::try_from_parts(2, 2, 2, 1, vec![1], vec![0, 1], vec![0, 9], vec![1.0, 2.0]);
    /// assert_eq!(err, Err(Error::SlotOutOfBounds { format: "sellp", row: 1, pos: 1, col: 9, ncols: 2 }));
    /// ```
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per stored array and size"
    )]
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        slice_size: usize,
        stride_factor: usize,
        slice_lengths: Vec<usize>,
        slice_sets: Vec<usize>,
        col_idxs: Vec<I>,
        values: Vec<T>,
    ) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        check_parameters(slice_size, stride_factor)?;
        let nslices = nrows.div_ceil(slice_size);
        check_len("sellp", "slice_lengths", nslices, slice_lengths.len())?;
        check_len("sellp", "slice_sets", nslices + 1, slice_sets.len())?;
        if slice_sets[0] != 0 {
            return Err(Error::SliceSetsStart {
                first: wide(slice_sets[0]),
            });
        }
        for (s, &length) in slice_lengths.iter().enumerate() {
            if length % stride_factor != 0 {
                return Err(Error::SliceLength {
                    slice: s,
                    length,
                    stride_factor,
                });
            }
            let expected = slice_sets[s].checked_add(length);
            if expected != Some(slice_sets[s + 1]) {
                return Err(Error::SliceSets {
                    slice: s,
                    expected: wide(slice_sets[s]) + wide(length),
                    actual: wide(slice_sets[s + 1]),
                });
            }
        }
        let nslots = padded::slot_count(slice_sets[nslices], slice_size, "sellp storage")?;
        check_len("sellp", "col_idxs", nslots, col_idxs.len())?;
        check_len("sellp", "values", nslots, values.len())?;
        let sets = &slice_sets;
        // Segment u is the u-th slot column of the whole array: slot k of its slice.
        let segments = (0..slice_sets[nslices]).into_par_iter().map(|u| {
            let s = sets.partition_point(|&set| set <= u) - 1;
            (u * slice_size, s * slice_size, slice_size)
        });
        padded::check_slots("sellp", nrows, ncols, &col_idxs, &values, segments)?;
        Ok(Self {
            nrows,
            ncols,
            slice_size,
            stride_factor,
            slice_lengths,
            slice_sets,
            col_idxs,
            values,
        })
    }

    /// The SELL-P form of a CSR matrix with the default slice size (64) and stride factor
    /// (1).
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if the storage cannot be allocated.
    pub fn from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
        Self::from_csr_with(a, Self::DEFAULT_SLICE_SIZE, Self::DEFAULT_STRIDE_FACTOR)
    }

    /// The SELL-P form of a CSR matrix: each slice's length is the longest of its rows,
    /// rounded up to a multiple of `stride_factor`; each row's entries keep their order.
    /// Parallel over slices.
    ///
    /// # Errors
    /// [`Error::ZeroParameter`] if `slice_size` or `stride_factor` is zero;
    /// [`Error::SizeOverflow`] if the storage cannot be allocated.
    pub fn from_csr_with(
        a: CsrRef<'_, T, I>,
        slice_size: usize,
        stride_factor: usize,
    ) -> Result<Self> {
        check_parameters(slice_size, stride_factor)?;
        let (nrows, ptrs) = (a.nrows(), a.row_ptrs());
        let nslices = nrows.div_ceil(slice_size);
        let overflow = Error::SizeOverflow {
            what: "sellp storage",
        };
        let slice_lengths: Vec<usize> = (0..nslices)
            .into_par_iter()
            .map(|s| {
                let rows = s * slice_size..((s + 1) * slice_size).min(nrows);
                let longest = rows
                    .map(|r| ptrs[r + 1].to_usize() - ptrs[r].to_usize())
                    .max()
                    .unwrap_or(0);
                longest.div_ceil(stride_factor) * stride_factor
            })
            .collect();
        let mut slice_sets = Vec::with_capacity(nslices + 1);
        slice_sets.push(0usize);
        let mut total = 0usize;
        for &len in &slice_lengths {
            total = total.checked_add(len).ok_or(overflow.clone())?;
            slice_sets.push(total);
        }
        let nslots = padded::slot_count(total, slice_size, "sellp storage")?;
        let (mut col_idxs, mut values) = padded::padding_slots(nslots, "sellp storage")?;
        let layout = SellpLayout {
            nrows,
            slice_size,
            slice_sets: &slice_sets,
        };
        padded::fill_from_csr(&layout, a, &mut col_idxs, &mut values);
        Ok(Self {
            nrows,
            ncols: a.ncols(),
            slice_size,
            stride_factor,
            slice_lengths,
            slice_sets,
            col_idxs,
            values,
        })
    }

    /// The CSR form: each row's non-padding slots in slot order. Parallel over slices.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if the number of entries does not fit `I`.
    pub fn to_csr(&self) -> Result<Csr<T, I>> {
        padded::to_csr(self, None)
    }

    /// Takes the matrix apart: `(nrows, ncols, slice_size, stride_factor, slice_lengths,
    /// slice_sets, col_idxs, values)`.
    #[must_use]
    #[allow(clippy::type_complexity, reason = "the parts, in constructor order")]
    pub fn into_parts(
        self,
    ) -> (
        usize,
        usize,
        usize,
        usize,
        Vec<usize>,
        Vec<usize>,
        Vec<I>,
        Vec<T>,
    ) {
        (
            self.nrows,
            self.ncols,
            self.slice_size,
            self.stride_factor,
            self.slice_lengths,
            self.slice_sets,
            self.col_idxs,
            self.values,
        )
    }

    shape_accessors!();

    /// The number of slots, padding included (`slice_sets[nslices] * slice_size`).
    #[must_use]
    pub fn stored_slots(&self) -> usize {
        self.col_idxs.len()
    }

    /// The bytes of the column-index, value and slice arrays.
    #[must_use]
    pub fn storage_bytes(&self) -> usize {
        self.col_idxs.len() * (std::mem::size_of::<I>() + std::mem::size_of::<T>())
            + (self.slice_lengths.len() + self.slice_sets.len()) * std::mem::size_of::<usize>()
    }

    /// Rows per slice.
    #[must_use]
    pub fn slice_size(&self) -> usize {
        self.slice_size
    }

    /// Every slice length is a multiple of this.
    #[must_use]
    pub fn stride_factor(&self) -> usize {
        self.stride_factor
    }

    /// Slots per row of each slice.
    #[must_use]
    pub fn slice_lengths(&self) -> &[usize] {
        &self.slice_lengths
    }

    /// Running sum of the slice lengths, `nslices + 1` entries from 0.
    #[must_use]
    pub fn slice_sets(&self) -> &[usize] {
        &self.slice_sets
    }

    /// The column index of every slot ([`padding_index`] in padding).
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
        if row >= self.nrows {
            return None;
        }
        let s = row / self.slice_size;
        if k >= self.slice_lengths[s] {
            return None;
        }
        let slot = (self.slice_sets[s] + k) * self.slice_size + row % self.slice_size;
        let c = self.col_idxs[slot];
        (c != padding_index::<I>()).then(|| (c.to_usize(), self.values[slot]))
    }

    /// The same matrix with every value mapped by `f` (padding stays zero).
    #[must_use]
    pub fn map_values<U: Scalar>(&self, f: impl Fn(T) -> U + Sync) -> Sellp<U, I> {
        Sellp {
            nrows: self.nrows,
            ncols: self.ncols,
            slice_size: self.slice_size,
            stride_factor: self.stride_factor,
            slice_lengths: self.slice_lengths.clone(),
            slice_sets: self.slice_sets.clone(),
            col_idxs: self.col_idxs.clone(),
            values: map_slots(&self.col_idxs, &self.values, f),
        }
    }

    /// `y = alpha * A * x + beta * y`, parallel over slices; each block of 64 rows of a
    /// slice is computed with SIMD across its rows (AVX2 and FMA for `f64` values where the
    /// CPU has them, detected at run time). With `beta == 0` the old `y` is not read.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    pub fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        padded::mult_vec(self, Simd::detect(), alpha, x, beta, y)
    }
}

// SAFETY: the arrays hold slice_sets[nslices] * slice_size slots and every block of the
// layout lies inside its slice; non-padding columns are < ncols; padding holds zero; the
// layout has nrows rows (all checked by the constructors; fields private, never mutated).
unsafe impl<T: Scalar, I: Index> PaddedStorage<T, I> for Sellp<T, I> {
    type Layout<'a>
        = SellpLayout<'a>
    where
        Self: 'a;
    const OP: &'static str = "sellp mult_vec";

    fn layout(&self) -> SellpLayout<'_> {
        SellpLayout {
            nrows: self.nrows,
            slice_size: self.slice_size,
            slice_sets: &self.slice_sets,
        }
    }

    fn dims(&self) -> (usize, usize) {
        self.shape()
    }

    fn slots(&self) -> (&[I], &[T]) {
        (&self.col_idxs, &self.values)
    }
}

/// `slice_size` and `stride_factor` must be positive.
fn check_parameters(slice_size: usize, stride_factor: usize) -> Result<()> {
    for (parameter, value) in [("slice_size", slice_size), ("stride_factor", stride_factor)] {
        if value == 0 {
            return Err(Error::ZeroParameter {
                format: "sellp",
                parameter,
            });
        }
    }
    Ok(())
}

/// A count as `i128`, for messages.
fn wide(n: usize) -> i128 {
    i128::try_from(n).unwrap_or(i128::MAX)
}

csr_convertible_format!(Sellp, "sellp");
