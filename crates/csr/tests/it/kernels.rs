//! Every available kernel, every operation, against the reference kernel (and the reference
//! against a naive oracle and sprs): random matrices with every awkward shape and property,
//! every real matrix of the shared corpus, several rayon pool sizes, and many threads
//! sharing one handle.
//!
//! The tests are written against the [`Kernel`] trait and loop over [`KernelId::ALL`], so a
//! new kernel is picked up as soon as it reports itself available. An operation a kernel
//! answers with [`Error::Unsupported`] is skipped with a `NOTE` line on stderr;
//! [`native_supports_every_operation`] makes sure the native kernel never is.
//!
//! Generated values are small integers, so every sum is exact in any order and products
//! can be compared exactly. SpMV and SpMM results of our own kernels must be bit-identical
//! to the reference (they sum each row in its order, see [`ReferenceKernel`]); MKL promises
//! no order, so its results must be equal up to rounding and the sign of zero
//! ([`assert_spmv_eq`]).

use std::collections::BTreeMap;

use csr::kernel::{self, Kernel, KernelId, NativeKernel, ReferenceKernel};
use csr::{Complex, Csr, Dense, Error, Index, Scalar};
use csr_testkit::{
    NaiveCsr, SplitMix64, TestElement, TestIndex, TestScalar, arb_csr, arb_vec, assert_csr_close,
    assert_slices_close, big_csr, test_all_types,
};
use proptest::prelude::*;

use crate::mm_support::RealMatrix;
use sprs::{CsMatI, SpIndex};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Every kernel that can run here, the reference included.
pub(crate) fn kernels<T: Scalar, I: Index>() -> Vec<&'static dyn Kernel<T, I>> {
    KernelId::ALL
        .into_iter()
        .filter_map(|id| kernel::kernel_for::<T, I>(id).ok())
        .collect()
}

/// The result of an operation that must succeed, or `None` (with a note) if the kernel
/// does not support it.
///
/// # Panics
/// On any other error.
#[track_caller]
fn supported<X>(kernel: KernelId, result: Result<X, Error>) -> Option<X> {
    match result {
        Ok(x) => Some(x),
        Err(Error::Unsupported { op, reason, .. }) => {
            eprintln!("NOTE: kernel {kernel} does not support {op} ({reason}): skipped");
            None
        }
        Err(e) => panic!("kernel {kernel} failed: {e}"),
    }
}

/// A value with NaN parts, to poison outputs whose old contents must be ignored.
pub(crate) fn nan<T: Scalar>() -> T {
    T::from_re_im(f64::NAN, f64::NAN)
}

pub(crate) fn zero<T: Scalar>() -> T {
    T::from_re_im(0.0, 0.0)
}

/// The bit patterns of values (so `-0.0 != 0.0` and NaNs compare).
pub(crate) fn bits<T: TestScalar>(v: &[T]) -> Vec<(u64, u64)> {
    v.iter()
        .map(|x| {
            let z = x.to_c64();
            (z.re.to_bits(), z.im.to_bits())
        })
        .collect()
}

#[track_caller]
pub(crate) fn assert_bits_eq<T: TestScalar>(actual: &[T], expected: &[T], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    if let Some(k) = (0..actual.len()).find(|&k| bits(&actual[k..=k]) != bits(&expected[k..=k])) {
        panic!(
            "{what}: position {k} differs bitwise: {:?} vs {:?}",
            actual[k], expected[k]
        );
    }
}

/// Whether kernel `k` sums every row in the reference's order (`ReferenceKernel`'s docs), so
/// that its SpMV results are bit-identical to the reference's. The native kernel does under
/// `automatic` unless it picks `merge_path` (a row longer than a tile) or `tiled` with rows of
/// 16 entries or more (an `x` of 1 MB or more): the matrices of these tests reach neither.
fn sums_in_reference_order(k: KernelId) -> bool {
    k != KernelId::Mkl
}

/// The longest row of `a` plus one (for the `beta·y` term): the number of terms in a sum.
fn terms<T: Scalar, I: Index>(a: &Csr<T, I>) -> usize {
    a.row_ptrs()
        .windows(2)
        .map(|w| w[1].to_usize() - w[0].to_usize())
        .max()
        .unwrap_or(0)
        + 1
}

/// SpMV results of kernel `k` against the reference's: bit-identical if `k` sums in the
/// reference's order, else close (NaN never is).
#[track_caller]
fn assert_spmv_eq<T: TestScalar>(
    k: KernelId,
    actual: &[T],
    expected: &[T],
    terms: usize,
    what: &str,
) {
    if sums_in_reference_order(k) {
        assert_bits_eq(actual, expected, what);
    } else {
        assert_slices_close(actual, expected, terms);
    }
}

/// An `nrows x ncols` matrix made from `src`'s rows (cycled) with columns folded modulo
/// `ncols`: it keeps unsorted rows, duplicates, explicit zeros and long rows.
fn reshape<T: TestElement, I: TestIndex>(src: &Csr<T, I>, nrows: usize, ncols: usize) -> Csr<T, I> {
    let naive = NaiveCsr::from_csr(src);
    let rows = (0..nrows)
        .map(|r| {
            if naive.nrows == 0 || ncols == 0 {
                return Vec::new();
            }
            naive.rows[r % naive.nrows]
                .iter()
                .map(|&(c, v)| (c % ncols, v))
                .collect()
        })
        .collect();
    NaiveCsr { nrows, ncols, rows }.to_csr()
}

/// The naive product `A·B`: per row, an ordered map from column to the sum of
/// `a_ik * b_kj` (keeps cancelled entries), written independently of the kernels.
fn naive_product<T: TestScalar>(a: &NaiveCsr<T>, b: &NaiveCsr<T>) -> NaiveCsr<T> {
    let rows = a
        .rows
        .iter()
        .map(|row| {
            let mut acc: BTreeMap<usize, T> = BTreeMap::new();
            for &(k, av) in row {
                for &(j, bv) in &b.rows[k] {
                    let e = acc.entry(j).or_insert_with(zero::<T>);
                    *e = e.plus(av * bv);
                }
            }
            acc.into_iter().collect()
        })
        .collect();
    NaiveCsr {
        nrows: a.nrows,
        ncols: b.ncols,
        rows,
    }
}

/// The naive `alpha * A * x + beta * y` (`y` ignored when `beta == 0`).
fn naive_mult_vec<T: TestScalar>(a: &NaiveCsr<T>, alpha: T, x: &[T], beta: T, y: &[T]) -> Vec<T> {
    a.rows
        .iter()
        .zip(y)
        .map(|(row, &yi)| {
            let s = row.iter().fold(zero::<T>(), |s, &(c, v)| s + v * x[c]);
            if beta == zero() {
                alpha * s
            } else {
                alpha * s + beta * yi
            }
        })
        .collect()
}

/// The reference product of `a` and `b` (or `bᵀ`), copied out.
fn reference_product<T: Scalar, I: Index>(
    a: &Csr<T, I>,
    b: &Csr<T, I>,
    transpose_b: bool,
) -> Csr<T, I> {
    let k = ReferenceKernel;
    let ha = Kernel::<T, I>::to_handle(&k, a.view()).unwrap();
    let hb = Kernel::<T, I>::to_handle(&k, b.view()).unwrap();
    let hc = if transpose_b {
        k.mult_abt(&ha, &hb)
    } else {
        k.mult_ab(&ha, &hb)
    };
    k.from_handle(&hc.unwrap()).unwrap()
}

/// Checks every kernel's `A·B` (or `A·Bᵀ`) against the reference, which is checked against
/// the naive oracle.
fn check_product<T: TestScalar, I: TestIndex>(a: &Csr<T, I>, b: &Csr<T, I>, transpose_b: bool) {
    let expected = reference_product(a, b, transpose_b);
    let nb = NaiveCsr::from_csr(b);
    let nb = if transpose_b { nb.transposed() } else { nb };
    assert_eq!(
        NaiveCsr::from_csr(&expected),
        naive_product(&NaiveCsr::from_csr(a), &nb),
        "reference product differs from the naive one"
    );
    assert!(expected.is_sorted_by_column_index() && !expected.has_duplicates());
    for k in kernels::<T, I>() {
        let ha = k.to_handle(a.view()).unwrap();
        let hb = k.to_handle(b.view()).unwrap();
        let (op, result) = if transpose_b {
            ("mult_abt", k.mult_abt(&ha, &hb))
        } else {
            ("mult_ab", k.mult_ab(&ha, &hb))
        };
        let Some(hc) = supported(k.id(), result) else {
            continue;
        };
        assert_eq!(hc.kernel(), k.id());
        assert_eq!(hc.shape(), expected.shape(), "{} {op}", k.name());
        let c = k.from_handle(&hc).unwrap();
        assert_csr_close(&c, &expected);
        // Rows in any order: the same rows, the same entries once sorted.
        let unsorted = if transpose_b {
            k.mult_abt_unsorted(&ha, &hb)
        } else {
            k.mult_ab_unsorted(&ha, &hb)
        };
        let mut u = k.from_handle(&unsorted.unwrap()).unwrap();
        assert_eq!(u.row_ptrs(), c.row_ptrs(), "{} {op}, unsorted", k.name());
        u.sort_by_column_index();
        assert_csr_close(&u, &expected);
    }
}

// ---------------------------------------------------------------------------------------
// Random matrices, every kernel against the reference
// ---------------------------------------------------------------------------------------

type SpmvCase<T, I> = (Csr<T, I>, Vec<T>, Vec<T>, T, T);

fn arb_scale<T: TestScalar>() -> BoxedStrategy<T> {
    prop_oneof![1 => Just(zero::<T>()), 1 => Just(T::from_re_im(1.0, 0.0)), 3 => T::arb_value()]
        .boxed()
}

/// A matrix, `x`, `y`, `alpha` and `beta` (zero a third of the time).
fn arb_spmv<T: TestScalar, I: TestIndex>() -> impl Strategy<Value = SpmvCase<T, I>> {
    arb_csr::<T, I>(16, 16, 80).prop_flat_map(|a| {
        let (nrows, ncols) = a.shape();
        (
            Just(a),
            arb_vec::<T>(ncols),
            arb_vec::<T>(nrows),
            arb_scale::<T>(),
            prop_oneof![1 => Just(zero::<T>()), 2 => arb_scale::<T>()],
        )
    })
}

fn mult_vec_matches_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(64);
    proptest!(config, |((a, x, y0, alpha, beta) in arb_spmv::<T, I>())| {
        // beta == 0 must ignore y entirely, NaN included.
        let y0 = if beta == zero() { vec![nan::<T>(); y0.len()] } else { y0 };
        let naive = naive_mult_vec(&NaiveCsr::from_csr(&a), alpha, &x, beta, &y0);
        let r = ReferenceKernel;
        let h = Kernel::<T, I>::to_handle(&r, a.view()).unwrap();
        let mut expected = y0.clone();
        r.mult_vec(&h, alpha, &x, beta, &mut expected).unwrap();
        prop_assert_eq!(&expected, &naive);
        for k in kernels::<T, I>() {
            let h = k.to_handle(a.view()).unwrap();
            let mut y = y0.clone();
            if supported(k.id(), k.mult_vec(&h, alpha, &x, beta, &mut y)).is_some() {
                assert_spmv_eq(k.id(), &y, &expected, terms(&a), k.name());
            }
        }
    });
}

fn mult_dense_matches_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(48);
    let case = (arb_spmv::<T, I>(), prop_oneof![Just(1_usize), Just(3)]).prop_flat_map(
        |((a, _, _, alpha, beta), k)| {
            let (nrows, ncols) = a.shape();
            (
                Just((a, alpha, beta, k)),
                arb_vec::<T>(ncols * k),
                arb_vec::<T>(nrows * k),
            )
        },
    );
    proptest!(config, |(((a, alpha, beta, k), xv, yv) in case)| {
        let (nrows, ncols) = a.shape();
        let yv = if beta == zero() { vec![nan::<T>(); yv.len()] } else { yv };
        let x = Dense::try_from_row_major(ncols, k, xv).unwrap();
        let y0 = Dense::try_from_row_major(nrows, k, yv).unwrap();
        let r = ReferenceKernel;
        let h = Kernel::<T, I>::to_handle(&r, a.view()).unwrap();
        let mut expected = y0.clone();
        r.mult_dense(&h, alpha, &x, beta, &mut expected).unwrap();
        // Column j of the product is mult_vec of column j.
        let column = |d: &Dense<T>, j: usize| (0..d.nrows()).map(|i| d.row(i)[j]).collect::<Vec<_>>();
        for j in 0..k {
            let mut yj = column(&y0, j);
            r.mult_vec(&h, alpha, &column(&x, j), beta, &mut yj).unwrap();
            assert_bits_eq(&column(&expected, j), &yj, "reference mult_dense column");
        }
        for kern in kernels::<T, I>() {
            let h = kern.to_handle(a.view()).unwrap();
            let mut y = y0.clone();
            if supported(kern.id(), kern.mult_dense(&h, alpha, &x, beta, &mut y)).is_some() {
                prop_assert_eq!(y.shape(), (nrows, k));
                let (y, expected) = (y.to_row_major_vec(), expected.to_row_major_vec());
                assert_spmv_eq(kern.id(), &y, &expected, terms(&a), kern.name());
            }
        }
    });
}

fn mult_ab_matches_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(48);
    let pair = (arb_csr::<T, I>(10, 10, 40), arb_csr::<T, I>(10, 10, 40));
    proptest!(config, |((a, b0) in pair)| {
        let b = reshape(&b0, a.ncols(), b0.ncols());
        check_product(&a, &b, false);
        // A square matrix times itself, one handle used for both operands.
        let sq = reshape(&a, a.nrows(), a.nrows());
        check_product(&sq, &sq, false);
        for k in kernels::<T, I>() {
            let h = k.to_handle(sq.view()).unwrap();
            if let Some(hc) = supported(k.id(), k.mult_ab(&h, &h)) {
                assert_csr_close(&k.from_handle(&hc).unwrap(), &reference_product(&sq, &sq, false));
            }
        }
    });
}

fn mult_abt_matches_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(48);
    let pair = (arb_csr::<T, I>(10, 10, 40), arb_csr::<T, I>(10, 10, 40));
    proptest!(config, |((a, b0) in pair)| {
        let b = reshape(&b0, b0.nrows(), a.ncols());
        check_product(&a, &b, true);
        // A·Aᵀ with one handle for both operands, twice (a cached transpose must not change
        // the result).
        let expected = reference_product(&a, &a, true);
        for k in kernels::<T, I>() {
            let h = k.to_handle(a.view()).unwrap();
            for _ in 0..2 {
                if let Some(hc) = supported(k.id(), k.mult_abt(&h, &h)) {
                    assert_csr_close(&k.from_handle(&hc).unwrap(), &expected);
                }
            }
        }
    });
}

fn order_columns_and_from_handle<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(48);
    proptest!(config, |((a, x, _, _, _) in arb_spmv::<T, I>())| {
        let before = a.clone();
        let sorted = NaiveCsr::from_csr(&a).sorted().to_csr::<I>();
        let r = ReferenceKernel;
        let hs = Kernel::<T, I>::to_handle(&r, sorted.view()).unwrap();
        let mut y_sorted = vec![zero::<T>(); a.nrows()];
        r.mult_vec(&hs, T::from_re_im(1.0, 0.0), &x, zero(), &mut y_sorted).unwrap();
        for k in kernels::<T, I>() {
            let mut h = k.to_handle(a.view()).unwrap();
            // from_handle copies the matrix out unchanged, value bits included.
            let Some(copy) = supported(k.id(), k.from_handle(&h)) else { continue };
            prop_assert_eq!(copy.row_ptrs(), a.row_ptrs());
            prop_assert_eq!(copy.col_idxs(), a.col_idxs());
            assert_bits_eq(copy.values(), a.values(), "from_handle");
            if supported(k.id(), k.order_columns(&mut h)).is_none() {
                continue;
            }
            let out = k.from_handle(&h).unwrap();
            prop_assert_eq!(out.row_ptrs(), sorted.row_ptrs());
            prop_assert_eq!(out.col_idxs(), sorted.col_idxs());
            assert_bits_eq(out.values(), sorted.values(), "order_columns (stable)");
            // The handle still multiplies after sorting, like one made from sorted rows.
            let mut y = vec![nan::<T>(); a.nrows()];
            if supported(k.id(), k.mult_vec(&h, T::from_re_im(1.0, 0.0), &x, zero(), &mut y)).is_some() {
                assert_spmv_eq(k.id(), &y, &y_sorted, terms(&a), "mult_vec after order_columns");
            }
        }
        // The caller's matrix is never modified.
        prop_assert_eq!(a.row_ptrs(), before.row_ptrs());
        prop_assert_eq!(a.col_idxs(), before.col_idxs());
        assert_bits_eq(a.values(), before.values(), "matrix after order_columns");
    });
}

test_all_types!(
    mult_vec_matches_reference,
    mult_dense_matches_reference,
    mult_ab_matches_reference,
    mult_abt_matches_reference,
    order_columns_and_from_handle
);

// ---------------------------------------------------------------------------------------
// Errors: shapes and foreign handles, the same for every kernel
// ---------------------------------------------------------------------------------------

fn shape_errors<T: TestScalar, I: TestIndex>() {
    let a = big_csr::<T, I>(4, 3, 8, 1);
    let b = big_csr::<T, I>(5, 2, 8, 2);
    let one = T::from_re_im(1.0, 0.0);
    for k in kernels::<T, I>() {
        let (ha, hb) = (
            k.to_handle(a.view()).unwrap(),
            k.to_handle(b.view()).unwrap(),
        );
        let mismatch = |r: Result<(), Error>, op: &str| match r {
            Err(Error::DimensionMismatch { op: got, .. }) => assert_eq!(got, op, "{}", k.name()),
            Err(Error::Unsupported { .. }) => {}
            other => panic!(
                "{} {op}: expected a dimension mismatch, got {other:?}",
                k.name()
            ),
        };
        mismatch(
            k.mult_vec(&ha, one, &[one; 2], one, &mut [one; 4]),
            "mult_vec",
        );
        mismatch(
            k.mult_vec(&ha, one, &[one; 3], one, &mut [one; 5]),
            "mult_vec",
        );
        let x = Dense::try_from_row_major(2, 1, vec![one; 2]).unwrap();
        let mut y = Dense::try_from_row_major(4, 1, vec![one; 4]).unwrap();
        mismatch(k.mult_dense(&ha, one, &x, one, &mut y), "mult_dense");
        let x = Dense::try_from_row_major(3, 2, vec![one; 6]).unwrap();
        mismatch(k.mult_dense(&ha, one, &x, one, &mut y), "mult_dense");
        mismatch(k.mult_ab(&ha, &hb).map(drop), "mult_ab");
        mismatch(k.mult_abt(&ha, &hb).map(drop), "mult_abt");
        // y is untouched by a failed call.
        let mut y = [one; 5];
        let _ = k.mult_vec(&ha, one, &[one; 3], zero(), &mut y);
        assert_eq!(y, [one; 5]);
    }
}

fn foreign_handles_are_refused<T: TestScalar, I: TestIndex>() {
    let a = big_csr::<T, I>(3, 3, 6, 3);
    let one = T::from_re_im(1.0, 0.0);
    for k in kernels::<T, I>() {
        for other in kernels::<T, I>() {
            if other.id() == k.id() {
                continue;
            }
            let h = other.to_handle(a.view()).unwrap();
            let foreign = |r: Result<(), Error>| {
                assert!(
                    matches!(
                        r,
                        Err(Error::ForeignHandle { .. } | Error::Unsupported { .. })
                    ),
                    "{} accepted a {} handle: {r:?}",
                    k.name(),
                    other.name()
                );
            };
            foreign(k.mult_vec(&h, one, &[one; 3], one, &mut [one; 3]));
            foreign(k.mult_ab(&h, &h).map(drop));
            foreign(k.mult_abt(&h, &h).map(drop));
            foreign(k.from_handle(&h).map(drop));
        }
    }
}

test_all_types!(shape_errors, foreign_handles_are_refused);

/// No operation of the native kernel may be skipped as unsupported: the proptests above
/// would otherwise pass without testing it.
#[test]
fn native_supports_every_operation() {
    fn check<T: TestScalar, I: TestIndex>() {
        let k = NativeKernel;
        let a = big_csr::<T, I>(5, 5, 12, 7);
        let one = T::from_re_im(1.0, 0.0);
        let mut h = Kernel::<T, I>::to_handle(&k, a.view()).unwrap();
        k.mult_vec(&h, one, &[one; 5], zero(), &mut [one; 5])
            .unwrap();
        let x = Dense::try_from_row_major(5, 2, vec![one; 10]).unwrap();
        let mut y = Dense::zeros(5, 2).unwrap();
        k.mult_dense(&h, one, &x, zero(), &mut y).unwrap();
        let c = k.mult_ab(&h, &h).unwrap();
        let d = k.mult_abt(&h, &c).unwrap();
        k.from_handle(&d).unwrap();
        k.order_columns(&mut h).unwrap();
        k.from_handle(&h).unwrap();
    }
    assert!(KernelId::Native.availability().is_ok());
    check::<f32, i32>();
    check::<f64, i64>();
    check::<Complex<f32>, i64>();
    check::<Complex<f64>, i32>();
    check::<f64, u32>();
    check::<f32, usize>();
}

// ---------------------------------------------------------------------------------------
// sprs as an external oracle (f64)
// ---------------------------------------------------------------------------------------

/// `a` as an sprs matrix: sorted rows, duplicates summed (sprs needs both).
fn to_sprs<I: TestIndex + SpIndex>(a: &Csr<f64, I>) -> CsMatI<f64, I, I> {
    let mut a = a.clone();
    a.sum_duplicates();
    let (nrows, ncols, ptrs, cols, values) = a.into_parts();
    CsMatI::try_new((nrows, ncols), ptrs, cols, values)
        .map_err(|(.., e)| e)
        .expect("sprs accepts a summed matrix")
}

/// Nonzero entries by coordinate.
fn nonzeros(
    entries: impl IntoIterator<Item = (usize, usize, f64)>,
) -> BTreeMap<(usize, usize), f64> {
    let mut map = BTreeMap::new();
    for (r, c, v) in entries {
        *map.entry((r, c)).or_insert(0.0) += v;
    }
    map.retain(|_, v| *v != 0.0);
    map
}

fn sprs_agrees<I: TestIndex + SpIndex>() {
    let config = ProptestConfig::with_cases(64);
    let case = (arb_spmv::<f64, I>(), arb_csr::<f64, I>(10, 10, 40));
    proptest!(config, |(((a, x, _, _, _), b0) in case)| {
        let sa = to_sprs(&a);
        let mut y_sprs = vec![0.0; a.nrows()];
        sprs::prod::mul_acc_mat_vec_csr(sa.view(), &x[..], &mut y_sprs[..]);
        let b = reshape(&b0, a.ncols(), b0.ncols());
        let c_sprs = &sa * &to_sprs(&b);
        let expected = nonzeros(c_sprs.iter().map(|(&v, (r, c))| (r.index(), c.index(), v)));
        let bt = reshape(&b0, b0.nrows(), a.ncols());
        let ct_sprs = &sa * &to_sprs(&bt).transpose_view().to_csr();
        let expected_t = nonzeros(ct_sprs.iter().map(|(&v, (r, c))| (r.index(), c.index(), v)));
        for k in kernels::<f64, I>() {
            let (ha, hb, hbt) = (
                k.to_handle(a.view()).unwrap(),
                k.to_handle(b.view()).unwrap(),
                k.to_handle(bt.view()).unwrap(),
            );
            let mut y = vec![f64::NAN; a.nrows()];
            if supported(k.id(), k.mult_vec(&ha, 1.0, &x, 0.0, &mut y)).is_some() {
                prop_assert_eq!(&y, &y_sprs, "{} mult_vec", k.name());
            }
            if let Some(hc) = supported(k.id(), k.mult_ab(&ha, &hb)) {
                prop_assert_eq!(nonzeros(k.from_handle(&hc).unwrap().iter()), expected.clone(), "{} mult_ab", k.name());
            }
            if let Some(hc) = supported(k.id(), k.mult_abt(&ha, &hbt)) {
                prop_assert_eq!(nonzeros(k.from_handle(&hc).unwrap().iter()), expected_t.clone(), "{} mult_abt", k.name());
            }
        }
    });
}

#[test]
fn sprs_agrees_i32() {
    sprs_agrees::<i32>();
}

#[test]
fn sprs_agrees_i64() {
    sprs_agrees::<i64>();
}

// ---------------------------------------------------------------------------------------
// Thread counts and concurrency
// ---------------------------------------------------------------------------------------

pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Under rayon pools of 1, 2, 3 and 7 threads, on inputs large enough to be split, every
/// kernel's SpMV is bit-identical to the reference and its products equal the reference's.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let big = big_csr::<f64, i32>(40_000, 30_000, 300_000, 11);
    let x: Vec<f64> = (0..big.ncols())
        .map(|j| ((j * 7) % 13) as f64 - 6.0)
        .collect();
    let r = ReferenceKernel;
    let h = Kernel::<f64, i32>::to_handle(&r, big.view()).unwrap();
    let mut expected_y = vec![0.0; big.nrows()];
    r.mult_vec(&h, 1.5, &x, 0.0, &mut expected_y).unwrap();
    let small = big_csr::<f64, i32>(3_000, 3_000, 30_000, 12);
    let expected_ab = reference_product(&small, &small, false);
    let expected_abt = reference_product(&small, &small, true);
    for threads in [1, 2, 3, 7] {
        in_pool(threads, || {
            for k in kernels::<f64, i32>() {
                let hb = k.to_handle(big.view()).unwrap();
                let mut y = vec![f64::NAN; big.nrows()];
                if supported(k.id(), k.mult_vec(&hb, 1.5, &x, 0.0, &mut y)).is_some() {
                    let what = format!("{} with {threads} threads", k.name());
                    assert_spmv_eq(k.id(), &y, &expected_y, terms(&big), &what);
                }
                let hs = k.to_handle(small.view()).unwrap();
                if let Some(hc) = supported(k.id(), k.mult_ab(&hs, &hs)) {
                    assert_csr_close(&k.from_handle(&hc).unwrap(), &expected_ab);
                }
                if let Some(hc) = supported(k.id(), k.mult_abt(&hs, &hs)) {
                    assert_csr_close(&k.from_handle(&hc).unwrap(), &expected_abt);
                }
            }
        });
    }
}

/// 8 threads x 100 products (SpMV, A·B and A·Bᵀ) on one shared handle per kernel give the
/// single-threaded results every time.
#[test]
fn one_handle_shared_by_eight_threads() {
    const THREADS: usize = 8;
    const PRODUCTS: usize = 100;
    // Large enough for the native SpMV to split its rows (over 65 536 entries).
    let a = big_csr::<f64, i64>(20_000, 20_000, 100_000, 21);
    let x: Vec<f64> = (0..a.ncols())
        .map(|j| ((j * 5) % 11) as f64 - 5.0)
        .collect();
    let b = big_csr::<f64, i64>(300, 300, 1_500, 22);
    for k in kernels::<f64, i64>() {
        let ha = k.to_handle(a.view()).unwrap();
        let hb = k.to_handle(b.view()).unwrap();
        let mut y1 = vec![0.0; a.nrows()];
        if supported(k.id(), k.mult_vec(&ha, 1.0, &x, 0.0, &mut y1)).is_none() {
            continue;
        }
        let Some(c1) = supported(k.id(), k.mult_ab(&hb, &hb)) else {
            continue;
        };
        let c1 = k.from_handle(&c1).unwrap();
        let Some(ct1) = supported(k.id(), k.mult_abt(&hb, &hb)) else {
            continue;
        };
        let ct1 = k.from_handle(&ct1).unwrap();
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (ha, hb, x, y1, c1, ct1) = (&ha, &hb, &x, &y1, &c1, &ct1);
                s.spawn(move || {
                    let mut y = vec![f64::NAN; y1.len()];
                    for i in 0..PRODUCTS {
                        match (i + t) % 3 {
                            0 => {
                                k.mult_vec(ha, 1.0, x, 0.0, &mut y).unwrap();
                                assert_bits_eq(&y, y1, "shared-handle mult_vec");
                            }
                            1 => {
                                let c = k.from_handle(&k.mult_ab(hb, hb).unwrap()).unwrap();
                                assert_eq!(&c, c1, "{} shared-handle mult_ab", k.name());
                            }
                            _ => {
                                let c = k.from_handle(&k.mult_abt(hb, hb).unwrap()).unwrap();
                                assert_eq!(&c, ct1, "{} shared-handle mult_abt", k.name());
                            }
                        }
                    }
                });
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
// The real matrices of the shared corpus
// ---------------------------------------------------------------------------------------

/// Products with more multiply-adds than this are skipped in the corpus test: the reference
/// kernel (an ordered map per row, unoptimised in test builds) would take too long. At one
/// million, 11 of the 62 real matrices are skipped (the largest checked, `Franz6_id1959_aug`,
/// has 965 000) and the whole test takes 30 to 50 s in a debug build on 2 cores.
const MAX_CORPUS_FLOPS: usize = 1_000_000;

/// Multiply-adds of `A·Aᵀ`: the sum over columns of the squared column counts.
fn aat_flops<T: Scalar, I: Index>(a: &Csr<T, I>) -> usize {
    let mut counts = vec![0_usize; a.ncols()];
    for c in a.col_idxs() {
        counts[c.to_usize()] += 1;
    }
    counts.iter().map(|n| n * n).sum()
}

/// Asserts `|y_r - expected_r| <= tol · (Σ_j |a_rj|·|x_j| + extra(r))` for every row: the
/// error bound of a sum taken in any order (random values cancel, so `|y_r|` itself is no
/// scale); `extra` is the size of any other term, such as `|beta·y0_r|`.
#[track_caller]
pub(crate) fn assert_within_rounding<T: TestScalar>(
    a: &Csr<T, i64>,
    x: &[T],
    (y, expected): (&[T], &[T]),
    extra: impl Fn(usize) -> f64,
    what: &str,
) {
    let tol = csr_testkit::tolerance::<T>(terms(a));
    for r in 0..a.nrows() {
        let (cols, vals) = a.row(r);
        let scale: f64 = cols
            .iter()
            .zip(vals)
            .map(|(&c, &v)| v.to_c64().norm() * x[c as usize].to_c64().norm())
            .sum::<f64>()
            + extra(r);
        let err = (y[r].to_c64() - expected[r].to_c64()).norm();
        assert!(
            err <= tol * scale.max(f64::MIN_POSITIVE),
            "{what}: row {r}: {:?} vs {:?} (error {err:e} > {tol:e} · {scale:e})",
            y[r],
            expected[r]
        );
    }
}

/// SpMV (bit-identical) and, when affordable, `A·Aᵀ` (same structure, close values) of
/// every kernel against the reference.
fn check_real<T: TestScalar>(name: &str, a: &Csr<T, i64>) {
    let mut rng = SplitMix64(0x5eed);
    let x: Vec<T> = (0..a.ncols())
        .map(|_| {
            let u = |rng: &mut SplitMix64| (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
            T::from_re_im(2.0 * u(&mut rng) - 1.0, 2.0 * u(&mut rng) - 1.0)
        })
        .collect();
    let r = ReferenceKernel;
    let h = Kernel::<T, i64>::to_handle(&r, a.view()).unwrap();
    let mut expected = vec![zero::<T>(); a.nrows()];
    let alpha = T::from_re_im(1.0, 0.0);
    r.mult_vec(&h, alpha, &x, zero(), &mut expected).unwrap();
    let flops = aat_flops(a);
    let expected_aat = (flops <= MAX_CORPUS_FLOPS).then(|| reference_product(a, a, true));
    if expected_aat.is_none() {
        eprintln!("NOTE {name}: A·Aᵀ skipped ({flops} multiply-adds > {MAX_CORPUS_FLOPS})");
    }
    for k in kernels::<T, i64>() {
        let h = k.to_handle(a.view()).unwrap();
        let mut y = vec![nan::<T>(); a.nrows()];
        if supported(k.id(), k.mult_vec(&h, alpha, &x, zero(), &mut y)).is_some() {
            let what = format!("{name}: {} mult_vec", k.name());
            if sums_in_reference_order(k.id()) {
                assert_bits_eq(&y, &expected, &what);
            } else {
                assert_within_rounding(a, &x, (&y, &expected), |_| 0.0, &what);
            }
        }
        if let Some(expected_aat) = &expected_aat
            && let Some(hc) = supported(k.id(), k.mult_abt(&h, &h))
        {
            let c = k.from_handle(&hc).unwrap();
            assert_csr_close(&c, expected_aat);
        }
    }
}

#[test]
fn real_matrices_agree_with_the_reference() {
    crate::mm_support::for_each_real_matrix("real_matrices_agree_with_the_reference", |name, a| {
        match a {
            RealMatrix::Real(a) => check_real(name, &a),
            RealMatrix::Complex(a) => check_real(name, &a),
        }
    });
}
