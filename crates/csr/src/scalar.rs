//! The value types a matrix can hold.
//!
//! [`Scalar`] is sealed: it is implemented for `f32`, `f64`, [`Complex<f32>`] and
//! [`Complex<f64>`], and bundles every bound the library needs, so user code writes
//! `T: Scalar` and nothing more. Arithmetic accumulates in the value type itself.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, Neg, SubAssign};

use num_complex::Complex;
use num_traits::NumAssign;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for num_complex::Complex<f32> {}
    impl Sealed for num_complex::Complex<f64> {}
}

/// A matrix value: `f32`, `f64`, `Complex<f32>` or `Complex<f64>`.
///
/// The trait is sealed; its methods are the few operations that differ between real and
/// complex values.
///
/// # Examples
///
/// ```
/// use csr::Scalar;
/// use num_complex::Complex;
///
/// assert_eq!(Complex::new(1.0_f64, 2.0).conj(), Complex::new(1.0, -2.0));
/// assert_eq!(<f64 as Scalar>::from_re_im(3.0, 9.0), 3.0);
/// assert!(<Complex<f32> as Scalar>::IS_COMPLEX);
/// ```
pub trait Scalar:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + PartialEq
    + NumAssign
    + AddAssign
    + SubAssign
    + MulAssign
    + Neg<Output = Self>
    + Sum
    + bytemuck::Pod
    + 'static
{
    /// The real type underlying this value type (`f64` for `Complex<f64>`).
    type Real: Scalar<Real = Self::Real> + PartialOrd;

    /// Whether the type is complex.
    const IS_COMPLEX: bool;

    /// A short name of the type, as used in messages and benchmark ids (`"f64"`, `"c32"`).
    const NAME: &'static str;

    /// The complex conjugate (the value itself for real types).
    #[must_use]
    fn conj(self) -> Self;

    /// The real part.
    #[must_use]
    fn re(self) -> Self::Real;

    /// The imaginary part (zero for real types).
    #[must_use]
    fn im(self) -> Self::Real;

    /// Builds a value from real and imaginary parts given as `f64`; real types drop `im`.
    #[must_use]
    fn from_re_im(re: f64, im: f64) -> Self;

    /// The modulus `|x|`.
    #[must_use]
    fn abs(self) -> Self::Real;

    /// A real value as this type (`x + 0i` for complex types).
    #[must_use]
    fn from_real(x: Self::Real) -> Self;

    /// Whether every component is finite (neither infinite nor NaN).
    #[must_use]
    fn is_finite(self) -> bool;
}

macro_rules! impl_real {
    ($t:ty, $name:literal) => {
        impl Scalar for $t {
            type Real = $t;
            const IS_COMPLEX: bool = false;
            const NAME: &'static str = $name;
            #[inline]
            fn conj(self) -> Self {
                self
            }
            #[inline]
            fn re(self) -> Self {
                self
            }
            #[inline]
            fn im(self) -> Self {
                0.0
            }
            #[inline]
            fn from_re_im(re: f64, _im: f64) -> Self {
                re as $t
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn from_real(x: Self) -> Self {
                x
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}

macro_rules! impl_complex {
    ($t:ty, $name:literal) => {
        impl Scalar for Complex<$t> {
            type Real = $t;
            const IS_COMPLEX: bool = true;
            const NAME: &'static str = $name;
            #[inline]
            fn conj(self) -> Self {
                Complex::conj(&self)
            }
            #[inline]
            fn re(self) -> $t {
                self.re
            }
            #[inline]
            fn im(self) -> $t {
                self.im
            }
            #[inline]
            fn from_re_im(re: f64, im: f64) -> Self {
                Complex::new(re as $t, im as $t)
            }
            #[inline]
            fn abs(self) -> $t {
                self.norm()
            }
            #[inline]
            fn from_real(x: $t) -> Self {
                Complex::new(x, 0.0)
            }
            #[inline]
            fn is_finite(self) -> bool {
                Complex::is_finite(self)
            }
        }
    };
}

/// A real value (`f32` or `f64`, e.g. a [`Scalar::Real`]) as `f64`, exactly.
#[inline]
pub(crate) fn real_to_f64<R: Scalar>(x: R) -> f64 {
    bytemuck::try_cast::<R, f64>(x)
        .or_else(|_| bytemuck::try_cast::<R, f32>(x).map(f64::from))
        .unwrap_or(f64::NAN)
}

/// An unsigned key in the order of real values (`f32` or `f64`): `x < y` gives
/// `order_key(x) < order_key(y)`, and `x == y` (-0.0 and +0.0 included) equal keys. NaN
/// gets a key of its own that orders with nothing in particular: callers exclude it.
#[inline]
pub(crate) fn order_key<R: Scalar>(x: R) -> u64 {
    // Adding +0.0 turns -0.0 into +0.0. Negative values flip every bit (larger magnitude,
    // smaller key); non-negative ones set the sign bit (above every negative one).
    let bits = (real_to_f64(x) + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

impl_real!(f32, "f32");
impl_real!(f64, "f64");
impl_complex!(f32, "c32");
impl_complex!(f64, "c64");

/// `alpha * sum + beta * old`, or `alpha * sum` when `beta == 0` (the old value, perhaps
/// NaN, is ignored): the `y = αAx + βy` rule of every kernel and format.
#[inline(always)]
pub(crate) fn finish<T: Scalar>(alpha: T, sum: T, beta: T, old: T) -> T {
    if beta == T::zero() {
        alpha * sum
    } else {
        alpha * sum + beta * old
    }
}

/// Sums of at least this many products (a row of at least this many entries in SpMV) are
/// summed in [`SUM_LANES`] interleaved partial sums (see [`sum_of_products`]).
pub(crate) const SUM_LANES_MIN: usize = 16;

/// The number of interleaved partial sums of a long sum of products.
pub(crate) const SUM_LANES: usize = 8;

/// `Σ product(j)` for `j` in `0..n`, in the summation order of SpMV and SpMM rows, which the
/// reference kernel defines and every kernel promising its bits follows:
///
/// - `n < SUM_LANES_MIN`: from zero, left to right.
/// - otherwise: partial sum `l` (of [`SUM_LANES`] = 8) adds, from zero and in order, the
///   products `j` with `j % 8 == l` among the first `n - n % 8`; they combine as
///   `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))`, then the last `n % 8` products are
///   added left to right.
///
/// Eight independent sums keep a core's adders busy where one chain of dependent additions
/// would wait on each (a row of 200 entries: 200 additions in a row, or 25 and a few).
#[inline(always)]
pub(crate) fn sum_of_products<T: Scalar>(n: usize, mut product: impl FnMut(usize) -> T) -> T {
    let mut sum = T::zero();
    let mut j = 0;
    if n >= SUM_LANES_MIN {
        let mut lanes = [T::zero(); SUM_LANES];
        while j + SUM_LANES <= n {
            for (l, lane) in lanes.iter_mut().enumerate() {
                *lane += product(j + l);
            }
            j += SUM_LANES;
        }
        sum = combine_lanes(lanes);
    }
    while j < n {
        sum += product(j);
        j += 1;
    }
    sum
}

/// The partial sums of [`sum_of_products`] combined:
/// `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))`.
#[inline(always)]
pub(crate) fn combine_lanes<T: Scalar>(lanes: [T; SUM_LANES]) -> T {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = lanes;
    ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complex_parts_and_conjugate() {
        let z = <Complex<f64> as Scalar>::from_re_im(1.5, -2.0);
        assert_eq!(z.re(), 1.5);
        assert_eq!(z.im(), -2.0);
        assert_eq!(Scalar::conj(z), Complex::new(1.5, 2.0));
        assert_eq!(Scalar::abs(Complex::new(3.0_f32, 4.0)), 5.0);
    }

    #[test]
    fn order_keys_follow_the_order_of_values() {
        let ordered = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -1e-310,
            0.0,
            1e-310,
            f64::MIN_POSITIVE,
            1.0,
            1.0 + f64::EPSILON,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in ordered.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{} < {}", w[0], w[1]);
            assert!(
                order_key(w[0] as f32) <= order_key(w[1] as f32),
                "{} (f32)",
                w[0]
            );
        }
        assert_eq!(order_key(-0.0_f64), order_key(0.0_f64));
        assert_eq!(order_key(-0.0_f32), order_key(0.0_f32));
        assert_eq!(order_key(0.5_f32), order_key(0.5_f64));
    }

    #[test]
    fn real_types_drop_imaginary_part() {
        assert_eq!(<f32 as Scalar>::from_re_im(2.0, 7.0), 2.0);
        assert_eq!(Scalar::im(4.0_f64), 0.0);
        assert!(!Scalar::is_finite(f64::NAN));
    }
}
