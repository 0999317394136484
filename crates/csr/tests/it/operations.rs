//! Structure and value operations: transpose/conj_transpose, sortedness, diagonal, abs,
//! scale, add_scaled_identity, submatrix. Ginkgo's behaviours (§6 items 17, 24–29) with
//! their exact values, typed errors, and properties against dense oracles on random
//! matrices (empty rows, unsorted rows, duplicates).

use csr::{Complex, Csr, Error, Scalar, Strategy as SpmvStrategy};
use csr_testkit::{TestIndex, TestScalar, arb_csr, idxs, test_all_types};
use proptest::prelude::*;

use crate::ops_support::{arb_perm, from_rows, lit, lit_rows, sorted, to_rows};

/// Ginkgo's `mtx` = [[1, 3, 2], [0, 5, 0]].
pub(crate) fn mtx<T: TestScalar, I: TestIndex>() -> Csr<T, I> {
    from_rows(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0]])
}

/// Ginkgo's `mtx3` = [[0, 2, 1], [3, 1, 8], [2, 0, 3]], stored with every row rotated left
/// once (`unsorted`) or sorted.
pub(crate) fn mtx3<T: TestScalar, I: TestIndex>(unsorted: bool) -> Csr<T, I> {
    let (cols, values) = if unsorted {
        (
            idxs(&[2, 1, 1, 2, 0, 2, 0]),
            [1.0, 2.0, 1.0, 8.0, 3.0, 3.0, 2.0],
        )
    } else {
        (
            idxs(&[1, 2, 0, 1, 2, 0, 2]),
            [2.0, 1.0, 3.0, 1.0, 8.0, 2.0, 3.0],
        )
    };
    let values = values.iter().map(|&x| lit(x)).collect();
    Csr::try_from_parts(3, 3, idxs(&[0, 2, 5, 7]), cols, values).unwrap()
}

/// Item 17: transposes of Ginkgo's rectangular and square matrices; conj_transpose
/// conjugates complex values.
fn transposes_give_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let t = mtx::<T, I>().transpose();
    assert_eq!(
        to_rows(&t),
        lit_rows::<T>(&[&[1.0, 0.0], &[3.0, 5.0], &[2.0, 0.0]])
    );
    let sq = from_rows::<T, I>(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0], &[0.0, 1.5, 2.0]]);
    assert_eq!(
        to_rows(&sq.transpose()),
        lit_rows::<T>(&[&[1.0, 0.0, 0.0], &[3.0, 5.0, 1.5], &[2.0, 0.0, 2.0]])
    );
    let i = T::from_re_im(0.0, 1.0);
    let mut a = mtx::<T, I>();
    a.values_mut().iter_mut().for_each(|v| *v = *v + i * *v);
    let h = a.conj_transpose();
    assert_eq!(h.view(), a.view().conj_transpose().view());
    for (r, c, v) in h.iter() {
        assert_eq!(v, Scalar::conj(to_rows(&a)[c][r]));
    }
    assert!(h.is_sorted_by_column_index());
    assert_eq!(h.conj_transpose(), a);
}

/// Item 24: sortedness of Ginkgo's mtx3, and sorting the unsorted copy gives the sorted one.
fn sorting_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let (s, u) = (mtx3::<T, I>(false), mtx3::<T, I>(true));
    assert!(s.is_sorted_by_column_index());
    assert!(!u.is_sorted_by_column_index());
    assert_eq!(sorted(&u), s);
    assert_eq!(sorted(&s), s);
}

/// Item 25: the diagonal of mtx3 is (0, 1, 3), sorted or not; rectangular and duplicate
/// cases; absent entries are zero.
fn extract_diagonal_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let expected: Vec<T> = vec![lit(0.0), lit(1.0), lit(3.0)];
    assert_eq!(mtx3::<T, I>(false).extract_diagonal(), expected);
    assert_eq!(mtx3::<T, I>(true).extract_diagonal(), expected);
    assert_eq!(
        mtx::<T, I>().extract_diagonal(),
        vec![lit::<T>(1.0), lit(5.0)]
    );
    assert_eq!(
        mtx::<T, I>().transpose().extract_diagonal(),
        vec![lit::<T>(1.0), lit(5.0)]
    );
    // Row 0 stores (0, 0) twice: the diagonal holds their sum, like to_dense.
    let dup = Csr::<T, I>::try_from_parts(
        2,
        2,
        idxs(&[0, 2, 2]),
        idxs(&[0, 0]),
        vec![lit(2.0), lit(3.0)],
    )
    .unwrap();
    assert_eq!(dup.extract_diagonal(), vec![lit::<T>(5.0), lit(0.0)]);
    assert_eq!(
        Csr::<T, I>::empty(0, 4).unwrap().extract_diagonal(),
        Vec::<T>::new()
    );
}

/// Item 26: absolute values, out of place (real result) and in place.
fn abs_gives_moduli<T: TestScalar, I: TestIndex>() {
    let mut a = mtx3::<T, I>(true);
    let z = T::from_re_im(3.0, -4.0);
    a.values_mut()[0] = -a.values_mut()[0];
    a.values_mut()[1] = z;
    let m: Csr<T::Real, I> = a.abs();
    assert_eq!(m.row_ptrs(), a.row_ptrs());
    assert_eq!(m.col_idxs(), a.col_idxs());
    let expected_1 = if T::IS_COMPLEX { 5.0 } else { 3.0 };
    let expected: Vec<T::Real> = [1.0, expected_1, 1.0, 8.0, 3.0, 3.0, 2.0]
        .iter()
        .map(|&x| lit(x))
        .collect();
    assert_eq!(m.values(), &expected[..]);
    let mut b = a.clone();
    b.abs_in_place();
    let lifted: Vec<T> = expected.iter().map(|&x| T::from_real(x)).collect();
    assert_eq!(b.values(), &lifted[..]);
    assert_eq!(a.view().abs(), m);
    // Out of place keeps the SpMV strategy, as Ginkgo keeps the strategy name.
    let lb = a.clone().with_strategy(SpmvStrategy::LoadBalance);
    assert_eq!(lb.abs().strategy(), SpmvStrategy::LoadBalance);
    assert_eq!(
        lb.submatrix(0..2, 0..2).unwrap().strategy(),
        SpmvStrategy::LoadBalance
    );
}

/// Item 27: scale and inv_scale touch every stored value, explicit zeros included.
fn scale_and_inv_scale<T: TestScalar, I: TestIndex>() {
    let mut a = Csr::<T, I>::try_from_parts(
        2,
        3,
        idxs(&[0, 3, 5]),
        idxs(&[0, 1, 2, 0, 1]),
        [1.0, 3.0, 2.0, 0.0, 5.0].map(lit).to_vec(),
    )
    .unwrap();
    let before = a.clone();
    a.scale(lit(2.0));
    assert_eq!(
        to_rows(&a),
        lit_rows::<T>(&[&[2.0, 6.0, 4.0], &[0.0, 10.0, 0.0]])
    );
    assert_eq!(a.nnz(), 5);
    a.inv_scale(lit(2.0));
    assert_eq!(a, before);
    if T::IS_COMPLEX {
        let i = T::from_re_im(0.0, 1.0);
        a.scale(i);
        assert_eq!(to_rows(&a)[1][1], T::from_re_im(0.0, 5.0));
        a.inv_scale(i);
        assert_eq!(a, before);
    }
}

/// Item 28: add_scaled_identity(2, -1) on Ginkgo's 3x2 matrix; a missing diagonal entry is
/// a typed error and leaves the matrix unchanged; the presence check.
fn add_scaled_identity_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    // [[2, 0], [1, 2.5], [0, -4]] with the (0, 1) zero stored explicitly.
    let mut a = Csr::<T, I>::try_from_parts(
        3,
        2,
        idxs(&[0, 2, 4, 5]),
        idxs(&[0, 1, 1, 0, 1]),
        vec![lit(2.0), lit(0.0), lit(2.5), lit(1.0), lit(-4.0)],
    )
    .unwrap();
    assert!(a.has_full_diagonal());
    a.add_scaled_identity(lit(2.0), lit(-1.0)).unwrap();
    assert_eq!(
        to_rows(&a),
        lit_rows::<T>(&[&[0.0, 0.0], &[-1.0, -0.5], &[0.0, 4.0]])
    );
    assert_eq!(a.nnz(), 5);

    let mut missing = mtx3::<T, I>(true);
    assert!(!missing.has_full_diagonal());
    assert_eq!(missing.first_missing_diagonal(), Some(0));
    let before = missing.clone();
    assert_eq!(
        missing.add_scaled_identity(lit(1.0), lit(2.0)),
        Err(Error::MissingDiagonal {
            op: "add_scaled_identity",
            row: 0
        })
    );
    assert_eq!(missing, before);
    let wide = from_rows::<T, I>(4, &[&[1.0, 0.0, 0.0, 9.0], &[0.0, 0.0, 2.0, 0.0]]);
    assert_eq!(wide.first_missing_diagonal(), Some(1));
    assert_eq!(
        wide.clone()
            .add_scaled_identity(lit(1.0), lit(1.0))
            .unwrap_err()
            .to_string(),
        "add_scaled_identity: row 1 stores no diagonal entry"
    );
    assert!(Csr::<T, I>::empty(3, 0).unwrap().has_full_diagonal());
}

/// Ginkgo's 7x5 matrix of the index-set submatrix tests.
fn mat7x5<T: TestScalar, I: TestIndex>() -> Csr<T, I> {
    from_rows(
        5,
        &[
            &[1.0, 3.0, 4.5, 0.0, 2.0],
            &[1.0, 0.0, 4.5, 7.5, 3.0],
            &[0.0, 3.0, 4.5, 0.0, 2.0],
            &[0.0, -1.0, 2.5, 0.0, 2.0],
            &[1.0, 0.0, -1.0, 3.5, 1.0],
            &[0.0, 1.0, 0.0, 0.0, 2.0],
            &[0.0, 3.0, 0.0, 7.5, 1.0],
        ],
    )
}

/// Row list, column list, expected dense rows.
type SubmatrixCase = (
    &'static [usize],
    &'static [usize],
    &'static [&'static [f64]],
);

/// Item 29: submatrices by span and by index set with Ginkgo's values (its sets are sorted;
/// our lists keep their order, shown with an unsorted one).
fn submatrix_gives_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let s = mtx::<T, I>().submatrix(0..2, 0..2).unwrap();
    assert_eq!(to_rows(&s), lit_rows::<T>(&[&[1.0, 3.0], &[0.0, 5.0]]));
    let m = mat7x5::<T, I>();
    assert_eq!(m.nnz(), 23);
    let empty = m.submatrix_by_indices(&[], &[]).unwrap();
    assert_eq!((empty.shape(), empty.nnz()), ((0, 0), 0));
    let one_empty = m.submatrix_by_indices(&[], &[0]).unwrap();
    assert_eq!((one_empty.shape(), one_empty.nnz()), ((0, 1), 0));
    assert_eq!(
        m.submatrix_by_indices(&[0, 1, 2, 3, 4, 5, 6], &[0, 1, 2, 3, 4])
            .unwrap(),
        m
    );
    let cases: [SubmatrixCase; 5] = [
        (&[0, 1], &[0, 1], &[&[1.0, 3.0], &[1.0, 0.0]]),
        (
            &[1, 2, 3, 4],
            &[1, 3],
            &[&[0.0, 7.5], &[3.0, 0.0], &[-1.0, 0.0], &[0.0, 3.5]],
        ),
        (
            &[1, 3, 4],
            &[0, 1, 3],
            &[&[1.0, 0.0, 7.5], &[0.0, -1.0, 0.0], &[1.0, 0.0, 3.5]],
        ),
        (
            &[1, 4, 5, 6],
            &[0, 1, 3, 4],
            &[
                &[1.0, 0.0, 7.5, 3.0],
                &[1.0, 0.0, 3.5, 1.0],
                &[0.0, 1.0, 0.0, 2.0],
                &[0.0, 3.0, 7.5, 1.0],
            ],
        ),
        (
            &[5, 6],
            &[0, 1, 3, 4],
            &[&[0.0, 1.0, 0.0, 2.0], &[0.0, 3.0, 7.5, 1.0]],
        ),
    ];
    for (rows, cols, expected) in cases {
        let sub = m.submatrix_by_indices(rows, cols).unwrap();
        assert_eq!(
            to_rows(&sub),
            lit_rows::<T>(expected),
            "{rows:?} x {cols:?}"
        );
        assert!(sub.is_sorted_by_column_index());
    }
    // An unsorted list: the result's columns follow the list, rows stay sorted.
    let sub = m.submatrix_by_indices(&[4, 1], &[3, 0]).unwrap();
    assert_eq!(to_rows(&sub), lit_rows::<T>(&[&[3.5, 1.0], &[7.5, 1.0]]));
    assert!(sub.is_sorted_by_column_index());
}

/// Bad ranges and index sets are typed errors naming the list and position.
fn submatrix_errors<T: TestScalar, I: TestIndex>() {
    let m = mat7x5::<T, I>();
    assert_eq!(
        m.submatrix(0..8, 0..1),
        Err(Error::RangeOutOfBounds {
            what: "row",
            start: 0,
            end: 8,
            len: 7
        })
    );
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = m.submatrix(0..1, 3..2);
    assert_eq!(
        reversed,
        Err(Error::RangeOutOfBounds {
            what: "column",
            start: 3,
            end: 2,
            len: 5
        })
    );
    assert_eq!(
        m.submatrix_by_indices(&[0, 7], &[0]),
        Err(Error::IndexOutOfRange {
            what: "row index set",
            pos: 1,
            index: 7,
            len: 7
        })
    );
    assert_eq!(
        m.submatrix_by_indices(&[0], &[4, 1, 4]),
        Err(Error::RepeatedIndex {
            what: "column index set",
            pos: 2,
            index: 4,
            first: 0
        })
    );
    assert_eq!(
        m.submatrix_by_indices(&[2, 2], &[]),
        Err(Error::RepeatedIndex {
            what: "row index set",
            pos: 1,
            index: 2,
            first: 0
        })
    );
    assert_eq!(m.submatrix(7..7, 5..5).unwrap().shape(), (0, 0));
}

test_all_types!(
    transposes_give_ginkgo_values,
    sorting_gives_ginkgo_values,
    extract_diagonal_gives_ginkgo_values,
    abs_gives_moduli,
    scale_and_inv_scale,
    add_scaled_identity_gives_ginkgo_values,
    submatrix_gives_ginkgo_values,
    submatrix_errors,
);

#[test]
fn conj_transpose_of_complex_ginkgo_matrix() {
    // [[1+1i, 0], [2-3i, 4i]]: the conjugate transpose is [[1-1i, 2+3i], [0, -4i]].
    let a = Csr::<Complex<f64>, i64>::try_from_parts(
        2,
        2,
        vec![0, 1, 3],
        vec![0, 1, 0],
        vec![
            Complex::new(1.0, 1.0),
            Complex::new(0.0, 4.0),
            Complex::new(2.0, -3.0),
        ],
    )
    .unwrap();
    let h = a.conj_transpose();
    assert_eq!(
        h.iter().collect::<Vec<_>>(),
        vec![
            (0, 0, Complex::new(1.0, -1.0)),
            (0, 1, Complex::new(2.0, 3.0)),
            (1, 1, Complex::new(0.0, -4.0))
        ]
    );
    let real = Csr::<f32, i32>::try_from_parts(1, 2, vec![0, 1], vec![1], vec![2.0]).unwrap();
    assert_eq!(real.conj_transpose(), real.transpose());
}

/// Random matrices (unsorted rows, duplicates, empty rows): submatrices by range and by
/// random index lists equal dense slicing; the diagonal, abs, scale and
/// add_scaled_identity equal their dense counterparts.
fn operation_properties<T: TestScalar, I: TestIndex>() {
    let strategy = arb_csr::<T, I>(9, 9, 50).prop_flat_map(|a| {
        let (nr, nc) = a.shape();
        (
            Just(a),
            (0..=nr, 0..=nr),
            (0..=nc, 0..=nc),
            arb_perm(nr),
            arb_perm(nc),
            (0..=nr, 0..=nc),
        )
    });
    proptest!(ProptestConfig::with_cases(64), |((a, (r0, r1), (c0, c1), pr, pc, (kr, kc)) in strategy)| {
        let d = to_rows(&a);
        let (r0, r1, c0, c1) = (r0.min(r1), r0.max(r1), c0.min(c1), c0.max(c1));
        let s = a.submatrix(r0..r1, c0..c1).unwrap();
        prop_assert_eq!(s.shape(), (r1 - r0, c1 - c0));
        prop_assert!(s.is_sorted_by_column_index());
        let expected: Vec<Vec<T>> = d[r0..r1].iter().map(|row| row[c0..c1].to_vec()).collect();
        prop_assert_eq!(to_rows(&s), expected);

        let (rows, cols) = (&pr[..kr], &pc[..kc]);
        let s = a.submatrix_by_indices(rows, cols).unwrap();
        prop_assert_eq!(s.shape(), (rows.len(), cols.len()));
        prop_assert!(s.is_sorted_by_column_index());
        let expected: Vec<Vec<T>> = rows.iter().map(|&r| cols.iter().map(|&c| d[r][c]).collect()).collect();
        prop_assert_eq!(to_rows(&s), expected);
        // Entries are kept, not summed: nnz counts stored entries in the selection.
        let kept = a.iter().filter(|&(r, c, _)| rows.contains(&r) && cols.contains(&c)).count();
        prop_assert_eq!(s.nnz(), kept);

        let n = a.nrows().min(a.ncols());
        let diag: Vec<T> = (0..n).map(|i| d[i][i]).collect();
        prop_assert_eq!(a.extract_diagonal(), diag);

        let m = a.abs();
        prop_assert_eq!(m.col_idxs(), a.col_idxs());
        for (x, y) in m.values().iter().zip(a.values()) {
            prop_assert_eq!(*x, y.abs());
        }
        let mut scaled = a.clone();
        scaled.scale(lit(-3.0));
        let expected: Vec<Vec<T>> = d.iter().map(|row| row.iter().map(|&v| v * lit(-3.0)).collect()).collect();
        prop_assert_eq!(to_rows(&scaled), expected);

        let mut b = a.clone();
        let result = b.add_scaled_identity(lit(2.0), lit(-1.0));
        match (0..n).find(|&r| !a.row(r).0.iter().any(|c| c.to_usize() == r)) {
            Some(row) => {
                prop_assert_eq!(result, Err(Error::MissingDiagonal { op: "add_scaled_identity", row }));
                prop_assert_eq!(&b, &a);
            }
            None => {
                prop_assert!(result.is_ok() && a.has_full_diagonal());
                // With duplicates on the diagonal, alpha goes to one of them: the dense
                // result is alpha·I + beta·A either way.
                let expected: Vec<Vec<T>> = d.iter().enumerate().map(|(r, row)| {
                    row.iter().enumerate().map(|(c, &v)| {
                        let id = if r == c { lit(2.0) } else { T::zero() };
                        id + v * lit(-1.0)
                    }).collect()
                }).collect();
                prop_assert_eq!(to_rows(&b), expected);
            }
        }
    });
}

test_all_types!(operation_properties);
