//! Value-wise operations on a [`Csr`]: scaling by a scalar and absolute values.

use rayon::prelude::*;

use crate::parallel::{MIN_PARALLEL_WORK, copy_of};
use crate::{Csr, CsrRef, Index, Scalar};

/// Applies `f` to every value, in parallel for large matrices.
fn map_in_place<T: Scalar>(values: &mut [T], f: impl Fn(T) -> T + Sync) {
    values
        .par_iter_mut()
        .with_min_len(MIN_PARALLEL_WORK)
        .for_each(|v| *v = f(*v));
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// The matrix of the moduli `|a|` of the stored values, with real values (Ginkgo's
    /// `compute_absolute`): same pattern, explicit zeros and duplicates kept as stored, and
    /// the same SpMV strategy.
    #[must_use]
    pub fn abs(&self) -> Csr<T::Real, I> {
        let values: Vec<T::Real> = self
            .values()
            .par_iter()
            .with_min_len(MIN_PARALLEL_WORK)
            .map(|v| v.abs())
            .collect();
        // SAFETY: the pattern is this matrix's, which satisfies every invariant, and there is
        // one value per stored entry.
        let out = unsafe {
            Csr::from_parts_unchecked(
                self.nrows(),
                self.ncols(),
                copy_of(self.row_ptrs()),
                copy_of(self.col_idxs()),
                values,
            )
        };
        out.with_strategy(self.strategy())
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// Multiplies every stored value (explicit zeros included) by `alpha`, in place.
    /// Parallel for large matrices.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let mut a = Csr::<f64, i32>::try_from_dense_row_major(1, 2, &[1.0, -2.0])?;
    /// a.scale(3.0);
    /// assert_eq!(a.values(), &[3.0, -6.0]);
    /// a.inv_scale(2.0);
    /// assert_eq!(a.values(), &[1.5, -3.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn scale(&mut self, alpha: T) {
        map_in_place(self.values_mut(), |v| v * alpha);
    }

    /// Divides every stored value by `alpha`, in place (IEEE division: dividing by zero
    /// gives infinities and NaNs, it is not an error). Parallel for large matrices.
    pub fn inv_scale(&mut self, alpha: T) {
        map_in_place(self.values_mut(), |v| v / alpha);
    }

    /// The matrix of the moduli of the stored values, with real values. See
    /// [`CsrRef::abs`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Complex, Csr};
    ///
    /// let a = Csr::<Complex<f64>, i32>::try_from_dense_row_major(1, 2, &[Complex::new(3.0, -4.0), Complex::new(0.0, 2.0)])?;
    /// let m: Csr<f64, i32> = a.abs();
    /// assert_eq!(m.values(), &[5.0, 2.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn abs(&self) -> Csr<T::Real, I> {
        self.view().abs()
    }

    /// Replaces every stored value by its modulus, keeping the value type (a complex value
    /// becomes `|z| + 0i`), as Ginkgo's `compute_absolute_inplace`.
    pub fn abs_in_place(&mut self) {
        map_in_place(self.values_mut(), |v| T::from_real(v.abs()));
    }
}
