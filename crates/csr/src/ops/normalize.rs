//! Row normalisation, as LensKit's `normalize_rows`: centring each row on its mean, or
//! scaling it to unit length, in place on the stored entries.

use num_traits::Zero;
use rayon::prelude::*;

use crate::error::Result;
use crate::formats::validate::check_row_ptrs;
use crate::parallel::{balanced_row_blocks, piece_count};
use crate::scalar::real_to_f64;
use crate::{Csr, Index, Scalar};

/// How [`Csr::normalize_rows`] normalises each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Normalize {
    /// Subtract the mean of the row's stored entries from each of them; report the means.
    Center,
    /// Divide the row's stored entries by their Euclidean (L2) norm; report the norms.
    Unit,
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// Normalises every row in place (stored entries only: positions not stored stay
    /// absent) and returns, per row, the mean ([`Normalize::Center`]) or the L2 norm
    /// ([`Normalize::Unit`]) it had, as LensKit's `normalize_rows`. Parallel over rows for
    /// large matrices; every row's result is computed in storage order, so it does not
    /// depend on the thread count.
    ///
    /// - Empty rows are left alone and report `0`.
    /// - `Unit` scales each row by a power of two taken from its largest magnitude
    ///   (clamped to the type's exponent range) before summing squares, so rows of
    ///   subnormal or huge values normalise correctly; the norm reported is the unscaled
    ///   one (it may itself be subnormal, or infinite when the true norm overflows).
    /// - A row whose stored values are all zero gets NaN values (`0 / 0`) and norm `0`, as
    ///   LensKit does. A NaN in a row makes its norm and values NaN; an infinity makes its
    ///   norm infinite.
    ///
    /// Accepts unsorted rows and duplicates (each stored entry counts once).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Normalize};
    ///
    /// let mut a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2, 3], vec![0, 2, 1], vec![3.0, 4.0, 0.0])?;
    /// assert_eq!(a.normalize_rows(Normalize::Unit), vec![5.0, 0.0]);
    /// assert_eq!(&a.values()[..2], &[0.6, 0.8]);
    /// assert!(a.values()[2].is_nan()); // an all-zero row
    /// let mut b = Csr::<f64, i32>::try_from_dense_row_major(1, 2, &[1.0, 3.0])?;
    /// assert_eq!(b.normalize_rows(Normalize::Center), vec![2.0]);
    /// assert_eq!(b.values(), &[-1.0, 1.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn normalize_rows(&mut self, mode: Normalize) -> Vec<T> {
        let (row_ptrs, _, values) = self.parts_mut();
        normalize_checked(row_ptrs, values, mode)
    }
}

/// [`Csr::normalize_rows`] on raw CSR arrays: `row_ptrs` (`nrows + 1` entries) and the
/// `values` they index (e.g. numpy buffers of a scipy matrix; column indices are not
/// needed).
///
/// # Errors
/// [`crate::Error::RowPtrsLength`] if `row_ptrs` is empty, [`crate::Error::RowPtrsStart`],
/// [`crate::Error::DecreasingRowPtrs`], or [`crate::Error::RowPtrsEnd`] unless
/// `row_ptrs[nrows] == values.len()`.
///
/// # Examples
///
/// ```
/// use csr::{Normalize, normalize_rows};
///
/// let mut values = vec![3.0_f32, 4.0, 2.0];
/// let norms = normalize_rows(&[0_i64, 2, 2, 3], &mut values, Normalize::Unit)?;
/// assert_eq!(norms, vec![5.0, 0.0, 2.0]);
/// assert_eq!(values, vec![0.6, 0.8, 1.0]);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn normalize_rows<T: Scalar, I: Index>(
    row_ptrs: &[I],
    values: &mut [T],
    mode: Normalize,
) -> Result<Vec<T>> {
    check_row_ptrs(row_ptrs, values.len())?;
    Ok(normalize_checked(row_ptrs, values, mode))
}

/// Normalises rows of validated arrays, blocks of rows in parallel.
fn normalize_checked<T: Scalar, I: Index>(
    row_ptrs: &[I],
    values: &mut [T],
    mode: Normalize,
) -> Vec<T> {
    let nrows = row_ptrs.len() - 1;
    let bounds = balanced_row_blocks(row_ptrs, piece_count(values.len() + nrows));
    let mut out = vec![T::zero(); nrows];
    let mut jobs = Vec::with_capacity(bounds.len() - 1);
    let (mut vrest, mut orest) = (values, out.as_mut_slice());
    for w in bounds.windows(2) {
        let len = row_ptrs[w[1]].to_usize() - row_ptrs[w[0]].to_usize();
        let (v, vr) = vrest.split_at_mut(len);
        let (o, or) = orest.split_at_mut(w[1] - w[0]);
        jobs.push((&row_ptrs[w[0]..=w[1]], v, o));
        vrest = vr;
        orest = or;
    }
    jobs.into_par_iter().for_each(|(ptrs, vals, res)| {
        let base = ptrs[0].to_usize();
        for (p, r) in ptrs.windows(2).zip(res) {
            let row = &mut vals[p[0].to_usize() - base..p[1].to_usize() - base];
            *r = match mode {
                Normalize::Center => center(row),
                Normalize::Unit => T::from_real(unit(row)),
            };
        }
    });
    out
}

/// Centres one row on its mean; returns the mean (`0` for an empty row).
fn center<T: Scalar>(row: &mut [T]) -> T {
    if row.is_empty() {
        return T::zero();
    }
    let n = T::from_re_im(row.len() as f64, 0.0);
    let mean = row.iter().copied().sum::<T>() / n;
    row.iter_mut().for_each(|v| *v -= mean);
    mean
}

/// Scales one row to unit L2 norm; returns the norm it had (`0` for an empty row).
fn unit<T: Scalar>(row: &mut [T]) -> T::Real {
    if row.is_empty() {
        return T::Real::zero();
    }
    let zero = T::Real::zero();
    let largest = row.iter().fold(zero, |m, v| {
        let a = v.abs();
        if a > m { a } else { m }
    });
    let scale = pow2_scale::<T::Real>(largest);
    let sum_sq = row.iter().fold(zero, |s, &v| {
        let a = (v * T::from_real(scale)).abs();
        s + a * a
    });
    let scaled_norm = T::Real::from_re_im(real_to_f64(sum_sq).sqrt(), 0.0);
    // All-zero rows divide 0 by 0: NaN values, as LensKit gives.
    row.iter_mut()
        .for_each(|v| *v = *v * T::from_real(scale) / T::from_real(scaled_norm));
    scaled_norm / scale
}

/// A power of two `s` such that `m · s` lies near 1, for the largest magnitude `m` of a
/// row: `2^-e` with `e` the binary exponent of `m`, clamped so that `s` and `1 / s` are
/// normal numbers of `R` (exact scaling). `1` for zero or non-finite `m`.
fn pow2_scale<R: Scalar>(m: R) -> R {
    let m = real_to_f64(m);
    if m == 0.0 || !m.is_finite() {
        return R::one();
    }
    // Exponent range of normal numbers of R: f32 or f64.
    let (min_exp, max_exp) = if std::mem::size_of::<R>() == 4 {
        (f32::MIN_EXP - 1, f32::MAX_EXP - 1)
    } else {
        (f64::MIN_EXP - 1, f64::MAX_EXP - 1)
    };
    // log2 is exact enough: any exponent within one of m's keeps m · s in [1/4, 4].
    #[allow(
        clippy::cast_possible_truncation,
        reason = "|log2| < 1100 for finite m > 0"
    )]
    let e = m.log2().floor() as i32;
    R::from_re_im(2f64.powi((-e).clamp(min_exp, max_exp)), 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_scale_is_clamped_to_normal_numbers() {
        assert_eq!(pow2_scale(8.0_f64), 0.125);
        assert_eq!(pow2_scale(f64::from_bits(1)), 2f64.powi(1023));
        assert_eq!(pow2_scale(f32::from_bits(1)), 2f32.powi(127));
        assert_eq!(pow2_scale(f64::MAX), 2f64.powi(-1022));
        assert_eq!(pow2_scale(0.0_f64), 1.0);
        assert_eq!(pow2_scale(f64::INFINITY), 1.0);
    }
}
