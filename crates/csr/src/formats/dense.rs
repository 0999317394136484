//! [`Dense`], a row-major dense matrix (also the library's vector and multi-vector type).

use crate::Scalar;
use crate::error::{Error, Result};

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
    /// [`Error::SizeOverflow`] if `nrows * ncols` overflows.
    pub fn zeros(nrows: usize, ncols: usize) -> Result<Self> {
        let len = nrows.checked_mul(ncols).ok_or(Error::SizeOverflow {
            what: "nrows * ncols",
        })?;
        Ok(Self {
            nrows,
            ncols,
            stride: ncols,
            values: vec![T::zero(); len],
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
