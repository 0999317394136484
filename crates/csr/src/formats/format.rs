//! [`MatrixFormat`]: what every storage format around the CSR hub offers.

use crate::error::Result;
use crate::{Csr, CsrRef, Index, Scalar};

/// A storage format that converts to and from [`Csr`] (the hub) and multiplies vectors.
///
/// Implemented by [`Coo`](crate::Coo), [`Ell`](crate::Ell), [`Sellp`](crate::Sellp),
/// [`Hybrid`](crate::Hybrid) and [`Dense`](crate::Dense). Conversions between two formats
/// go through CSR ([`MatrixFormat::convert_to`]), as in Ginkgo: about 2N conversions, not
/// N². Each format also has `From`/`TryFrom` impls to and from `&Csr`.
///
/// # Examples
///
/// ```
/// use csr::{Coo, Csr, Ell, MatrixFormat, Sellp};
///
/// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 3, 4], vec![0, 1, 2, 1], vec![1.0, 3.0, 2.0, 5.0])?;
/// let ell = Ell::try_from(&a)?;
/// let sellp: Sellp<f64, i32> = ell.convert_to()?;
/// let mut y = vec![0.0; 2];
/// sellp.mult_vec(1.0, &[2.0, 1.0, 4.0], 0.0, &mut y)?;
/// assert_eq!(y, vec![13.0, 5.0]);
/// assert_eq!(Coo::from(&a).to_csr(), a); // infallible for COO
/// # Ok::<(), csr::Error>(())
/// ```
pub trait MatrixFormat<T: Scalar, I: Index>: Sized {
    /// The format's short name (`"coo"`, `"ell"`, `"sellp"`, `"hybrid"`, `"dense"`).
    const NAME: &'static str;

    /// `(nrows, ncols)`.
    fn shape(&self) -> (usize, usize);

    /// The number of value slots stored, padding included (`nnz` for COO,
    /// `stride * width` for ELL, `rows * ncols` for dense, ...).
    fn stored_slots(&self) -> usize;

    /// The bytes the format's arrays occupy.
    fn storage_bytes(&self) -> usize;

    /// The matrix in this format, with the format's default parameters.
    ///
    /// # Errors
    /// [`crate::Error::SizeOverflow`] if the storage cannot be allocated (an ELL of a
    /// matrix with one very long row, a dense matrix of a large sparse one).
    fn try_from_csr(a: CsrRef<'_, T, I>) -> Result<Self>;

    /// The matrix in CSR form: each row's entries in storage order, padding dropped.
    ///
    /// # Errors
    /// [`crate::Error::IndexTooNarrow`] if the number of entries does not fit `I`.
    fn to_csr(&self) -> Result<Csr<T, I>>;

    /// `y = alpha * A * x + beta * y`, parallel on the current rayon pool. With
    /// `beta == 0` the old `y` is not read (NaN in it does not propagate).
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `x.len() == ncols` and
    /// `y.len() == nrows`.
    fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()>;

    /// The matrix in another format, through CSR.
    ///
    /// # Errors
    /// Those of [`MatrixFormat::to_csr`] and of the target's
    /// [`MatrixFormat::try_from_csr`].
    fn convert_to<F: MatrixFormat<T, I>>(&self) -> Result<F> {
        F::try_from_csr(self.to_csr()?.view())
    }
}
