//! Storage formats around the CSR hub (issue 7): `Coo`, `Ell`, `Sellp`, `Hybrid`, `Dense`.
//!
//! Ginkgo behaviours covered (numbering of `shared/anchors/ginkgo-csr.md` §6; fixtures
//! `mtx` = [[1,3,2],[0,5,0]], `mtx2` = `mtx` plus an explicit 0 at (1,0)):
//!
//! | item | what | tests |
//! |---|---|---|
//! | 1 | SpMV `mtx·(2,1,4) = (13,5)` | `ginkgo_spmv_{coo,ell,sellp,hybrid,dense}`, `ginkgo_spmv_csr_every_kernel_and_strategy` |
//! | 2 | advanced SpMV `-1·mtx·x + 2·(1,2) = (-11,-1)` | same |
//! | 3 | `beta = 0` ignores NaN in y: `(-13,-5)` | same |
//! | 11 | empty matrices convert to valid empty formats; precision round trip | `empty_matrices_convert_to_valid_empty_formats`, `precision_round_trip_f64_f32_f64` |
//! | 12 | Csr→Coo row indices `[0,0,0,1]`; Csr→Dense; Csr→pattern (SparsityCsr) | `csr_to_coo_row_indices`, `csr_to_dense` |
//! | 13 | Csr→Ell exact arrays | `csr_to_ell_exact_arrays` |
//! | 14 | Csr→Sellp exact arrays | `csr_to_sellp_exact_arrays` |
//! | 15 | Csr→Hybrid (automatic): ELL width 0, stride 2, all in COO | `csr_to_hybrid_automatic` |
//! | 16 | Csr→Hybrid `column_limit(2)` on `mtx2` | `csr_to_hybrid_column_limit_2` |
//!
//! Beyond Ginkgo: proptest round trips CSR → X → CSR and SpMV of every format against the
//! reference kernel (random shapes, empty rows, unsorted rows, duplicates, explicit zeros),
//! the parallel paths on larger generated matrices, and a bad-input case for every check of
//! every constructor.

use std::fmt::Debug;

use csr::kernel::{self, Kernel, KernelId, ReferenceKernel};
use csr::{
    Coo, Csr, Dense, Ell, Error, Extent, Hybrid, HybridStrategy, Index, MatrixFormat, Scalar,
    Sellp, padding_index,
};
use csr_testkit::{
    NaiveCsr, TestIndex, TestScalar, arb_csr, arb_vec, assert_slices_close, idxs, test_all_types,
};
use proptest::prelude::*;

const CASES: u32 = 48;

fn num<T: Scalar>(v: f64) -> T {
    T::from_re_im(v, 0.0)
}

fn nums<T: Scalar>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&v| num(v)).collect()
}

/// Ginkgo's `mtx`: [[1, 3, 2], [0, 5, 0]].
fn mtx<T: Scalar, I: TestIndex>() -> Csr<T, I> {
    Csr::try_from_parts(
        2,
        3,
        idxs(&[0, 3, 4]),
        idxs(&[0, 1, 2, 1]),
        nums(&[1.0, 3.0, 2.0, 5.0]),
    )
    .unwrap()
}

/// Ginkgo's `mtx2`: `mtx` with an explicit zero at (1, 0).
fn mtx2<T: Scalar, I: TestIndex>() -> Csr<T, I> {
    Csr::try_from_parts(
        2,
        3,
        idxs(&[0, 3, 5]),
        idxs(&[0, 1, 2, 0, 1]),
        nums(&[1.0, 3.0, 2.0, 0.0, 5.0]),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// Ginkgo items 1-3: SpMV, advanced SpMV, beta = 0 with NaN, for every format
// ---------------------------------------------------------------------------------------

fn ginkgo_spmv<F: MatrixFormat<T, I>, T: TestScalar, I: TestIndex>() {
    let a = F::try_from_csr(mtx::<T, I>().view()).unwrap();
    let x = nums::<T>(&[2.0, 1.0, 4.0]);
    // Item 1.
    let mut y = vec![T::zero(); 2];
    a.mult_vec(T::one(), &x, T::zero(), &mut y).unwrap();
    assert_eq!(y, nums(&[13.0, 5.0]), "{}: item 1", F::NAME);
    // Item 2.
    let mut y = nums::<T>(&[1.0, 2.0]);
    a.mult_vec(num(-1.0), &x, num(2.0), &mut y).unwrap();
    assert_eq!(y, nums(&[-11.0, -1.0]), "{}: item 2", F::NAME);
    // Item 3.
    let nan = T::from_re_im(f64::NAN, f64::NAN);
    let mut y = vec![nan; 2];
    a.mult_vec(num(-1.0), &x, T::zero(), &mut y).unwrap();
    assert_eq!(y, nums(&[-13.0, -5.0]), "{}: item 3", F::NAME);
    // Wrong shapes.
    let err = a.mult_vec(T::one(), &x[..2], T::zero(), &mut y);
    assert!(
        matches!(
            err,
            Err(Error::DimensionMismatch {
                lhs: (2, 3),
                rhs: (2, 2),
                ..
            })
        ),
        "{}: {err:?}",
        F::NAME
    );
    let mut long_y = vec![T::zero(); 3];
    let err = a.mult_vec(T::one(), &x, T::zero(), &mut long_y);
    assert!(
        matches!(err, Err(Error::DimensionMismatch { rhs: (3, 3), .. })),
        "{}: {err:?}",
        F::NAME
    );
}

fn ginkgo_spmv_coo<T: TestScalar, I: TestIndex>() {
    ginkgo_spmv::<Coo<T, I>, T, I>();
}
fn ginkgo_spmv_ell<T: TestScalar, I: TestIndex>() {
    ginkgo_spmv::<Ell<T, I>, T, I>();
}
fn ginkgo_spmv_sellp<T: TestScalar, I: TestIndex>() {
    ginkgo_spmv::<Sellp<T, I>, T, I>();
}
fn ginkgo_spmv_hybrid<T: TestScalar, I: TestIndex>() {
    ginkgo_spmv::<Hybrid<T, I>, T, I>();
    // Also with a non-empty ELL part (the automatic split puts everything in COO here).
    let h = Hybrid::from_csr_with(mtx::<T, I>().view(), HybridStrategy::ColumnLimit(1)).unwrap();
    let mut y = nums::<T>(&[1.0, 2.0]);
    h.mult_vec(num(-1.0), &nums(&[2.0, 1.0, 4.0]), num(2.0), &mut y)
        .unwrap();
    assert_eq!(y, nums(&[-11.0, -1.0]));
}
fn ginkgo_spmv_dense<T: TestScalar, I: TestIndex>() {
    ginkgo_spmv::<Dense<T>, T, I>();
}

/// Items 1-3 on CSR itself: every available kernel, the native one with every strategy.
fn ginkgo_spmv_csr_every_kernel_and_strategy<T: TestScalar, I: TestIndex>() {
    let a = mtx::<T, I>();
    let x = nums::<T>(&[2.0, 1.0, 4.0]);
    let nan = T::from_re_im(f64::NAN, f64::NAN);
    let cases = [
        (
            T::one(),
            T::zero(),
            vec![T::zero(); 2],
            nums::<T>(&[13.0, 5.0]),
        ),
        (num(-1.0), num(2.0), nums(&[1.0, 2.0]), nums(&[-11.0, -1.0])),
        (num(-1.0), T::zero(), vec![nan; 2], nums(&[-13.0, -5.0])),
    ];
    let skipped = |e: &Error| {
        matches!(
            e,
            Error::KernelUnavailable { .. } | Error::Unsupported { .. }
        )
    };
    let mut ran = 0;
    for id in KernelId::ALL {
        let Ok(k) = kernel::kernel_for::<T, I>(id) else {
            continue;
        };
        for s in csr::Strategy::ALL {
            let h = match k.to_handle(a.view().with_strategy(s)) {
                Ok(h) => h,
                Err(e) if skipped(&e) => continue,
                Err(e) => panic!("{id}:{s}: {e}"),
            };
            for (item, (alpha, beta, y0, want)) in cases.iter().enumerate() {
                let mut y = y0.clone();
                match k.mult_vec(&h, *alpha, &x, *beta, &mut y) {
                    Ok(()) => assert_eq!(&y, want, "{id}:{s}: item {}", item + 1),
                    Err(e) if skipped(&e) => continue,
                    Err(e) => panic!("{id}:{s}: {e}"),
                }
                ran += 1;
            }
        }
    }
    // At least the native kernel with its four own strategies and the reference kernel.
    assert!(ran >= 3 * 5, "only {ran} runs");
}

test_all_types!(
    ginkgo_spmv_csr_every_kernel_and_strategy,
    ginkgo_spmv_coo,
    ginkgo_spmv_ell,
    ginkgo_spmv_sellp,
    ginkgo_spmv_hybrid,
    ginkgo_spmv_dense
);

// ---------------------------------------------------------------------------------------
// Ginkgo item 11: empty matrices, precision round trip
// ---------------------------------------------------------------------------------------

fn empty_converts<F: MatrixFormat<f64, i32> + Debug>(nrows: usize, ncols: usize) -> F {
    let a = Csr::<f64, i32>::empty(nrows, ncols).unwrap();
    let f = F::try_from_csr(a.view()).unwrap();
    assert_eq!(f.shape(), (nrows, ncols), "{}", F::NAME);
    let back = f.to_csr().unwrap();
    assert_eq!(back, a, "{}", F::NAME);
    let mut y = vec![f64::NAN; nrows];
    f.mult_vec(1.0, &vec![1.0; ncols], 0.0, &mut y).unwrap();
    assert!(y.iter().all(|&v| v == 0.0), "{}", F::NAME);
    f
}

#[test]
fn empty_matrices_convert_to_valid_empty_formats() {
    for (nrows, ncols) in [(0, 0), (3, 0), (0, 4), (70, 5)] {
        let coo = empty_converts::<Coo<f64, i32>>(nrows, ncols);
        assert_eq!(coo.nnz(), 0);
        let ell = empty_converts::<Ell<f64, i32>>(nrows, ncols);
        assert_eq!(
            (ell.width(), ell.stride(), ell.col_idxs().len()),
            (0, nrows, 0)
        );
        let sellp = empty_converts::<Sellp<f64, i32>>(nrows, ncols);
        assert_eq!(sellp.slice_sets()[0], 0);
        assert_eq!(sellp.slice_sets().len(), nrows.div_ceil(64) + 1);
        assert!(sellp.slice_lengths().iter().all(|&l| l == 0));
        assert!(sellp.col_idxs().is_empty());
        let hybrid = empty_converts::<Hybrid<f64, i32>>(nrows, ncols);
        assert_eq!((hybrid.ell().width(), hybrid.coo().nnz()), (0, 0));
        let dense = empty_converts::<Dense<f64>>(nrows, ncols);
        assert!(dense.values().iter().all(|&v| v == 0.0));
    }
    // Ginkgo's exact case: a 0x0 SELL-P has slice_sets = [0].
    let s = Sellp::<f64, i32>::try_from(&Csr::empty(0, 0).unwrap()).unwrap();
    assert_eq!(s.slice_sets(), &[0]);
    assert!(s.slice_lengths().is_empty());
}

/// Every format's values mapped f64 → f32 → f64 give back the matrix within f32 precision.
#[test]
fn precision_round_trip_f64_f32_f64() {
    let a = Csr::<f64, i32>::try_from_parts(
        2,
        3,
        vec![0, 3, 4],
        vec![0, 1, 2, 1],
        vec![1.1, 3.3, 2.2, 5.1],
    )
    .unwrap();
    let check = |name: &str, back: Csr<f64, i32>| {
        assert_eq!(back.col_idxs(), a.col_idxs(), "{name}");
        for (got, want) in back.values().iter().zip(a.values()) {
            assert!(
                ((got - want) / want).abs() < 1e-7,
                "{name}: {got} vs {want}"
            );
            assert_ne!(got, want, "{name}: went through f32");
        }
    };
    let down = |v: f64| v as f32;
    let up = f64::from;
    check(
        "coo",
        Coo::from(&a).map_values(down).map_values(up).to_csr(),
    );
    check(
        "ell",
        Ell::try_from(&a)
            .unwrap()
            .map_values(down)
            .map_values(up)
            .to_csr()
            .unwrap(),
    );
    check(
        "sellp",
        Sellp::try_from(&a)
            .unwrap()
            .map_values(down)
            .map_values(up)
            .to_csr()
            .unwrap(),
    );
    check(
        "hybrid",
        Hybrid::from_csr_with(a.view(), HybridStrategy::ColumnLimit(2))
            .unwrap()
            .map_values(down)
            .map_values(up)
            .to_csr()
            .unwrap(),
    );
    let dense = a.to_dense().unwrap().map_values(down).map_values(up);
    check("dense", Csr::from_dense(&dense).unwrap());
}

// ---------------------------------------------------------------------------------------
// Ginkgo items 12-16: exact arrays of the conversions
// ---------------------------------------------------------------------------------------

fn csr_to_coo_row_indices<T: TestScalar, I: TestIndex>() {
    let coo = Coo::from(&mtx::<T, I>());
    assert_eq!(coo.row_idxs(), idxs::<I>(&[0, 0, 0, 1]).as_slice());
    assert_eq!(coo.col_idxs(), idxs::<I>(&[0, 1, 2, 1]).as_slice());
    assert_eq!(coo.values(), nums::<T>(&[1.0, 3.0, 2.0, 5.0]).as_slice());
    assert_eq!(Csr::from(coo), mtx());
}

fn csr_to_dense<T: TestScalar, I: TestIndex>() {
    let d = <Dense<T> as MatrixFormat<T, I>>::try_from_csr(mtx::<T, I>().view()).unwrap();
    assert_eq!(d.shape(), (2, 3));
    assert_eq!(d.row(0), nums::<T>(&[1.0, 3.0, 2.0]).as_slice());
    assert_eq!(d.row(1), nums::<T>(&[0.0, 5.0, 0.0]).as_slice());
    let back: Csr<T, I> = MatrixFormat::<T, I>::to_csr(&d).unwrap();
    assert_eq!(back, mtx());
    // Csr -> pattern (Ginkgo's SparsityCsr) keeps the pattern; its implicit values are 1.
    let p = mtx::<T, I>().to_pattern();
    assert_eq!(p.row_ptrs(), idxs::<I>(&[0, 3, 4]).as_slice());
    assert_eq!(p.col_idxs(), idxs::<I>(&[0, 1, 2, 1]).as_slice());
    assert_eq!(p.to_valued::<T>().values(), vec![T::one(); 4].as_slice());
}

fn csr_to_ell_exact_arrays<T: TestScalar, I: TestIndex>() {
    let ell = Ell::try_from(&mtx::<T, I>()).unwrap();
    assert_eq!((ell.width(), ell.stride()), (3, 2));
    assert_eq!(MatrixFormat::<T, I>::stored_slots(&ell), 6);
    assert_eq!(ell.col_idxs(), idxs::<I>(&[0, 1, 1, -1, 2, -1]).as_slice());
    assert_eq!(
        ell.values(),
        nums::<T>(&[1.0, 5.0, 3.0, 0.0, 2.0, 0.0]).as_slice()
    );
    assert_eq!(ell.nnz(), 4);
    assert_eq!(ell.entry(1, 0), Some((1, num(5.0))));
    assert_eq!(ell.entry(1, 1), None);
    assert_eq!(Csr::try_from(&ell).unwrap(), mtx());
}

fn csr_to_sellp_exact_arrays<T: TestScalar, I: TestIndex>() {
    let s = Sellp::try_from(&mtx::<T, I>()).unwrap();
    assert_eq!((s.slice_size(), s.stride_factor()), (64, 1));
    assert_eq!(s.slice_lengths(), &[3]);
    assert_eq!(s.slice_sets(), &[0, 3]);
    let (c, v) = (s.col_idxs(), s.values());
    assert_eq!(c.len(), 192);
    let at = |k: usize| (c[k], v[k]);
    let pad = padding_index::<I>();
    assert_eq!(at(0), (I::idx(0), num(1.0)));
    assert_eq!(at(1), (I::idx(1), num(5.0)));
    assert_eq!(at(64), (I::idx(1), num(3.0)));
    assert_eq!(at(65), (pad, T::zero()));
    assert_eq!(at(128), (I::idx(2), num(2.0)));
    assert_eq!(at(129), (pad, T::zero()));
    // Lanes past the last row are padding.
    assert!((2..64).all(|r| c[r] == pad && c[64 + r] == pad && c[128 + r] == pad));
    assert_eq!(s.entry(0, 2), Some((2, num(2.0))));
    assert_eq!(Csr::try_from(&s).unwrap(), mtx());
}

fn csr_to_hybrid_automatic<T: TestScalar, I: TestIndex>() {
    let h = Hybrid::try_from(&mtx::<T, I>()).unwrap();
    assert_eq!((h.ell().width(), h.ell().stride()), (0, 2));
    assert!(h.ell().col_idxs().is_empty());
    assert_eq!(h.coo().row_idxs(), idxs::<I>(&[0, 0, 0, 1]).as_slice());
    assert_eq!(h.coo().col_idxs(), idxs::<I>(&[0, 1, 2, 1]).as_slice());
    assert_eq!(
        h.coo().values(),
        nums::<T>(&[1.0, 3.0, 2.0, 5.0]).as_slice()
    );
    assert_eq!(Csr::try_from(&h).unwrap(), mtx());
}

fn csr_to_hybrid_column_limit_2<T: TestScalar, I: TestIndex>() {
    let h = Hybrid::from_csr_with(mtx2::<T, I>().view(), HybridStrategy::ColumnLimit(2)).unwrap();
    assert_eq!((h.ell().width(), h.ell().stride()), (2, 2));
    assert_eq!(h.ell().col_idxs(), idxs::<I>(&[0, 0, 1, 1]).as_slice());
    assert_eq!(
        h.ell().values(),
        nums::<T>(&[1.0, 0.0, 3.0, 5.0]).as_slice()
    );
    assert_eq!(h.coo().row_idxs(), idxs::<I>(&[0]).as_slice());
    assert_eq!(h.coo().col_idxs(), idxs::<I>(&[2]).as_slice());
    assert_eq!(h.coo().values(), nums::<T>(&[2.0]).as_slice());
    assert_eq!(Csr::try_from(&h).unwrap(), mtx2());
}

test_all_types!(
    csr_to_coo_row_indices,
    csr_to_dense,
    csr_to_ell_exact_arrays,
    csr_to_sellp_exact_arrays,
    csr_to_hybrid_automatic,
    csr_to_hybrid_column_limit_2
);

/// Unsigned index types pad with `MAX`.
#[test]
fn unsigned_indices_pad_with_max() {
    let a = mtx::<f64, u32>();
    let ell = Ell::try_from(&a).unwrap();
    assert_eq!(ell.col_idxs(), &[0, 1, 1, u32::MAX, 2, u32::MAX]);
    assert_eq!(Csr::try_from(&ell).unwrap(), a);
    let s = Sellp::try_from(&mtx::<f64, usize>()).unwrap();
    assert_eq!(s.col_idxs()[65], usize::MAX);
    let mut y = vec![0.0; 2];
    s.mult_vec(1.0, &[2.0, 1.0, 4.0], 0.0, &mut y).unwrap();
    assert_eq!(y, vec![13.0, 5.0]);
}

/// Padding never lets a non-finite `x` leak: only rows that store the column see it, on
/// full 64-row blocks (branch-free path) and partial ones, and when no entry of `x` is
/// finite (select path).
#[test]
fn padding_does_not_leak_non_finite_x() {
    let a = mtx::<f64, i32>();
    let x = [f64::INFINITY, 1.0, 4.0];
    let ell = Ell::try_from(&a).unwrap();
    let sellp = Sellp::try_from(&a).unwrap();
    let mut y = [0.0; 2];
    ell.mult_vec(1.0, &x, 0.0, &mut y).unwrap();
    assert_eq!(y, [f64::INFINITY, 5.0]);
    sellp.mult_vec(1.0, &x, 0.0, &mut y).unwrap();
    assert_eq!(y, [f64::INFINITY, 5.0]);
    // 150 rows: row i stores column 0 if i % 3 == 0, else column 1 or 2; every fifth row
    // is empty; rows have 1 or 2 entries, so there is padding in every block.
    let n = 150;
    let mut d = csr::MatrixData::<f64, i32>::new(n, 3).unwrap();
    for i in (0..n).filter(|i| i % 5 != 4) {
        d.push(i, if i % 3 == 0 { 0 } else { 1 + i % 2 }, 1.0)
            .unwrap();
        if i % 2 == 0 {
            d.push(i, 1, 2.0).unwrap();
        }
    }
    let a = Csr::from_matrix_data(&d).unwrap();
    for x in [
        [f64::INFINITY, 1.0, 4.0],
        [f64::NAN; 3],
        [1.0, f64::NAN, 3.0],
    ] {
        let mut want = vec![0.0; n];
        reference_spmv(&a, 1.0, &x, 0.0, &mut want);
        let mut got = vec![f64::NAN; n];
        Ell::try_from(&a)
            .unwrap()
            .mult_vec(1.0, &x, 0.0, &mut got)
            .unwrap();
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "ell, x = {x:?}");
        Sellp::try_from(&a)
            .unwrap()
            .mult_vec(1.0, &x, 0.0, &mut got)
            .unwrap();
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "sellp, x = {x:?}");
        Hybrid::from_csr_with(a.view(), HybridStrategy::ColumnLimit(1))
            .unwrap()
            .mult_vec(1.0, &x, 0.0, &mut got)
            .unwrap();
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "hybrid, x = {x:?}");
    }
}

#[test]
fn hybrid_strategies_pick_ginkgo_widths() {
    // 10 rows, sorted lengths [0, 1, 1, 2, 2, 3, 3, 4, 8, 20].
    let lens = [3, 1, 20, 2, 0, 4, 1, 8, 2, 3];
    let w = |s: HybridStrategy| s.ell_width::<f64, i32>(&lens);
    assert_eq!(w(HybridStrategy::ColumnLimit(7)), 7);
    assert_eq!(w(HybridStrategy::ImbalanceLimit(0.8)), 8);
    assert_eq!(w(HybridStrategy::ImbalanceLimit(1.0)), 20);
    assert_eq!(w(HybridStrategy::ImbalanceLimit(0.0)), 0);
    assert_eq!(w(HybridStrategy::ImbalanceLimit(7.0)), 20, "clamped to 1");
    assert_eq!(
        w(HybridStrategy::ImbalanceBoundedLimit {
            percent: 0.8,
            ratio: 0.5
        }),
        5
    );
    // size(i32) / (size(f64) + 2 size(i32)) = 0.25: position 2.
    assert_eq!(w(HybridStrategy::MinimalStorage), 1);
    // f32 values with i64 indices: 8 / 20 = 0.4: position 4.
    assert_eq!(
        HybridStrategy::MinimalStorage.ell_width::<f32, i64>(&lens),
        2
    );
    // Automatic: position floor(10 / 3) = 3, bounded by floor(10 * 0.001) = 0.
    assert_eq!(w(HybridStrategy::Automatic), 0);
    let many: Vec<usize> = (0..3000).map(|r| r % 7).collect();
    // Position 1000 of the sorted lengths is 2; bound floor(3000 * 0.001) = 3.
    assert_eq!(HybridStrategy::Automatic.ell_width::<f64, i32>(&many), 2);
    assert_eq!(HybridStrategy::default(), HybridStrategy::Automatic);
    // The width is capped at the number of columns.
    let h =
        Hybrid::from_csr_with(mtx::<f64, i32>().view(), HybridStrategy::ColumnLimit(9)).unwrap();
    assert_eq!(h.ell().width(), 3);
}

// ---------------------------------------------------------------------------------------
// Random matrices: round trips and SpMV against the reference kernel
// ---------------------------------------------------------------------------------------

/// `y = alpha A x + beta y` by the reference kernel.
fn reference_spmv<T: Scalar, I: Index>(a: &Csr<T, I>, alpha: T, x: &[T], beta: T, y: &mut [T]) {
    let k = ReferenceKernel;
    let h = Kernel::<T, I>::to_handle(&k, a.view()).unwrap();
    k.mult_vec(&h, alpha, x, beta, y).unwrap();
}

/// What CSR → X → CSR gives: the matrix itself, except through Dense (duplicates summed,
/// rows sorted, zeros dropped).
fn expected_round_trip<F: MatrixFormat<T, I>, T: TestScalar, I: TestIndex>(
    a: &Csr<T, I>,
) -> Csr<T, I> {
    if F::NAME == "dense" {
        NaiveCsr::from_csr(a).summed().without_zeros().to_csr()
    } else {
        a.clone()
    }
}

/// Converts `a` to `F` (made by `make`), back, and checks SpMV against the reference.
fn check_format<F: MatrixFormat<T, I>, T: TestScalar, I: TestIndex>(
    a: &Csr<T, I>,
    f: &F,
    (alpha, x, beta, y0): (T, &[T], T, &[T]),
) {
    assert_eq!(f.shape(), a.shape());
    assert_eq!(
        f.to_csr().unwrap(),
        expected_round_trip::<F, T, I>(a),
        "{} round trip",
        F::NAME
    );
    let mut want = y0.to_vec();
    reference_spmv(a, alpha, x, beta, &mut want);
    let mut got = y0.to_vec();
    f.mult_vec(alpha, x, beta, &mut got).unwrap();
    let terms = a.row_lengths().max().unwrap_or(0) + 2;
    assert_slices_close(&got, &want, terms);
}

type SpmvCase<T, I> = (Csr<T, I>, Vec<T>, Vec<T>, T, T);

fn arb_case<T: TestScalar, I: TestIndex>() -> impl Strategy<Value = SpmvCase<T, I>> {
    arb_csr::<T, I>(80, 12, 200).prop_flat_map(|a| {
        let (n, m) = a.shape();
        (
            Just(a),
            arb_vec::<T>(m),
            arb_vec::<T>(n),
            T::arb_value(),
            T::arb_value(),
        )
    })
}

fn round_trip_and_spmv_every_format<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |((a, x, y0, alpha, beta) in arb_case::<T, I>())| {
        let args = (alpha, x.as_slice(), beta, y0.as_slice());
        check_format(&a, &Coo::from(&a), args);
        check_format(&a, &Ell::try_from(&a).unwrap(), args);
        check_format(&a, &Sellp::try_from(&a).unwrap(), args);
        check_format(&a, &Hybrid::try_from(&a).unwrap(), args);
        check_format(&a, &<Dense<T> as MatrixFormat<T, I>>::try_from_csr(a.view()).unwrap(), args);
        // Owned conversions and conversions between formats (through CSR).
        prop_assert_eq!(Csr::from(Coo::from(a.clone())), a.clone());
        let sellp: Sellp<T, I> = Coo::from(&a).convert_to().unwrap();
        prop_assert_eq!(sellp.to_csr().unwrap(), a.clone());
        let ell: Ell<T, I> = sellp.convert_to().unwrap();
        let hybrid: Hybrid<T, I> = ell.convert_to().unwrap();
        prop_assert_eq!(hybrid.to_csr().unwrap(), a.clone());
        // Checked construction accepts what the conversions produce.
        let (r, c, w, s, ci, v) = ell.into_parts();
        prop_assert!(Ell::try_from_parts(r, c, w, s, ci, v).is_ok());
        let (r, c, ss, sf, sl, st, ci, v) = sellp.into_parts();
        prop_assert!(Sellp::try_from_parts(r, c, ss, sf, sl, st, ci, v).is_ok());
    });
}

fn sellp_parameters_and_hybrid_strategies<T: TestScalar, I: TestIndex>() {
    let strategy = prop_oneof![
        (0..6usize).prop_map(HybridStrategy::ColumnLimit),
        (0.0..1.2f32).prop_map(HybridStrategy::ImbalanceLimit),
        (0.0..1.0f32, 0.0..0.5f32)
            .prop_map(|(percent, ratio)| HybridStrategy::ImbalanceBoundedLimit { percent, ratio }),
        Just(HybridStrategy::MinimalStorage),
        Just(HybridStrategy::Automatic),
    ];
    proptest!(ProptestConfig::with_cases(CASES), |((a, x, y0, alpha, beta) in arb_case::<T, I>(), slice_size in 1..140usize, stride_factor in 1..4usize, strategy in strategy, stride_pad in 0..3usize)| {
        let args = (alpha, x.as_slice(), beta, y0.as_slice());
        let s = Sellp::from_csr_with(a.view(), slice_size, stride_factor).unwrap();
        prop_assert!(s.slice_lengths().iter().all(|l| l % stride_factor == 0));
        check_format(&a, &s, args);
        check_format(&a, &Hybrid::from_csr_with(a.view(), strategy).unwrap(), args);
        check_format(&a, &Ell::from_csr_with_stride(a.view(), a.nrows() + stride_pad).unwrap(), args);
    });
}

test_all_types!(
    round_trip_and_spmv_every_format,
    sellp_parameters_and_hybrid_strategies
);

/// Larger generated matrices take the parallel paths (several pieces per format).
#[test]
fn parallel_paths_match_the_reference() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        for spec in ["random:150000:3000:4", "powerlaw:40k"] {
            let g: csr::generate::Generator = spec.parse().unwrap();
            let a: Csr<f64, i32> = g.build(7).unwrap();
            let x: Vec<f64> = (0..a.ncols()).map(|j| (j % 13) as f64 - 6.0).collect();
            let y0: Vec<f64> = (0..a.nrows()).map(|i| (i % 5) as f64).collect();
            let args = (2.0, x.as_slice(), -1.0, y0.as_slice());
            check_format(&a, &Coo::from(&a), args);
            check_format(&a, &Sellp::try_from(&a).unwrap(), args);
            check_format(&a, &Hybrid::try_from(&a).unwrap(), args);
            check_format(
                &a,
                &Hybrid::from_csr_with(a.view(), HybridStrategy::ColumnLimit(3)).unwrap(),
                args,
            );
            if spec.starts_with("random") {
                check_format(&a, &Ell::try_from(&a).unwrap(), args);
            }
        }
    });
}

/// Dense conversions of a matrix large enough to run in parallel pieces: duplicates summed
/// into one dense value, zeros (stored or summed to zero) dropped on the way back, strided
/// dense input read row by row.
#[test]
fn dense_conversions_in_parallel() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        let (n, m) = (700, 500);
        let mut d = csr::MatrixData::<f64, i32>::new(n, m).unwrap();
        for i in 0..n {
            for k in 0..7 {
                let j = (i * 31 + k * 97) % m;
                d.push(i, j, ((i + k) % 5) as f64 - 2.0).unwrap();
            }
            // A duplicate pair that cancels, and one that adds up.
            d.push(i, i % m, 1.5).unwrap();
            d.push(i, i % m, -1.5).unwrap();
        }
        let a = Csr::from_matrix_data(&d).unwrap();
        let naive = NaiveCsr::from_csr(&a).summed().without_zeros();
        let dense = a.to_dense().unwrap();
        let mut row_major = vec![0.0; n * m];
        for (r, c, v) in naive.triplets() {
            row_major[r * m + c] = v;
        }
        assert_eq!(dense.to_row_major_vec(), row_major);
        assert_eq!(Csr::<f64, i32>::from_dense(&dense).unwrap(), naive.to_csr());
        // The same rows with a stride of m + 3 (padding holds garbage that must not leak).
        let mut strided = vec![9.0; n * (m + 3)];
        for r in 0..n {
            strided[r * (m + 3)..][..m].copy_from_slice(&row_major[r * m..][..m]);
        }
        let sd = Dense::try_from_parts(n, m, m + 3, strided).unwrap();
        assert_eq!(Csr::<f64, i32>::from_dense(&sd).unwrap(), naive.to_csr());
        assert_eq!(
            Csr::<f64, i32>::try_from_dense_row_major(n, m, &row_major).unwrap(),
            naive.to_csr()
        );
    });
}

// ---------------------------------------------------------------------------------------
// Bad input: every check of every checked constructor
// ---------------------------------------------------------------------------------------

#[test]
fn coo_rejects_bad_parts() {
    type C = Coo<f64, i32>;
    assert_eq!(
        C::try_from_parts(1 << 40, 1, vec![], vec![], vec![]),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: 1 << 40,
            index_type: "i32",
            max: i32::MAX as usize
        })
    );
    assert_eq!(
        C::try_from_parts(2, 2, vec![0], vec![0, 1], vec![1.0]),
        Err(Error::TripletLength {
            rows: 1,
            cols: 2,
            values: 1
        })
    );
    assert_eq!(
        C::try_from_parts(2, 2, vec![0, 2], vec![0, 1], vec![1.0, 2.0]),
        Err(Error::EntryOutOfBounds {
            entry: 1,
            row: 2,
            col: 1,
            nrows: 2,
            ncols: 2
        })
    );
    assert_eq!(
        C::try_from_parts(2, 2, vec![0, 1], vec![0, -1], vec![1.0, 2.0]),
        Err(Error::EntryOutOfBounds {
            entry: 1,
            row: 1,
            col: -1,
            nrows: 2,
            ncols: 2
        })
    );
    assert_eq!(
        C::try_from_parts(3, 2, vec![0, 2, 1], vec![0, 0, 0], vec![1.0; 3]),
        Err(Error::UnsortedRows {
            pos: 2,
            row: 1,
            prev: 2
        })
    );
    // The first bad entry in storage order wins, also across parallel chunks.
    let n = 200_000;
    let mut rows: Vec<i32> = (0..n).map(|k| (k / 2) as i32).collect();
    rows[150_000] = 0;
    rows[190_000] = -3;
    assert_eq!(
        C::try_from_parts(n, 1, rows, vec![0; n], vec![1.0; n]),
        Err(Error::UnsortedRows {
            pos: 150_000,
            row: 0,
            prev: 74_999
        })
    );
}

#[test]
fn ell_rejects_bad_parts() {
    type E = Ell<f64, i32>;
    assert_eq!(
        E::try_from_parts(3, 2, 1, 2, vec![0, 0], vec![1.0; 2]),
        Err(Error::StrideTooSmall {
            format: "ell",
            stride: 2,
            what: "number of rows",
            min: 3
        })
    );
    assert_eq!(
        E::try_from_parts(2, 2, usize::MAX, 2, vec![], vec![]),
        Err(Error::SizeOverflow {
            what: "ell stride * width"
        })
    );
    assert_eq!(
        E::try_from_parts(2, 2, 1, 2, vec![0], vec![1.0; 2]),
        Err(Error::ArrayLength {
            format: "ell",
            array: "col_idxs",
            expected: 2,
            actual: 1
        })
    );
    assert_eq!(
        E::try_from_parts(2, 2, 1, 2, vec![0, 1], vec![1.0]),
        Err(Error::ArrayLength {
            format: "ell",
            array: "values",
            expected: 2,
            actual: 1
        })
    );
    // Slot 3 is row 1, k = 1 (column-major, stride 2).
    assert_eq!(
        E::try_from_parts(2, 2, 2, 2, vec![0, 1, -1, -2], vec![1.0, 1.0, 0.0, 1.0]),
        Err(Error::SlotOutOfBounds {
            format: "ell",
            row: 1,
            pos: 3,
            col: -2,
            ncols: 2
        })
    );
    assert_eq!(
        E::try_from_parts(2, 2, 2, 2, vec![0, 1, -1, 2], vec![1.0, 1.0, 0.0, 1.0]),
        Err(Error::SlotOutOfBounds {
            format: "ell",
            row: 1,
            pos: 3,
            col: 2,
            ncols: 2
        })
    );
    assert_eq!(
        E::try_from_parts(2, 2, 1, 2, vec![-1, 0], vec![3.0, 1.0]),
        Err(Error::NonZeroPadding {
            format: "ell",
            row: 0,
            pos: 0
        })
    );
    // Stride 3 over 2 rows: slot 2 belongs to the padding row 2.
    assert_eq!(
        E::try_from_parts(2, 2, 1, 3, vec![0, 1, 0], vec![1.0, 1.0, 0.0]),
        Err(Error::EntryPastLastRow {
            format: "ell",
            row: 2,
            pos: 2,
            nrows: 2
        })
    );
    assert!(E::try_from_parts(2, 2, 1, 3, vec![0, 1, -1], vec![1.0, 1.0, 0.0]).is_ok());
    assert_eq!(
        Ell::<f64, u32>::try_from_parts(1, 1, 1, 1, vec![u32::MAX - 1], vec![1.0]),
        Err(Error::SlotOutOfBounds {
            format: "ell",
            row: 0,
            pos: 0,
            col: i128::from(u32::MAX - 1),
            ncols: 1
        })
    );
    assert!(matches!(
        Ell::from_csr_with_stride(mtx::<f64, i32>().view(), 1),
        Err(Error::StrideTooSmall {
            stride: 1,
            min: 2,
            ..
        })
    ));
}

#[test]
fn sellp_rejects_bad_parts() {
    type S = Sellp<f64, i32>;
    let ok = || (vec![1usize], vec![0usize, 1], vec![0, 1], vec![1.0, 2.0]);
    let (l, s, c, v) = ok();
    assert!(S::try_from_parts(2, 2, 2, 1, l, s, c, v).is_ok());
    let (l, s, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 0, 1, l, s, c, v),
        Err(Error::ZeroParameter {
            format: "sellp",
            parameter: "slice_size"
        })
    );
    let (l, s, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 0, l, s, c, v),
        Err(Error::ZeroParameter {
            format: "sellp",
            parameter: "stride_factor"
        })
    );
    let (_, s, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, vec![1, 1], s, c, v),
        Err(Error::ArrayLength {
            format: "sellp",
            array: "slice_lengths",
            expected: 1,
            actual: 2
        })
    );
    let (l, _, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, l, vec![0], c, v),
        Err(Error::ArrayLength {
            format: "sellp",
            array: "slice_sets",
            expected: 2,
            actual: 1
        })
    );
    let (l, _, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, l, vec![1, 2], c, v),
        Err(Error::SliceSetsStart { first: 1 })
    );
    let (l, _, c, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, l, vec![0, 2], c, v),
        Err(Error::SliceSets {
            slice: 0,
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(
        S::try_from_parts(2, 2, 2, 2, vec![1], vec![0, 1], vec![0, 1], vec![1.0; 2]),
        Err(Error::SliceLength {
            slice: 0,
            length: 1,
            stride_factor: 2
        })
    );
    let (l, s, _, v) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, l, s, vec![0], v),
        Err(Error::ArrayLength {
            format: "sellp",
            array: "col_idxs",
            expected: 2,
            actual: 1
        })
    );
    let (l, s, c, _) = ok();
    assert_eq!(
        S::try_from_parts(2, 2, 2, 1, l, s, c, vec![]),
        Err(Error::ArrayLength {
            format: "sellp",
            array: "values",
            expected: 2,
            actual: 0
        })
    );
    // Two slices of 2 rows over 3 rows: slot layout [s0 k0: r0 r1][s1 k0: r2 r3].
    let parts = |cols: Vec<i32>, vals: Vec<f64>| {
        S::try_from_parts(3, 2, 2, 1, vec![1, 1], vec![0, 1, 2], cols, vals)
    };
    assert!(parts(vec![0, 1, 1, -1], vec![1.0, 1.0, 1.0, 0.0]).is_ok());
    assert_eq!(
        parts(vec![0, 1, 1, 0], vec![1.0; 4]),
        Err(Error::EntryPastLastRow {
            format: "sellp",
            row: 3,
            pos: 3,
            nrows: 3
        })
    );
    assert_eq!(
        parts(vec![0, 1, 5, -1], vec![1.0, 1.0, 1.0, 0.0]),
        Err(Error::SlotOutOfBounds {
            format: "sellp",
            row: 2,
            pos: 2,
            col: 5,
            ncols: 2
        })
    );
    assert_eq!(
        parts(vec![0, -1, 1, -1], vec![1.0, 2.0, 1.0, 0.0]),
        Err(Error::NonZeroPadding {
            format: "sellp",
            row: 1,
            pos: 1
        })
    );
    assert!(matches!(
        Sellp::from_csr_with(mtx::<f64, i32>().view(), 64, 0),
        Err(Error::ZeroParameter { .. })
    ));
}

#[test]
fn hybrid_and_dense_reject_bad_parts() {
    let ell = Ell::try_from(&mtx::<f64, i32>()).unwrap();
    let coo = Coo::from(&Csr::<f64, i32>::empty(3, 3).unwrap());
    assert_eq!(
        Hybrid::try_from_parts(ell.clone(), coo),
        Err(Error::DimensionMismatch {
            op: "hybrid",
            lhs: (2, 3),
            rhs: (3, 3)
        })
    );
    let coo = Coo::from(&Csr::<f64, i32>::empty(2, 3).unwrap());
    assert!(Hybrid::try_from_parts(ell, coo).is_ok());

    assert_eq!(
        Dense::try_from_parts(2, 3, 2, vec![0.0; 6]),
        Err(Error::StrideTooSmall {
            format: "dense",
            stride: 2,
            what: "number of columns",
            min: 3
        })
    );
    assert_eq!(
        Dense::try_from_parts(2, 3, 4, vec![0.0; 6]),
        Err(Error::ArrayLength {
            format: "dense",
            array: "values",
            expected: 8,
            actual: 6
        })
    );
    assert_eq!(
        Dense::<f64>::try_from_parts(usize::MAX, 3, 4, vec![]),
        Err(Error::SizeOverflow {
            what: "nrows * stride"
        })
    );
}

/// Storage too large to allocate is an error, not an abort.
#[test]
fn storage_too_large_is_an_error() {
    let a = mtx::<f64, i64>();
    assert_eq!(
        Ell::from_csr_with_stride(a.view(), usize::MAX / 2),
        Err(Error::SizeOverflow {
            what: "ell stride * width"
        })
    );
    assert_eq!(
        Ell::from_csr_with_stride(a.view(), 1 << 60),
        Err(Error::SizeOverflow {
            what: "ell storage"
        })
    );
    let wide = Csr::<f64, i64>::empty(1, 1 << 62).unwrap();
    assert!(matches!(
        <Dense<f64> as MatrixFormat<f64, i64>>::try_from_csr(wide.view()),
        Err(Error::SizeOverflow { .. })
    ));
}
