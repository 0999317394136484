//! The reference kernel: serial textbook code, the oracle of the tests, never the default.

use crate::scalar::finish;
use std::collections::BTreeMap;

use super::topk::{TopK, TopKOrder, is_candidate, rank, topk_operands};
use super::{Handle, Kernel, KernelId, shapes};
use crate::error::{Error, Extent, Result};
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// The reference kernel: serial textbook code, the oracle of the tests, never the default.
///
/// Every operation is the obvious loop, on the calling thread, with no `unsafe` and no
/// cleverness, so that it can be trusted as the oracle every other kernel is tested against.
/// It is slow on purpose; use [`NativeKernel`](super::NativeKernel) for real work.
///
/// Summation order (other kernels that promise bit-identical results follow it):
///
/// - [`mult_vec`](Kernel::mult_vec): for each row `i`, `s = 0`, then `s += a_ij * x_j` for the
///   row's entries left to right in storage order; a row of 16 entries or more is summed in
///   8 interleaved partial sums instead (partial sum `l` takes, left to right from zero, the
///   entries at positions `p` of the row with `p % 8 == l` among its first `n - n % 8`; then
///   `s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))`, and the last `n % 8` entries
///   are added to `s` left to right). Then `y_i = alpha * s + beta * y_i`, or
///   `y_i = alpha * s` when `beta == 0` (the old `y_i` is never read, so a NaN there does not
///   propagate). `alpha == 0` is not special: `0 * s` is computed (NaN or infinity in `s`
///   gives NaN).
/// - [`mult_dense`](Kernel::mult_dense): the same, independently for each of the `k`
///   columns of `X` and `Y`.
/// - [`mult_ab`](Kernel::mult_ab): Gustavson's row-by-row product. For row `i` of `A`, an
///   ordered map from column to value starts empty; for each entry `a_ik` of the row in
///   storage order and each entry `b_kj` of row `k` of `B` in storage order, the map's value
///   at `j` (inserted as zero) gains `a_ik * b_kj`. The map's entries, in increasing column
///   order, are row `i` of the product. Duplicates in `A` or `B` therefore add; entries that
///   cancel to zero are kept as explicit zeros (remove them with
///   [`Csr::eliminate_zeros`]).
/// - [`mult_abt`](Kernel::mult_abt): `B` is transposed with [`CsrRef::transpose`] (entries
///   keep their order within each column), then multiplied as above.
///
/// - [`mult_ab_topk`](Kernel::mult_ab_topk), [`mult_abt_topk`](Kernel::mult_abt_topk): the
///   full product as above, then each row's candidates (see [`TopK`]) fully sorted by rank
///   (value descending, then column), the first `k` kept.
///
/// All operations accept unsorted rows, duplicates and explicit zeros.
///
/// # Examples
///
/// ```
/// use csr::kernel::{Kernel, ReferenceKernel};
/// use csr::Csr;
///
/// let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 2, 3], vec![1, 0, 1], vec![1.0, 2.0, 3.0])?;
/// let h = ReferenceKernel.to_handle(a.view())?;
/// let mut y = vec![f64::NAN; 2];
/// ReferenceKernel.mult_vec(&h, 2.0, &[1.0, 1.0], 0.0, &mut y)?;
/// assert_eq!(y, vec![6.0, 6.0]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceKernel;

const ID: KernelId = KernelId::Reference;

impl<T: Scalar, I: Index> Kernel<T, I> for ReferenceKernel {
    fn id(&self) -> KernelId {
        ID
    }

    fn max_nnz(&self) -> usize {
        I::MAX_USIZE
    }

    fn to_handle<'a>(&self, a: CsrRef<'a, T, I>) -> Result<Handle<'a, T, I>> {
        Ok(Handle::borrowed(ID, a, Default::default()))
    }

    fn from_handle(&self, h: &Handle<'_, T, I>) -> Result<Csr<T, I>> {
        h.check_kernel(ID, "from_handle")?;
        Ok(h.matrix().to_csr())
    }

    fn order_columns(&self, h: &mut Handle<'_, T, I>) -> Result<()> {
        h.check_kernel(ID, "order_columns")?;
        h.matrix_mut().sort_by_column_index();
        Ok(())
    }

    fn mult_vec(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        h.check_kernel(ID, "mult_vec")?;
        let a = h.matrix();
        shapes::mult_vec(a, x.len(), y.len())?;
        for (i, yi) in y.iter_mut().enumerate() {
            let (cols, vals) = a.row(i);
            let products: Vec<T> = cols
                .iter()
                .zip(vals)
                .map(|(c, &v)| v * x[c.to_usize()])
                .collect();
            *yi = finish(alpha, row_sum(&products), beta, *yi);
        }
        Ok(())
    }

    fn mult_dense(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &Dense<T>,
        beta: T,
        y: &mut Dense<T>,
    ) -> Result<()> {
        h.check_kernel(ID, "mult_dense")?;
        let a = h.matrix();
        shapes::mult_dense(a, x, y)?;
        let k = x.ncols();
        for i in 0..a.nrows() {
            let (cols, vals) = a.row(i);
            for col in 0..k {
                let products: Vec<T> = cols
                    .iter()
                    .zip(vals)
                    .map(|(c, &v)| v * x.row(c.to_usize())[col])
                    .collect();
                let yi = &mut y.row_mut(i)[col];
                *yi = finish(alpha, row_sum(&products), beta, *yi);
            }
        }
        Ok(())
    }

    fn mult_ab(&self, a: &Handle<'_, T, I>, b: &Handle<'_, T, I>) -> Result<Handle<'static, T, I>> {
        a.check_kernel(ID, "mult_ab")?;
        b.check_kernel(ID, "mult_ab")?;
        let (am, bm) = (a.matrix(), b.matrix());
        shapes::mult_ab(am, bm, false)?;
        let c = gustavson(am, bm, I::MAX_USIZE)?;
        Ok(Handle::owned(ID, c, Default::default()))
    }

    fn mult_abt(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        a.check_kernel(ID, "mult_abt")?;
        b.check_kernel(ID, "mult_abt")?;
        let (am, bm) = (a.matrix(), b.matrix());
        shapes::mult_ab(am, bm, true)?;
        let bt = bm.try_transpose()?;
        let c = gustavson(am, bt.view(), I::MAX_USIZE)?;
        Ok(Handle::owned(ID, c, Default::default()))
    }

    fn mult_ab_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        topk_product(a, b, opts, false)
    }

    fn mult_abt_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        topk_product(a, b, opts, true)
    }
}

/// The top entries of each row of the full product `c` (sorted rows, each column once):
/// the row's candidates sorted by rank, the first `k` kept, then by column unless
/// `opts.order` asks for value order.
fn keep_top<T: Scalar, I: Index>(c: CsrRef<'_, T, I>, opts: &TopK<T::Real>) -> Result<Csr<T, I>> {
    let mut row_ptrs = vec![I::ZERO];
    let (mut col_idxs, mut values) = (Vec::new(), Vec::new());
    for i in 0..c.nrows() {
        let (cols, vals) = c.row(i);
        let mut row: Vec<(usize, T)> = cols
            .iter()
            .zip(vals)
            .map(|(j, &v)| (j.to_usize(), v))
            .filter(|&(j, v)| is_candidate(opts, i, j, v.re()))
            .collect();
        row.sort_by(|x, y| rank((x.0, x.1.re()), (y.0, y.1.re())));
        row.truncate(opts.k);
        if opts.order == TopKOrder::ByColumn {
            row.sort_by_key(|e| e.0);
        }
        for (j, v) in row {
            // j < c.ncols(), which fits I.
            col_idxs.push(I::truncate(j));
            values.push(v);
        }
        // At most nnz(c) entries, which fits I.
        row_ptrs.push(I::truncate(col_idxs.len()));
    }
    Csr::try_from_parts(c.nrows(), c.ncols(), row_ptrs, col_idxs, values)
}

/// The full product (`A·Bᵀ` with `transpose_b`), then each row's top entries: the oracle.
fn topk_product<T: Scalar, I: Index>(
    a: &Handle<'_, T, I>,
    b: &Handle<'_, T, I>,
    opts: &TopK<T::Real>,
    transpose_b: bool,
) -> Result<Handle<'static, T, I>> {
    let (am, bm) = topk_operands(ID, a, b, transpose_b)?;
    let c = if transpose_b {
        gustavson(am, bm.try_transpose()?.view(), I::MAX_USIZE)?
    } else {
        gustavson(am, bm, I::MAX_USIZE)?
    };
    Ok(Handle::owned(
        ID,
        keep_top(c.view(), opts)?,
        Default::default(),
    ))
}

/// `A·B` (shapes already checked: `a.ncols() == b.nrows()`), one ordered map per row, as
/// described on [`ReferenceKernel`]. Fails with [`Error::IndexTooNarrow`] as soon as the
/// product holds more than `max_nnz` entries (`value` is the count reached then, a lower
/// bound of the product's nnz); `max_nnz` is `I::MAX_USIZE` except in tests.
fn gustavson<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    max_nnz: usize,
) -> Result<Csr<T, I>> {
    debug_assert_eq!(a.ncols(), b.nrows());
    let mut row_ptrs = Vec::with_capacity(a.nrows() + 1);
    let mut col_idxs = Vec::new();
    let mut values = Vec::new();
    row_ptrs.push(I::ZERO);
    let mut acc: BTreeMap<usize, T> = BTreeMap::new();
    for i in 0..a.nrows() {
        let (a_cols, a_vals) = a.row(i);
        for (k, &a_ik) in a_cols.iter().zip(a_vals) {
            let (b_cols, b_vals) = b.row(k.to_usize());
            for (j, &b_kj) in b_cols.iter().zip(b_vals) {
                *acc.entry(j.to_usize()).or_insert_with(T::zero) += a_ik * b_kj;
            }
        }
        let nnz = col_idxs.len() + acc.len();
        if nnz > max_nnz {
            return Err(Error::IndexTooNarrow {
                extent: Extent::Nnz,
                value: nnz,
                index_type: I::NAME,
                max: max_nnz,
            });
        }
        for (j, v) in std::mem::take(&mut acc) {
            // j < b.ncols(), which fits I (a checked invariant of b).
            col_idxs.push(I::truncate(j));
            values.push(v);
        }
        // nnz <= max_nnz <= I::MAX_USIZE (checked above).
        row_ptrs.push(I::truncate(nnz));
    }
    Csr::try_from_parts(a.nrows(), b.ncols(), row_ptrs, col_idxs, values)
}

/// A row's products summed in the order of [`mult_vec`](Kernel::mult_vec) (see the kernel's
/// documentation): left to right from zero, or, from 16 products on, in 8 interleaved
/// partial sums combined pairwise, then the last `n % 8` products.
fn row_sum<T: Scalar>(products: &[T]) -> T {
    const LANES: usize = 8;
    let whole = if products.len() >= 16 {
        products.len() / LANES * LANES
    } else {
        0
    };
    let mut sum = T::zero();
    if whole > 0 {
        let mut lanes = [T::zero(); LANES];
        for (p, &product) in products[..whole].iter().enumerate() {
            lanes[p % LANES] += product;
        }
        sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
    for &product in &products[whole..] {
        sum += product;
    }
    sum
}

#[cfg(test)]
mod tests {
    use num_complex::Complex;

    use super::*;

    const K: ReferenceKernel = ReferenceKernel;

    /// ```text
    /// [[1, 0, 2],
    ///  [0, 0, 0],
    ///  [3, 4, 0]]
    /// ```
    /// with row 0 stored unsorted and row 2 holding a duplicate (3 = 1 + 2).
    fn sample() -> Csr<f64, i32> {
        Csr::try_from_parts(
            3,
            3,
            vec![0, 2, 2, 5],
            vec![2, 0, 0, 1, 0],
            vec![2.0, 1.0, 1.0, 4.0, 2.0],
        )
        .unwrap()
    }

    #[test]
    fn mult_vec_follows_the_textbook() {
        let a = sample();
        let h = K.to_handle(a.view()).unwrap();
        let x = [1.0, 10.0, 100.0];
        let mut y = vec![1.0, 2.0, 3.0];
        K.mult_vec(&h, 2.0, &x, 0.5, &mut y).unwrap();
        assert_eq!(y, vec![2.0 * 201.0 + 0.5, 1.0, 2.0 * 43.0 + 1.5]);
    }

    #[test]
    fn beta_zero_ignores_nan_in_y() {
        let a = sample();
        let h = K.to_handle(a.view()).unwrap();
        let mut y = vec![f64::NAN, f64::INFINITY, f64::NAN];
        K.mult_vec(&h, 1.0, &[1.0, 1.0, 1.0], 0.0, &mut y).unwrap();
        assert_eq!(y, vec![3.0, 0.0, 7.0]);
        let mut y = vec![f64::NAN; 3];
        K.mult_vec(&h, 1.0, &[1.0, 1.0, 1.0], 1.0, &mut y).unwrap();
        assert!(y.iter().all(|v| v.is_nan()), "beta != 0 reads y");
    }

    #[test]
    fn mult_vec_sums_in_storage_order() {
        // 1e16 + 1 - 1e16 is 0 left to right, but 1 in another order.
        let a =
            Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 3], vec![0, 1, 2], vec![1.0; 3]).unwrap();
        let h = K.to_handle(a.view()).unwrap();
        let mut y = [0.0];
        K.mult_vec(&h, 1.0, &[1e16, 1.0, -1e16], 0.0, &mut y)
            .unwrap();
        assert_eq!(y, [0.0]);
    }

    #[test]
    fn long_rows_sum_in_eight_interleaved_partial_sums() {
        // Products 1e16, 1 x 7, -1e16, 1 x 7 (then 1, for the 17-entry row): left to right,
        // each 1 after 1e16 is lost (7 at the end); in 8 partial sums 1e16 and -1e16 meet
        // in the first and the ones survive (14).
        let x: Vec<f64> = [1e16]
            .into_iter()
            .chain([1.0; 7])
            .chain([-1e16])
            .chain([1.0; 8])
            .collect();
        for (n, want) in [(15, 6.0), (16, 14.0), (17, 15.0)] {
            let a = Csr::<f64, i32>::try_from_parts(
                1,
                17,
                vec![0, n as i32],
                (0..n as i32).collect(),
                vec![1.0; n],
            )
            .unwrap();
            let h = K.to_handle(a.view()).unwrap();
            let mut y = [0.0];
            K.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
            assert_eq!(y, [want], "{n} entries");
            let xd = Dense::try_from_row_major(17, 1, x.clone()).unwrap();
            let mut yd = Dense::try_from_row_major(1, 1, vec![0.0]).unwrap();
            K.mult_dense(&h, 1.0, &xd, 0.0, &mut yd).unwrap();
            assert_eq!(yd.to_row_major_vec(), [want], "{n} entries, mult_dense");
        }
    }

    #[test]
    fn mult_vec_checks_shapes() {
        let a = sample();
        let h = K.to_handle(a.view()).unwrap();
        let mut y = vec![0.0; 3];
        assert_eq!(
            K.mult_vec(&h, 1.0, &[1.0; 2], 0.0, &mut y),
            Err(Error::DimensionMismatch {
                op: "mult_vec",
                lhs: (3, 3),
                rhs: (2, 3)
            })
        );
        let mut y = vec![0.0; 4];
        assert_eq!(
            K.mult_vec(&h, 1.0, &[1.0; 3], 0.0, &mut y),
            Err(Error::DimensionMismatch {
                op: "mult_vec",
                lhs: (3, 3),
                rhs: (3, 4)
            })
        );
    }

    #[test]
    fn mult_dense_matches_mult_vec_column_by_column() {
        let a = sample();
        let h = K.to_handle(a.view()).unwrap();
        let x = Dense::try_from_row_major(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let mut y = Dense::try_from_row_major(3, 2, vec![f64::NAN; 6]).unwrap();
        K.mult_dense(&h, 1.0, &x, 0.0, &mut y).unwrap();
        for col in 0..2 {
            let xc: Vec<f64> = (0..3).map(|r| x.row(r)[col]).collect();
            let mut yc = vec![0.0; 3];
            K.mult_vec(&h, 1.0, &xc, 0.0, &mut yc).unwrap();
            assert_eq!((0..3).map(|r| y.row(r)[col]).collect::<Vec<_>>(), yc);
        }
        let before = y.clone();
        K.mult_dense(&h, 2.0, &x, -1.0, &mut y).unwrap();
        assert_eq!(y.row(2)[1], 2.0 * before.row(2)[1] - before.row(2)[1]);
        let mut wrong = Dense::zeros(3, 3).unwrap();
        assert_eq!(
            K.mult_dense(&h, 1.0, &x, 0.0, &mut wrong),
            Err(Error::DimensionMismatch {
                op: "mult_dense",
                lhs: (3, 3),
                rhs: (3, 2)
            })
        );
    }

    #[test]
    fn mult_ab_sorts_adds_duplicates_and_keeps_cancellation() {
        let a = sample();
        let h = K.to_handle(a.view()).unwrap();
        let c = K.from_handle(&K.mult_ab(&h, &h).unwrap()).unwrap();
        // A² = [[7, 8, 2], [0, 0, 0], [3, 0, 6]]
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            vec![
                (0, 0, 7.0),
                (0, 1, 8.0),
                (0, 2, 2.0),
                (2, 0, 3.0),
                (2, 2, 6.0)
            ]
        );
        // [1 1] · [[1], [-1]] = [0], kept as an explicit zero.
        let r =
            Csr::<f64, i32>::try_from_parts(1, 2, vec![0, 2], vec![1, 0], vec![1.0, 1.0]).unwrap();
        let s = Csr::<f64, i32>::try_from_parts(2, 1, vec![0, 1, 2], vec![0, 0], vec![1.0, -1.0])
            .unwrap();
        let (hr, hs) = (
            K.to_handle(r.view()).unwrap(),
            K.to_handle(s.view()).unwrap(),
        );
        let c = K.from_handle(&K.mult_ab(&hr, &hs).unwrap()).unwrap();
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, 0, 0.0)]);
        assert_eq!(
            K.mult_ab(&hr, &hr).map(|_| ()),
            Err(Error::DimensionMismatch {
                op: "mult_ab",
                lhs: (1, 2),
                rhs: (1, 2)
            })
        );
    }

    #[test]
    fn mult_abt_equals_mult_ab_with_the_transpose() {
        let a = Csr::<Complex<f64>, i64>::try_from_parts(
            2,
            3,
            vec![0, 2, 3],
            vec![2, 0, 1],
            vec![
                Complex::new(1.0, 1.0),
                Complex::new(2.0, 0.0),
                Complex::new(0.0, 3.0),
            ],
        )
        .unwrap();
        let b = sample_c();
        let (ha, hb) = (
            K.to_handle(a.view()).unwrap(),
            K.to_handle(b.view()).unwrap(),
        );
        let abt = K.from_handle(&K.mult_abt(&ha, &hb).unwrap()).unwrap();
        let bt = b.transpose();
        let hbt = K.to_handle(bt.view()).unwrap();
        let ab = K.from_handle(&K.mult_ab(&ha, &hbt).unwrap()).unwrap();
        assert_eq!(abt, ab);
        assert_eq!(abt.shape(), (2, 4));
        assert!(abt.is_sorted_by_column_index());
        assert_eq!(
            K.mult_abt(&ha, &hbt).map(|_| ()),
            Err(Error::DimensionMismatch {
                op: "mult_abt",
                lhs: (2, 3),
                rhs: (3, 4)
            })
        );
    }

    fn sample_c() -> Csr<Complex<f64>, i64> {
        Csr::try_from_parts(
            4,
            3,
            vec![0, 1, 3, 3, 5],
            vec![0, 2, 1, 1, 1],
            vec![
                Complex::new(1.0, 0.0),
                Complex::new(0.0, 1.0),
                Complex::new(2.0, -1.0),
                Complex::new(1.0, 1.0),
                Complex::new(-1.0, 2.0),
            ],
        )
        .unwrap()
    }

    #[test]
    fn product_nnz_overflow_is_a_typed_error() {
        let a = sample();
        assert_eq!(
            gustavson(a.view(), a.view(), 4),
            Err(Error::IndexTooNarrow {
                extent: Extent::Nnz,
                value: 5,
                index_type: "i32",
                max: 4
            })
        );
        assert_eq!(gustavson(a.view(), a.view(), 5).unwrap().nnz(), 5);
    }

    #[test]
    fn empty_shapes() {
        let z = Csr::<f32, i32>::empty(0, 4).unwrap();
        let w = Csr::<f32, i32>::empty(4, 0).unwrap();
        let (hz, hw) = (
            K.to_handle(z.view()).unwrap(),
            K.to_handle(w.view()).unwrap(),
        );
        let c = K.from_handle(&K.mult_ab(&hz, &hw).unwrap()).unwrap();
        assert_eq!(c.shape(), (0, 0));
        let c = K.from_handle(&K.mult_ab(&hw, &hz).unwrap()).unwrap();
        assert_eq!((c.shape(), c.nnz()), ((4, 4), 0));
        let mut y = vec![f32::NAN; 4];
        K.mult_vec(&hw, 1.0, &[], 0.0, &mut y).unwrap();
        assert_eq!(y, vec![0.0; 4]);
    }

    #[test]
    fn order_columns_copies_and_sorts() {
        let a = sample();
        let mut h = K.to_handle(a.view()).unwrap();
        K.order_columns(&mut h).unwrap();
        let sorted = K.from_handle(&h).unwrap();
        assert!(sorted.is_sorted_by_column_index());
        assert_eq!(sorted.row(0), (&[0, 2][..], &[1.0, 2.0][..]));
        assert_eq!(a, sample(), "the caller's matrix is untouched");
    }

    #[test]
    fn foreign_handles_are_refused() {
        let a = sample();
        let h = <super::super::NativeKernel as Kernel<f64, i32>>::to_handle(
            &super::super::NativeKernel,
            a.view(),
        )
        .unwrap();
        assert_eq!(
            K.mult_ab(&h, &h).map(|_| ()),
            Err(Error::ForeignHandle {
                op: "mult_ab",
                kernel: "reference",
                handle_kernel: "native"
            })
        );
        assert!(matches!(
            K.from_handle(&h),
            Err(Error::ForeignHandle { .. })
        ));
    }
}
