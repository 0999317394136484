//! Small helpers every format uses: the SpMV shape check and the row pointers
//! of row-sorted entries.

use rayon::prelude::*;

use crate::Index;
use crate::error::{Error, Result};
use crate::parallel::{even_ranges, piece_count};

/// `y = αAx + βy` on a `shape` matrix needs `x.len() == ncols` and `y.len() == nrows`; the
/// error's `rhs` is `(x.len(), y.len())`.
pub(crate) fn check_mult_vec(
    op: &'static str,
    shape: (usize, usize),
    x_len: usize,
    y_len: usize,
) -> Result<()> {
    if x_len != shape.1 || y_len != shape.0 {
        return Err(Error::DimensionMismatch {
            op,
            lhs: shape,
            rhs: (x_len, y_len),
        });
    }
    Ok(())
}

/// Fills `ptrs` (`nrows + 1` entries) with the row pointers of entries stored row by row
/// (`rows` non-decreasing, every row `< nrows`), converted by `conv`. Parallel over row
/// ranges, each finding its first entry by binary search.
pub(crate) fn fill_row_starts<I: Index, P: Copy + Send + Sync>(
    rows: &[I],
    ptrs: &mut [P],
    conv: impl Fn(usize) -> P + Sync,
) {
    let nrows = ptrs.len() - 1;
    let ranges = even_ranges(nrows + 1, piece_count(rows.len() + nrows));
    let mut pieces = Vec::with_capacity(ranges.len());
    let mut rest = ptrs;
    for range in ranges {
        let (head, tail) = rest.split_at_mut(range.len());
        rest = tail;
        pieces.push((range, head));
    }
    pieces.into_par_iter().for_each(|(range, out)| {
        let mut k = rows.partition_point(|r| r.to_usize() < range.start);
        for (r, p) in range.zip(out) {
            while k < rows.len() && rows[k].to_usize() < r {
                k += 1;
            }
            *p = conv(k);
        }
    });
}

/// The `nrows`, `ncols` and `shape` accessors of a format with `nrows` and `ncols` fields.
macro_rules! shape_accessors {
    () => {
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
    };
}
pub(crate) use shape_accessors;

/// `TryFrom` with `&Csr` both ways and the [`MatrixFormat`](crate::MatrixFormat) impl of a
/// format `$ty<T, I>` whose inherent `from_csr`, `to_csr`, `mult_vec`, `shape`,
/// `stored_slots` and `storage_bytes` have the trait's signatures.
macro_rules! csr_convertible_format {
    ($ty:ident, $name:literal) => {
        impl<T: Scalar, I: Index> TryFrom<&Csr<T, I>> for $ty<T, I> {
            type Error = Error;

            fn try_from(a: &Csr<T, I>) -> Result<Self> {
                Self::from_csr(a.view())
            }
        }

        impl<T: Scalar, I: Index> TryFrom<&$ty<T, I>> for Csr<T, I> {
            type Error = Error;

            fn try_from(a: &$ty<T, I>) -> Result<Self> {
                a.to_csr()
            }
        }

        impl<T: Scalar, I: Index> MatrixFormat<T, I> for $ty<T, I> {
            const NAME: &'static str = $name;

            fn shape(&self) -> (usize, usize) {
                self.shape()
            }

            fn stored_slots(&self) -> usize {
                self.stored_slots()
            }

            fn storage_bytes(&self) -> usize {
                self.storage_bytes()
            }

            fn try_from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
                Self::from_csr(a)
            }

            fn to_csr(&self) -> Result<Csr<T, I>> {
                self.to_csr()
            }

            fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
                self.mult_vec(alpha, x, beta, y)
            }
        }
    };
}
pub(crate) use csr_convertible_format;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_starts_of_sorted_rows() {
        let rows: [i32; 5] = [0, 0, 2, 2, 3];
        let mut ptrs = vec![9; 6];
        fill_row_starts(&rows, &mut ptrs, |p| p);
        assert_eq!(ptrs, vec![0, 2, 2, 4, 5, 5]);
        let mut ptrs = vec![9_usize; 3];
        fill_row_starts::<i32, usize>(&[], &mut ptrs, |p| p);
        assert_eq!(ptrs, vec![0, 0, 0]);
    }
}
