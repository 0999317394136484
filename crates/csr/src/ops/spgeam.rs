//! Sparse matrix addition (SpGEAM) `α·A + β·B`, and `α·A·B + β·D` on top of the kernel
//! layer's product.
//!
//! Each output row is a two-pointer merge of the two input rows, sorted by column. Unlike
//! Ginkgo (whose SpGEAM silently gives wrong results on unsorted rows), rows that are not
//! sorted are sorted into scratch space first (one per rayon task, reused row after row),
//! so any valid input gives the right answer; sorted rows (the common case) are merged in
//! place. A count pass sizes each row, a fill pass writes it, both in parallel over rows.

use crate::error::{Error, Result};
use crate::kernel;
use crate::ops::rows::{fill_rows_with, row_ptrs_from_counts_with};
use crate::ops::sort::sort_row;
use crate::{Csr, CsrRef, Index, Scalar};

/// One input row, sorted: borrowed when it already was, else sorted into `scratch`.
fn sorted_row<'s, I: Index, T: Scalar>(
    (cols, vals): (&'s [I], &'s [T]),
    scratch: &'s mut (Vec<I>, Vec<T>, Vec<(I, T)>),
) -> (&'s [I], &'s [T]) {
    if cols.is_sorted() {
        return (cols, vals);
    }
    let (c, v, pairs) = scratch;
    c.clear();
    c.extend_from_slice(cols);
    v.clear();
    v.extend_from_slice(vals);
    sort_row(c, v, pairs);
    (c, v)
}

/// Per-thread scratch for two rows.
type Scratch<I, T> = [(Vec<I>, Vec<T>, Vec<(I, T)>); 2];

/// Merges two sorted rows: calls `emit(col, sum_a, sum_b)` once per distinct column, in
/// increasing order, with the sums of each side's entries there (`None` where a side has
/// none). Duplicates within a row are summed in storage order.
#[inline]
fn merge<I: Index, T: Scalar>(
    (ac, av): (&[I], &[T]),
    (bc, bv): (&[I], &[T]),
    mut emit: impl FnMut(I, Option<T>, Option<T>),
) {
    let (mut i, mut j) = (0, 0);
    while i < ac.len() || j < bc.len() {
        let col = match (ac.get(i), bc.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!("the loop condition keeps one side non-empty"),
        };
        let mut sum_a = None;
        while i < ac.len() && ac[i] == col {
            sum_a = Some(sum_a.map_or(av[i], |s: T| s + av[i]));
            i += 1;
        }
        let mut sum_b = None;
        while j < bc.len() && bc[j] == col {
            sum_b = Some(sum_b.map_or(bv[j], |s: T| s + bv[j]));
            j += 1;
        }
        emit(col, sum_a, sum_b);
    }
}

/// The number of distinct columns in the union of two sorted column lists (the count pass:
/// it reads no values).
#[inline]
fn count_union<I: Index>(a: &[I], b: &[I]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let col = a[i].min(b[j]);
        while i < a.len() && a[i] == col {
            i += 1;
        }
        while j < b.len() && b[j] == col {
            j += 1;
        }
        n += 1;
    }
    // What is left of one side: count its distinct columns.
    let rest = if i < a.len() { &a[i..] } else { &b[j..] };
    n + rest.chunk_by(|x, y| x == y).count()
}

/// `alpha·A + beta·B`, shapes already checked equal.
fn spgeam<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    alpha: T,
    b: CsrRef<'_, T, I>,
    beta: T,
) -> Result<Csr<T, I>> {
    let rows = |r: usize, scratch: &mut Scratch<I, T>, emit: &mut dyn FnMut(I, T)| {
        let [sa, sb] = scratch;
        let ra = sorted_row(a.row(r), sa);
        let rb = sorted_row(b.row(r), sb);
        merge(ra, rb, |c, x, y| {
            let v = match (x, y) {
                (Some(x), Some(y)) => alpha * x + beta * y,
                (Some(x), None) => alpha * x,
                (None, Some(y)) => beta * y,
                (None, None) => unreachable!("merge emits columns present on one side"),
            };
            emit(c, v);
        });
    };
    let fresh = || -> Scratch<I, T> { Default::default() };
    let row_ptrs = row_ptrs_from_counts_with(a.nrows(), fresh, |scratch, r| {
        let (ra, rb) = (a.row(r).0, b.row(r).0);
        if ra.is_sorted() && rb.is_sorted() {
            return count_union(ra, rb);
        }
        let mut n = 0;
        rows(r, scratch, &mut |_, _| n += 1);
        n
    })?;
    let (cols, vals) = fill_rows_with(&row_ptrs, false, fresh, |scratch, r, out_cols, out_vals| {
        let mut k = 0;
        rows(r, scratch, &mut |c, v| {
            out_cols[k] = c;
            out_vals[k] = v;
            k += 1;
        });
    });
    // SAFETY: both passes merge the same rows the same way, so row r receives exactly
    // row_ptrs[r + 1] - row_ptrs[r] entries; the pointers are non-decreasing from 0 and their
    // total fits `I` (checked by `row_ptrs_from_counts`); every column is a column of A or B,
    // both of which have `ncols` columns.
    Ok(unsafe { Csr::from_parts_unchecked(a.nrows(), a.ncols(), row_ptrs, cols, vals) })
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// `alpha·A + beta·B` (SpGEAM; Ginkgo's `scale_add(alpha, beta, B)` and
    /// `apply(alpha, Identity, beta, B)`), where `A` is this matrix.
    ///
    /// The result's pattern is the union of both patterns: each output row is sorted by
    /// column and holds every column at most once (duplicates in either input are summed);
    /// sums that cancel stay as explicit zeros. Accepts unsorted rows (they are sorted into
    /// scratch space; sorted rows cost nothing extra). Parallel over rows; the summation
    /// order is fixed, so results are bit-identical whatever the thread count.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless both matrices have the same shape;
    /// [`Error::IndexTooNarrow`] if the result's nnz does not fit `I`.
    pub fn scale_add(&self, alpha: T, beta: T, b: CsrRef<'_, T, I>) -> Result<Csr<T, I>> {
        if self.shape() != b.shape() {
            return Err(Error::DimensionMismatch {
                op: "scale_add",
                lhs: self.shape(),
                rhs: b.shape(),
            });
        }
        spgeam(*self, alpha, b, beta)
    }

    /// `alpha·A·B + beta·D` (Ginkgo's `multiply_add` and advanced SpGEMM), where `A` is this
    /// matrix. `A·B` is computed by the calling thread's active kernel
    /// ([`kernel::kernel`]), then added to `D` as by [`CsrRef::scale_add`].
    ///
    /// As in Ginkgo, `alpha == 0` skips the product (its pattern does not enter the result)
    /// and `beta == 0` ignores `D` (its pattern and values, NaNs included). The result is
    /// sorted, without duplicates. Accepts unsorted rows in all three matrices.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `A.ncols == B.nrows` and `D` is
    /// `A.nrows x B.ncols`; the kernel's errors (e.g. [`Error::IndexTooNarrow`] if the
    /// product's nnz does not fit `I`).
    pub fn multiply_add(
        &self,
        alpha: T,
        b: CsrRef<'_, T, I>,
        beta: T,
        d: CsrRef<'_, T, I>,
    ) -> Result<Csr<T, I>> {
        let op = "multiply_add";
        if self.ncols() != b.nrows() {
            return Err(Error::DimensionMismatch {
                op,
                lhs: self.shape(),
                rhs: b.shape(),
            });
        }
        let shape = (self.nrows(), b.ncols());
        if d.shape() != shape {
            return Err(Error::DimensionMismatch {
                op,
                lhs: shape,
                rhs: d.shape(),
            });
        }
        let empty = Csr::<T, I>::empty(shape.0, shape.1)?;
        let product = if alpha == T::zero() {
            None
        } else {
            let k = kernel::kernel::<T, I>()?;
            let (ha, hb) = (k.to_handle(*self)?, k.to_handle(b)?);
            Some(k.mult_ab(&ha, &hb)?.into_csr())
        };
        let ab = product.as_ref().map_or(empty.view(), Csr::view);
        let d = if beta == T::zero() { empty.view() } else { d };
        spgeam(ab, alpha, d, beta)
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// `alpha·A + beta·B` with the union pattern. See [`CsrRef::scale_add`].
    ///
    /// # Errors
    /// As [`CsrRef::scale_add`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(2, 2, &[1.0, 0.0, 0.0, 2.0])?;
    /// // Row 0 of b is stored unsorted: it is handled, not silently mis-merged.
    /// let b = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 2, 2], vec![1, 0], vec![3.0, 4.0])?;
    /// let c = a.scale_add(2.0, 1.0, &b)?;
    /// assert_eq!(c.to_dense()?.to_row_major_vec(), vec![6.0, 3.0, 0.0, 4.0]);
    /// assert!(c.is_sorted_by_column_index());
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn scale_add(&self, alpha: T, beta: T, b: &Csr<T, I>) -> Result<Csr<T, I>> {
        self.view().scale_add(alpha, beta, b.view())
    }

    /// `alpha·A·B + beta·D`. See [`CsrRef::multiply_add`].
    ///
    /// # Errors
    /// As [`CsrRef::multiply_add`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::Csr;
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(1, 2, &[1.0, 2.0])?;
    /// let b = Csr::<f64, i32>::try_from_dense_row_major(2, 1, &[3.0, 4.0])?;
    /// let d = Csr::<f64, i32>::try_from_dense_row_major(1, 1, &[1.0])?;
    /// let c = a.multiply_add(-1.0, &b, 2.0, &d)?;
    /// assert_eq!(c.values(), &[-9.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn multiply_add(
        &self,
        alpha: T,
        b: &Csr<T, I>,
        beta: T,
        d: &Csr<T, I>,
    ) -> Result<Csr<T, I>> {
        self.view().multiply_add(alpha, b.view(), beta, d.view())
    }
}
