//! [`Dense`], a row-major dense matrix (also the library's vector and multi-vector type).

use rayon::prelude::*;

use super::common::check_mult_vec;
use super::format::MatrixFormat;
use crate::error::{Error, Result};
use crate::parallel::MIN_PARALLEL_WORK;
use crate::{Csr, CsrRef, Index, Scalar};

/// A dense matrix stored row-major with a row stride (`stride >= ncols`).
///
/// # Examples
///
/// ```
/// use csr::Dense;
///
/// let d = Dense::try_from_row_major(2, 2, vec![1.0, 2.0, 3.0, 4.0])?;
/// assert_eq!(d.get(1, 0), Some(3.0));
/// assert_eq!(d.row(0), &[1.0, 2.0]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T> {
    nrows: usize,
    ncols: usize,
    stride: usize,
    values: Vec<T>,
}

impl<T: Scalar> Dense<T> {
    /// An `nrows x ncols` matrix of zeros.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `nrows * ncols` overflows; [`Error::OutOfMemory`] if the
    /// values cannot be allocated.
    pub fn zeros(nrows: usize, ncols: usize) -> Result<Self> {
        let len = nrows.checked_mul(ncols).ok_or(Error::SizeOverflow {
            what: "nrows * ncols",
        })?;
        Ok(Self {
            nrows,
            ncols,
            stride: ncols,
            values: crate::parallel::try_filled(len, T::zero(), "dense values")?,
        })
    }

    /// Wraps a row-major array of `nrows * ncols` values.
    ///
    /// # Errors
    /// [`Error::DenseLength`] if the length is wrong.
    pub fn try_from_row_major(nrows: usize, ncols: usize, values: Vec<T>) -> Result<Self> {
        if nrows.checked_mul(ncols) != Some(values.len()) {
            return Err(Error::DenseLength {
                nrows,
                ncols,
                actual: values.len(),
            });
        }
        Ok(Self {
            nrows,
            ncols,
            stride: ncols,
            values,
        })
    }

    /// Wraps a row-major array whose rows start `stride` values apart (`stride >= ncols`;
    /// the values between `ncols` and `stride` are padding, kept as given).
    ///
    /// # Errors
    /// [`Error::StrideTooSmall`] if `stride < ncols`; [`Error::SizeOverflow`] if
    /// `nrows * stride` overflows; [`Error::ArrayLength`] unless
    /// `values.len() == nrows * stride`.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Dense;
    ///
    /// // 2 x 2 with one padding value per row.
    /// let d = Dense::try_from_parts(2, 2, 3, vec![1.0, 2.0, 0.0, 3.0, 4.0, 0.0])?;
    /// assert_eq!(d.row(1), &[3.0, 4.0]);
    /// let mut y = vec![0.0; 2];
    /// d.mult_vec(1.0, &[1.0, 1.0], 0.0, &mut y)?;
    /// assert_eq!(y, vec![3.0, 7.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        stride: usize,
        values: Vec<T>,
    ) -> Result<Self> {
        if stride < ncols {
            return Err(Error::StrideTooSmall {
                format: "dense",
                stride,
                what: "number of columns",
                min: ncols,
            });
        }
        let len = nrows.checked_mul(stride).ok_or(Error::SizeOverflow {
            what: "nrows * stride",
        })?;
        if values.len() != len {
            return Err(Error::ArrayLength {
                format: "dense",
                array: "values",
                expected: len,
                actual: values.len(),
            });
        }
        Ok(Self {
            nrows,
            ncols,
            stride,
            values,
        })
    }

    /// Takes the matrix apart: `(nrows, ncols, stride, values)`.
    #[must_use]
    pub fn into_parts(self) -> (usize, usize, usize, Vec<T>) {
        (self.nrows, self.ncols, self.stride, self.values)
    }

    /// The stored values, row-major with the stride (padding included).
    #[must_use]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The same matrix with every value mapped by `f` (padding included).
    #[must_use]
    pub fn map_values<U: Scalar>(&self, f: impl Fn(T) -> U + Sync) -> Dense<U> {
        Dense {
            nrows: self.nrows,
            ncols: self.ncols,
            stride: self.stride,
            values: self.values.par_iter().map(|&v| f(v)).collect(),
        }
    }

    /// `y = alpha * A * x + beta * y`, parallel over rows; each row's dot product runs
    /// left to right. With `beta == 0` the old `y` is not read.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    pub fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        check_mult_vec("dense mult_vec", self.shape(), x.len(), y.len())?;
        let min_rows = (MIN_PARALLEL_WORK / self.ncols.max(1)).max(1);
        y.par_iter_mut()
            .enumerate()
            .with_min_len(min_rows)
            .for_each(|(r, yr)| {
                let dot = self
                    .row(r)
                    .iter()
                    .zip(x)
                    .fold(T::zero(), |s, (&a, &b)| s + a * b);
                *yr = if beta == T::zero() {
                    alpha * dot
                } else {
                    alpha * dot + beta * *yr
                };
            });
        Ok(())
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

    /// Distance in elements between the starts of consecutive rows.
    #[must_use]
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The storage and its row stride: row `r` is `values[r * stride..][..ncols]`.
    pub(crate) fn strided(&self) -> (&[T], usize) {
        (&self.values, self.stride)
    }

    /// The storage, writable, and its row stride (`values.len() == nrows * stride`).
    pub(crate) fn strided_mut(&mut self) -> (&mut [T], usize) {
        (&mut self.values, self.stride)
    }

    /// The value at `(row, col)`, or `None` outside the matrix.
    #[must_use]
    pub fn get(&self, row: usize, col: usize) -> Option<T> {
        (row < self.nrows && col < self.ncols).then(|| self.values[row * self.stride + col])
    }

    /// Row `row`, `ncols` values.
    ///
    /// # Panics
    /// If `row >= nrows`.
    #[must_use]
    #[track_caller]
    pub fn row(&self, row: usize) -> &[T] {
        assert!(
            row < self.nrows,
            "row {row} out of bounds ({} rows)",
            self.nrows
        );
        &self.values[row * self.stride..row * self.stride + self.ncols]
    }

    /// Row `row`, mutable.
    ///
    /// # Panics
    /// If `row >= nrows`.
    #[must_use]
    #[track_caller]
    pub fn row_mut(&mut self, row: usize) -> &mut [T] {
        assert!(
            row < self.nrows,
            "row {row} out of bounds ({} rows)",
            self.nrows
        );
        &mut self.values[row * self.stride..row * self.stride + self.ncols]
    }

    /// The whole storage, row `r` starting at `r * stride` (for FFI such as MKL's `mm`).
    pub(crate) fn raw_values(&self) -> &[T] {
        &self.values
    }

    /// The whole storage, mutable (see [`Dense::raw_values`]).
    pub(crate) fn raw_values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// The values in row-major order without padding (a copy if the stride pads rows).
    #[must_use]
    pub fn to_row_major_vec(&self) -> Vec<T> {
        if self.stride == self.ncols {
            return self.values.clone();
        }
        (0..self.nrows)
            .flat_map(|r| self.row(r).iter().copied())
            .collect()
    }
}

impl<T: Scalar, I: Index> MatrixFormat<T, I> for Dense<T> {
    const NAME: &'static str = "dense";

    fn shape(&self) -> (usize, usize) {
        self.shape()
    }

    fn stored_slots(&self) -> usize {
        self.values.len()
    }

    fn storage_bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<T>()
    }

    /// Duplicate entries are summed.
    fn try_from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
        a.to_dense()
    }

    /// Exact zeros are dropped.
    fn to_csr(&self) -> Result<Csr<T, I>> {
        Csr::from_dense(self)
    }

    fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        self.mult_vec(alpha, x, beta, y)
    }
}
