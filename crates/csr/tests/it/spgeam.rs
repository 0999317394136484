//! SpGEAM (`scale_add`) and `multiply_add`: Ginkgo's behaviours (§6 items 6–10) with their
//! exact values, typed errors, and properties against a dense oracle on random matrices
//! (empty rows, unsorted rows, duplicates, explicit zeros).

use std::collections::BTreeSet;

use csr::kernel::{self, Kernel};
use csr::{Csr, Error};
use csr_testkit::{TestIndex, TestScalar, arb_csr, idxs, test_all_types};
use proptest::prelude::*;

use crate::operations::{mtx, mtx3};
use crate::ops_support::{arb_csr_shaped, from_rows, lit, lit_rows, to_rows};

/// Ginkgo's `mtx2`: `mtx` plus an explicit zero at (1, 0).
fn mtx2<T: TestScalar, I: TestIndex>() -> Csr<T, I> {
    let values = [1.0, 3.0, 2.0, 0.0, 5.0].map(lit).to_vec();
    Csr::try_from_parts(2, 3, idxs(&[0, 3, 5]), idxs(&[0, 1, 2, 0, 1]), values).unwrap()
}

/// Item 6: mtx·mtx3_unsorted = [[13, 5, 31], [15, 5, 40]], 6 entries, sorted, through every
/// available kernel.
fn spgemm_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let (a, b) = (mtx::<T, I>(), mtx3::<T, I>(true));
    for info in kernel::available_kernels() {
        if info.unavailable.is_some() {
            continue;
        }
        let k: &dyn Kernel<T, I> = kernel::get_kernel(info.id.name()).unwrap();
        let (ha, hb) = (
            k.to_handle(a.view()).unwrap(),
            k.to_handle(b.view()).unwrap(),
        );
        let c = k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap();
        assert_eq!(c.nnz(), 6, "{}", k.name());
        assert!(c.is_sorted_by_column_index(), "{}", k.name());
        assert_eq!(
            to_rows(&c),
            lit_rows::<T>(&[&[13.0, 5.0, 31.0], &[15.0, 5.0, 40.0]])
        );
    }
}

/// Item 7 (and 9): advanced SpGEMM -1·mtx·mtx3 + 2·mtx2 (mtx2's explicit zero merges), and
/// Ginkgo's zero-alpha / zero-beta cases.
fn multiply_add_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let (a, b, d) = (mtx::<T, I>(), mtx3::<T, I>(true), mtx2::<T, I>());
    let c = a.multiply_add(lit(-1.0), &b, lit(2.0), &d).unwrap();
    assert_eq!((c.nnz(), c.row_ptrs()), (6, &idxs::<I>(&[0, 3, 6])[..]));
    assert!(c.is_sorted_by_column_index());
    assert_eq!(
        to_rows(&c),
        lit_rows::<T>(&[&[-11.0, 1.0, -27.0], &[-15.0, 5.0, -40.0]])
    );
    // alpha = 0: the product is skipped, the result is 2·mtx2 with its explicit zero.
    let c = a.multiply_add(lit(0.0), &b, lit(2.0), &d).unwrap();
    assert_eq!(c.nnz(), 5);
    assert_eq!(
        to_rows(&c),
        lit_rows::<T>(&[&[2.0, 6.0, 4.0], &[0.0, 10.0, 0.0]])
    );
    // beta = 0: D is ignored.
    let c = a.multiply_add(lit(-1.0), &b, lit(0.0), &d).unwrap();
    assert_eq!(c.nnz(), 6);
    assert_eq!(
        to_rows(&c),
        lit_rows::<T>(&[&[-13.0, -5.0, -31.0], &[-15.0, -5.0, -40.0]])
    );
    // Both zero: no entries.
    let c = a.multiply_add(lit(0.0), &b, lit(0.0), &d).unwrap();
    assert_eq!((c.shape(), c.nnz()), ((2, 3), 0));
    // beta = 0 does not let NaN in D leak.
    let mut nan_d = d.clone();
    nan_d.values_mut()[0] = lit(f64::NAN);
    let c = a.multiply_add(lit(-1.0), &b, lit(0.0), &nan_d).unwrap();
    assert_eq!(to_rows(&c)[0][0], lit(-13.0));
    // Multiplying by a matrix with no entries gives an empty, sorted product (item 9).
    let zero = Csr::<T, I>::empty(3, 3).unwrap();
    let empty_d = Csr::<T, I>::empty(2, 3).unwrap();
    let c = a.multiply_add(lit(1.0), &zero, lit(1.0), &empty_d).unwrap();
    assert_eq!((c.shape(), c.nnz()), ((2, 3), 0));
}

/// Item 8: -3·A + 2·B on Ginkgo's 7x3 matrices: exact values, union pattern, sorted rows,
/// the all-zero rows stay empty.
fn scale_add_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let a = from_rows::<T, I>(
        3,
        &[
            &[2.0, 0.0, 3.0],
            &[0.0, 1.0, -1.5],
            &[0.0, -2.0, 0.0],
            &[5.0, 0.0, 0.0],
            &[1.0, 0.0, 4.0],
            &[2.0, -2.0, 0.0],
            &[0.0, 0.0, 0.0],
        ],
    );
    let b = from_rows::<T, I>(
        3,
        &[
            &[2.0, -2.0, 0.0],
            &[1.0, 0.0, 4.0],
            &[2.0, 0.0, 3.0],
            &[0.0, 1.0, -1.5],
            &[1.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0],
        ],
    );
    let expected = from_rows::<T, I>(
        3,
        &[
            &[-2.0, -4.0, -9.0],
            &[2.0, -3.0, 12.5],
            &[4.0, 6.0, 6.0],
            &[-15.0, 2.0, -3.0],
            &[-1.0, 0.0, -12.0],
            &[-6.0, 6.0, 0.0],
            &[0.0, 0.0, 0.0],
        ],
    );
    let c = a.scale_add(lit(-3.0), lit(2.0), &b).unwrap();
    assert_eq!(c, expected);
    assert_eq!(
        c.view(),
        a.view()
            .scale_add(lit(-3.0), lit(2.0), b.view())
            .unwrap()
            .view()
    );
    // Same result with every row of both inputs stored in reverse order.
    let (ra, rb) = (reversed_rows(&a), reversed_rows(&b));
    assert!(!ra.is_sorted_by_column_index() && !rb.is_sorted_by_column_index());
    assert_eq!(ra.scale_add(lit(-3.0), lit(2.0), &rb).unwrap(), expected);
    // Cancellation keeps an explicit zero (item 8's "union pattern").
    let z = a.scale_add(lit(1.0), lit(-1.0), &a).unwrap();
    assert_eq!(z.row_ptrs(), a.row_ptrs());
    assert!(z.values().iter().all(|v| *v == lit::<T>(0.0)));
}

/// `a` with each row's entries in reverse storage order.
fn reversed_rows<T: TestScalar, I: TestIndex>(a: &Csr<T, I>) -> Csr<T, I> {
    let (nr, nc, ptrs, mut cols, mut vals) = a.clone().into_parts();
    for w in ptrs.windows(2) {
        let r = w[0].to_usize()..w[1].to_usize();
        cols[r.clone()].reverse();
        vals[r].reverse();
    }
    Csr::try_from_parts(nr, nc, ptrs, cols, vals).unwrap()
}

/// Items 9–10: shape errors name both shapes; empty operands work.
fn spgeam_shape_errors_and_empty_operands<T: TestScalar, I: TestIndex>() {
    let (a, b3) = (mtx::<T, I>(), mtx3::<T, I>(false));
    assert_eq!(
        a.scale_add(lit(1.0), lit(1.0), &b3),
        Err(Error::DimensionMismatch {
            op: "scale_add",
            lhs: (2, 3),
            rhs: (3, 3)
        })
    );
    assert_eq!(
        a.multiply_add(lit(1.0), &a, lit(1.0), &a),
        Err(Error::DimensionMismatch {
            op: "multiply_add",
            lhs: (2, 3),
            rhs: (2, 3)
        })
    );
    assert_eq!(
        a.multiply_add(lit(1.0), &b3, lit(1.0), &b3),
        Err(Error::DimensionMismatch {
            op: "multiply_add",
            lhs: (2, 3),
            rhs: (3, 3)
        })
    );
    let e = Csr::<T, I>::empty(0, 0).unwrap();
    assert_eq!(e.scale_add(lit(2.0), lit(3.0), &e).unwrap(), e);
    let e = Csr::<T, I>::empty(4, 2).unwrap();
    assert_eq!(e.scale_add(lit(2.0), lit(3.0), &e).unwrap(), e);
}

test_all_types!(
    spgemm_gives_ginkgo_values,
    multiply_add_gives_ginkgo_values,
    scale_add_gives_ginkgo_values,
    spgeam_shape_errors_and_empty_operands,
);

/// The set of stored coordinates.
fn pattern<T: TestScalar, I: TestIndex>(a: &Csr<T, I>) -> BTreeSet<(usize, usize)> {
    a.iter().map(|(r, c, _)| (r, c)).collect()
}

/// Random matrices (unsorted rows, duplicates, explicit zeros, empty rows): `scale_add`
/// equals the dense `α·A + β·B`, its pattern is the union of the inputs' patterns, its rows
/// are sorted without duplicates, and sorting the inputs first changes nothing; likewise
/// `multiply_add` equals the dense `α·A·B + β·D`.
fn spgeam_properties<T: TestScalar, I: TestIndex>() {
    let strategy = arb_csr::<T, I>(9, 9, 50).prop_flat_map(|a| {
        let (nr, nc) = a.shape();
        let same =
            arb_csr::<T, I>(nr, nc, 50).prop_filter("same shape", move |b| b.shape() == (nr, nc));
        let inner = 0..=6usize;
        (Just(a), same, inner, -3_i8..=3, -3_i8..=3)
    });
    let strategy = strategy.prop_flat_map(|(a, b, k, alpha, beta)| {
        let (nr, nc) = a.shape();
        let left = arb_csr_shaped::<T, I>(nr, k, 4);
        let right = arb_csr_shaped::<T, I>(k, nc, 4);
        (Just((a, b, alpha, beta)), left, right)
    });
    proptest!(ProptestConfig::with_cases(48), |(((a, b, alpha, beta), l, r) in strategy)| {
        let (alpha, beta) = (lit::<T>(f64::from(alpha)), lit::<T>(f64::from(beta)));
        let c = a.scale_add(alpha, beta, &b).unwrap();
        let (da, db) = (to_rows(&a), to_rows(&b));
        let expected: Vec<Vec<T>> = da.iter().zip(&db).map(|(x, y)| {
            x.iter().zip(y).map(|(&x, &y)| alpha * x + beta * y).collect()
        }).collect();
        prop_assert_eq!(to_rows(&c), expected);
        prop_assert!(c.is_sorted_by_column_index() && !c.has_duplicates());
        let union: BTreeSet<_> = pattern(&a).union(&pattern(&b)).copied().collect();
        prop_assert_eq!(pattern(&c), union);
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_by_column_index();
        sb.sort_by_column_index();
        prop_assert_eq!(&sa.scale_add(alpha, beta, &sb).unwrap(), &c);

        // α·L·R + β·A against the dense product.
        let m = l.multiply_add(alpha, &r, beta, &a).unwrap();
        prop_assert!(m.is_sorted_by_column_index() && !m.has_duplicates());
        let (dl, dr) = (to_rows(&l), to_rows(&r));
        let expected: Vec<Vec<T>> = (0..a.nrows()).map(|i| (0..a.ncols()).map(|j| {
            let prod = (0..l.ncols()).fold(T::zero(), |s, k| s + dl[i][k] * dr[k][j]);
            let d = if beta == T::zero() { T::zero() } else { beta * da[i][j] };
            alpha * prod + d
        }).collect()).collect();
        prop_assert_eq!(to_rows(&m), expected);
    });
}

test_all_types!(spgeam_properties);
