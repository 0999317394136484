//! Permutations: Ginkgo's behaviours (§6 items 18–23) with their exact values, typed errors
//! for bad permutations and shapes, and properties against a dense oracle on random
//! matrices (empty rows, unsorted rows, duplicates).

use csr::{
    Csr, Error, Permutation, PermuteMode, Scalar, ScaledPermutation, Strategy as SpmvStrategy,
};
use csr_testkit::{NaiveCsr, TestIndex, TestScalar, arb_csr, is_close, test_all_types, tolerance};
use proptest::prelude::*;

use crate::ops_support::{arb_perm, as_idx, from_rows, lit, lit_rows, sorted, to_rows};

/// The 3x3 matrix of Ginkgo's permutation tests.
fn square<T: TestScalar, I: TestIndex>() -> Csr<T, I> {
    from_rows(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0], &[0.0, 1.5, 2.0]])
}

fn perm<I: TestIndex>(p: &[usize]) -> Permutation<I> {
    Permutation::try_new(as_idx(p)).unwrap()
}

/// The dense oracle of every mode, with optional scaling factors `s`: forward modes multiply
/// by the factors of the source row/column, inverse modes divide by the destination's.
fn dense_permute<T: Scalar>(d: &[Vec<T>], p: &[usize], s: &[T], mode: PermuteMode) -> Vec<Vec<T>> {
    use PermuteMode as M;
    let mut out = d.to_vec();
    for (i, row) in d.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            match mode {
                M::None => {}
                M::Rows => out[i][j] = s[p[i]] * d[p[i]][j],
                M::Columns => out[i][j] = s[p[j]] * d[i][p[j]],
                M::Symmetric => out[i][j] = s[p[i]] * s[p[j]] * d[p[i]][p[j]],
                M::InverseRows => out[p[i]][j] = v / s[p[i]],
                M::InverseColumns => out[i][p[j]] = v / s[p[j]],
                M::InverseSymmetric => out[p[i]][p[j]] = v / (s[p[i]] * s[p[j]]),
            }
        }
    }
    out
}

/// The dense oracle of the (row, column) form.
fn dense_permute_rc<T: Scalar>(
    d: &[Vec<T>],
    (rp, rs): (&[usize], &[T]),
    (cp, cs): (&[usize], &[T]),
    invert: bool,
) -> Vec<Vec<T>> {
    let mut out = d.to_vec();
    for (i, row) in d.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if invert {
                out[rp[i]][cp[j]] = v / (rs[rp[i]] * cs[cp[j]]);
            } else {
                out[i][j] = rs[rp[i]] * cs[cp[j]] * d[rp[i]][cp[j]];
            }
        }
    }
    out
}

#[track_caller]
fn assert_rows_close<T: TestScalar>(actual: &[Vec<T>], expected: &[Vec<T>]) {
    assert_eq!(actual.len(), expected.len(), "row counts differ");
    for (r, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a.len(), e.len());
        for (c, (&x, &y)) in a.iter().zip(e).enumerate() {
            assert!(is_close(x, y, 2), "({r}, {c}): {x:?} vs {y:?}");
        }
    }
}

/// Items 18/23: each legacy operation (row_permute, column_permute, inverse_*) on Ginkgo's
/// square matrix, with p = [1, 2, 0], gives Ginkgo's exact values; every mode equals the
/// dense oracle and is sorted.
fn square_modes_give_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let a = square::<T, I>();
    let p = perm::<I>(&[1, 2, 0]);
    let cases: [(PermuteMode, [[f64; 3]; 3]); 4] = [
        (
            PermuteMode::Rows,
            [[0.0, 5.0, 0.0], [0.0, 1.5, 2.0], [1.0, 3.0, 2.0]],
        ),
        (
            PermuteMode::Columns,
            [[3.0, 2.0, 1.0], [5.0, 0.0, 0.0], [1.5, 2.0, 0.0]],
        ),
        (
            PermuteMode::InverseRows,
            [[0.0, 1.5, 2.0], [1.0, 3.0, 2.0], [0.0, 5.0, 0.0]],
        ),
        (
            PermuteMode::InverseColumns,
            [[2.0, 1.0, 3.0], [0.0, 0.0, 5.0], [2.0, 0.0, 1.5]],
        ),
    ];
    for (mode, expected) in cases {
        let b = a.permute(&p, mode).unwrap();
        let rows: Vec<&[f64]> = expected.iter().map(|r| &r[..]).collect();
        assert_eq!(to_rows(&b), lit_rows::<T>(&rows), "{mode:?}");
        assert_eq!(b.nnz(), a.nnz());
        assert!(b.is_sorted_by_column_index(), "{mode:?}");
    }
    let ones = vec![T::one(); 3];
    for mode in PermuteMode::ALL {
        let b = a.permute(&p, mode).unwrap();
        assert_eq!(
            to_rows(&b),
            dense_permute(&to_rows(&a), &[1, 2, 0], &ones, mode)
        );
        assert!(b.is_sorted_by_column_index(), "{mode:?}");
        let lb = a.clone().with_strategy(SpmvStrategy::MergePath);
        assert_eq!(
            lb.permute(&p, mode).unwrap().strategy(),
            SpmvStrategy::MergePath
        );
        // Item 20: the inverse mode restores the (sorted) matrix.
        assert_eq!(b.permute(&p, mode.inverse()).unwrap(), a, "{mode:?}");
    }
}

/// Item 19/23: rectangular row and column permutes with Ginkgo's values.
fn rectangular_permutes_give_ginkgo_values<T: TestScalar, I: TestIndex>() {
    let a = from_rows::<T, I>(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0]]);
    let p2 = perm::<I>(&[1, 0]);
    let p3 = perm::<I>(&[1, 2, 0]);
    let row = a.permute(&p2, PermuteMode::Rows).unwrap();
    assert_eq!(
        to_rows(&row),
        lit_rows::<T>(&[&[0.0, 5.0, 0.0], &[1.0, 3.0, 2.0]])
    );
    let inv_row = a.permute(&p2, PermuteMode::InverseRows).unwrap();
    assert_eq!(
        to_rows(&inv_row),
        lit_rows::<T>(&[&[0.0, 5.0, 0.0], &[1.0, 3.0, 2.0]])
    );
    let inv_col = a.permute(&p3, PermuteMode::InverseColumns).unwrap();
    assert_eq!(
        to_rows(&inv_col),
        lit_rows::<T>(&[&[2.0, 1.0, 3.0], &[0.0, 0.0, 5.0]])
    );
    let b = from_rows::<T, I>(3, &[&[1.0, 0.0, 2.0], &[0.0, 5.0, 0.0]]);
    let col = b.permute(&p3, PermuteMode::Columns).unwrap();
    assert_eq!(
        to_rows(&col),
        lit_rows::<T>(&[&[0.0, 2.0, 1.0], &[5.0, 0.0, 0.0]])
    );
    assert!(col.is_sorted_by_column_index() && inv_col.is_sorted_by_column_index());
}

/// Item 19: symmetric modes need a square matrix; a permutation of the wrong size is a
/// typed error naming both lengths.
fn permute_shape_errors<T: TestScalar, I: TestIndex>() {
    let a = from_rows::<T, I>(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0]]);
    let p2 = perm::<I>(&[1, 0]);
    let p3 = perm::<I>(&[1, 2, 0]);
    for mode in [PermuteMode::Symmetric, PermuteMode::InverseSymmetric] {
        assert_eq!(
            a.permute(&p2, mode),
            Err(Error::NotSquare {
                op: "symmetric permute",
                nrows: 2,
                ncols: 3
            })
        );
    }
    let mismatch = |expected, actual| Error::LengthMismatch {
        op: "permute",
        what: "permutation",
        expected,
        actual,
    };
    assert_eq!(a.permute(&p3, PermuteMode::Rows), Err(mismatch(2, 3)));
    assert_eq!(
        a.permute(&p2, PermuteMode::InverseColumns),
        Err(mismatch(3, 2))
    );
    assert_eq!(
        a.permute_rows_cols(&p3, &p3, false),
        Err(Error::LengthMismatch {
            op: "permute_rows_cols",
            what: "row permutation",
            expected: 2,
            actual: 3
        })
    );
    assert_eq!(
        a.permute_rows_cols(&p2, &p2, true),
        Err(Error::LengthMismatch {
            op: "permute_rows_cols",
            what: "column permutation",
            expected: 3,
            actual: 2
        })
    );
    let sp = ScaledPermutation::try_new(p3.clone(), vec![T::one(); 3]).unwrap();
    assert!(matches!(
        a.scale_permute(&sp, PermuteMode::Rows),
        Err(Error::LengthMismatch {
            expected: 2,
            actual: 3,
            ..
        })
    ));
    assert_eq!(
        ScaledPermutation::try_new(p3, vec![T::one(); 2]),
        Err(Error::LengthMismatch {
            op: "ScaledPermutation::try_new",
            what: "scale",
            expected: 3,
            actual: 2
        })
    );
}

/// Item 21: scaled permutations with Ginkgo's scales (2, 3, 5) on its mtx3, every mode,
/// against the dense oracle; a mode then its inverse restores the matrix.
fn scaled_permutes_match_oracle<T: TestScalar, I: TestIndex>() {
    let a = from_rows::<T, I>(3, &[&[0.0, 2.0, 1.0], &[3.0, 1.0, 8.0], &[2.0, 0.0, 3.0]]);
    let p = [1, 2, 0];
    let s: Vec<T> = [2.0, 3.0, 5.0].iter().map(|&x| lit(x)).collect();
    let sp = ScaledPermutation::try_new(perm::<I>(&p), s.clone()).unwrap();
    for mode in PermuteMode::ALL {
        let b = a.scale_permute(&sp, mode).unwrap();
        assert_rows_close(&to_rows(&b), &dense_permute(&to_rows(&a), &p, &s, mode));
        assert!(b.is_sorted_by_column_index());
        assert_eq!(b.row_ptrs().len(), 4);
        let back = b.scale_permute(&sp, mode.inverse()).unwrap();
        assert_rows_close(&to_rows(&back), &to_rows(&a));
    }
    // Rectangular (row, column) form.
    let r = from_rows::<T, I>(3, &[&[1.0, 3.0, 2.0], &[0.0, 5.0, 0.0]]);
    let rs: Vec<T> = vec![lit(4.0), lit(-2.0)];
    let rsp = ScaledPermutation::try_new(perm::<I>(&[1, 0]), rs.clone()).unwrap();
    for invert in [false, true] {
        let b = r.scale_permute_rows_cols(&rsp, &sp, invert).unwrap();
        let expected = dense_permute_rc(&to_rows(&r), (&[1, 0], &rs), (&p, &s), invert);
        assert_rows_close(&to_rows(&b), &expected);
        let back = b.scale_permute_rows_cols(&rsp, &sp, !invert).unwrap();
        assert_rows_close(&to_rows(&back), &to_rows(&r));
    }
}

/// Item 22: column (scaled) permutes of a matrix with empty rows stay sorted and correct.
fn column_permute_of_hypersparse_rows<T: TestScalar, I: TestIndex>() {
    let a = from_rows::<T, I>(3, &[&[0.0, 0.0, 0.0], &[1.0, 0.0, 0.0], &[0.0, 0.0, 2.0]]);
    let p = [1, 2, 0];
    let s: Vec<T> = [1.0, 2.0, 4.0].iter().map(|&x| lit(x)).collect();
    let sp = ScaledPermutation::try_new(perm::<I>(&p), s.clone()).unwrap();
    for mode in [PermuteMode::Columns, PermuteMode::InverseColumns] {
        let b = a.scale_permute(&sp, mode).unwrap();
        assert_rows_close(&to_rows(&b), &dense_permute(&to_rows(&a), &p, &s, mode));
        assert_eq!(b.row_ptrs(), a.row_ptrs());
        assert!(b.is_sorted_by_column_index());
        let plain = a.permute(sp.permutation(), mode).unwrap();
        assert_eq!(plain.row_ptrs(), a.row_ptrs());
    }
}

test_all_types!(
    square_modes_give_ginkgo_values,
    rectangular_permutes_give_ginkgo_values,
    permute_shape_errors,
    scaled_permutes_match_oracle,
    column_permute_of_hypersparse_rows,
);

#[test]
fn permutation_rejects_non_bijections_naming_the_position() {
    assert_eq!(
        Permutation::<i32>::try_new(vec![0, 3, 1]),
        Err(Error::IndexOutOfRange {
            what: "permutation",
            pos: 1,
            index: 3,
            len: 3
        })
    );
    assert_eq!(
        Permutation::<i64>::try_new(vec![0, 1, -1]),
        Err(Error::IndexOutOfRange {
            what: "permutation",
            pos: 2,
            index: -1,
            len: 3
        })
    );
    assert_eq!(
        Permutation::<u32>::try_new(vec![2, 0, 2]),
        Err(Error::RepeatedIndex {
            what: "permutation",
            pos: 2,
            index: 2,
            first: 0
        })
    );
    let err = Permutation::<i32>::try_new(vec![1, 1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "permutation: entry 1 repeats index 1, first seen at entry 0"
    );
    assert!(Permutation::<i32>::try_new(Vec::new()).unwrap().is_empty());
    assert_eq!(
        Permutation::<i32>::identity(usize::MAX).map(|p| p.len()),
        Err(Error::IndexTooNarrow {
            extent: csr::Extent::Rows,
            value: usize::MAX,
            index_type: "i32",
            max: i32::MAX as usize
        })
    );
}

#[test]
fn inverse_of_a_large_permutation_is_parallel_and_exact() {
    // Large enough to take the parallel path.
    let n = 300_000_usize;
    let p: Vec<i64> = (0..n).map(|i| ((i * 7919) % n) as i64).collect();
    let perm = Permutation::try_new(p.clone()).unwrap();
    let inv = perm.inverse();
    for (i, &q) in p.iter().enumerate() {
        assert_eq!(inv.as_slice()[q as usize], i as i64);
    }
    assert_eq!(inv.inverse(), perm);
}

/// The check is parallel on large inputs; the error still names the first offending entry
/// in input order (whichever kind it is) and, for a repeat, the entry it repeats.
#[test]
fn large_non_permutations_name_the_first_offending_entry() {
    let n = 300_000_usize;
    let shuffled = |n: usize| -> Vec<i64> { (0..n).map(|i| ((i * 7919) % n) as i64).collect() };
    let mut p = shuffled(n);
    let late = p[250_000];
    p[280_000] = late;
    p[290_000] = n as i64;
    assert_eq!(
        Permutation::try_new(p.clone()),
        Err(Error::RepeatedIndex {
            what: "permutation",
            pos: 280_000,
            index: late as usize,
            first: 250_000
        })
    );
    p[270_000] = -5;
    assert_eq!(
        Permutation::try_new(p),
        Err(Error::IndexOutOfRange {
            what: "permutation",
            pos: 270_000,
            index: -5,
            len: n
        })
    );
    // A repeat whose first occurrence comes after a later, unrelated out-of-range entry.
    let mut p = shuffled(n);
    p[1] = p[0];
    p[n - 1] = -1;
    assert!(matches!(
        Permutation::try_new(p),
        Err(Error::RepeatedIndex {
            pos: 1,
            first: 0,
            ..
        })
    ));
}

#[test]
fn mode_inverses_are_involutions() {
    for mode in PermuteMode::ALL {
        assert_eq!(mode.inverse().inverse(), mode);
        assert_eq!(mode.inverse().moves_rows(), mode.moves_rows());
        assert_eq!(mode.inverse().moves_columns(), mode.moves_columns());
    }
}

#[test]
fn pattern_matrices_permute_too() {
    let a = csr::CsrPattern::<i32>::try_from_parts(2, 2, vec![0, 2, 3], vec![1, 0, 1], vec![(); 3])
        .unwrap();
    let b = a.permute(&perm(&[1, 0]), PermuteMode::Symmetric).unwrap();
    assert_eq!(
        (b.row_ptrs(), b.col_idxs()),
        (&[0, 1, 3][..], &[0, 0, 1][..])
    );
}

/// `a` padded with empty rows or columns to a square matrix.
fn squared<T: TestScalar, I: TestIndex>(a: &Csr<T, I>) -> Csr<T, I> {
    let mut naive = NaiveCsr::from_csr(a);
    let n = a.nrows().max(a.ncols());
    naive.rows.resize(n, Vec::new());
    naive.nrows = n;
    naive.ncols = n;
    naive.to_csr()
}

/// Random matrices (unsorted rows, duplicates, empty rows) and random permutations: every
/// mode equals the dense oracle, column modes give sorted rows, row modes keep each row's
/// storage order, and a mode followed by its inverse is the identity (on the row-sorted
/// input when columns moved). The (row, column) form likewise, plain and scaled.
fn permute_properties<T: TestScalar, I: TestIndex>() {
    let strategy = arb_csr::<T, I>(9, 9, 50).prop_flat_map(|a| {
        let n = a.nrows().max(a.ncols());
        (Just(a), arb_perm(n), proptest::collection::vec(1_i8..=4, n))
    });
    proptest!(ProptestConfig::with_cases(48), |((a, p, scale) in strategy)| {
        let sq = squared(&a);
        let perm_of = |n: usize| {
            let q: Vec<usize> = p.iter().copied().filter(|&x| x < n).collect();
            (Permutation::<I>::try_new(as_idx(&q)).unwrap(), q)
        };
        let (pr, pr_u) = perm_of(a.nrows());
        let (pc, pc_u) = perm_of(a.ncols());
        let (pn, pn_u) = perm_of(sq.nrows());
        let ones = vec![T::one(); sq.nrows()];
        for mode in PermuteMode::ALL {
            let (m, pm, pu) = match (mode.moves_rows(), mode.moves_columns()) {
                (true, true) => (&sq, &pn, &pn_u),
                (true, false) => (&a, &pr, &pr_u),
                _ => (&a, &pc, &pc_u),
            };
            let b = m.permute(pm, mode).unwrap();
            prop_assert_eq!(to_rows(&b), dense_permute(&to_rows(m), pu, &ones, mode));
            prop_assert_eq!(b.nnz(), m.nnz());
            if mode.moves_columns() {
                prop_assert!(b.is_sorted_by_column_index());
                prop_assert_eq!(&b.permute(pm, mode.inverse()).unwrap(), &sorted(m));
            } else {
                let inv: Vec<usize> = (0..pu.len()).map(|i| pu.iter().position(|&x| x == i).unwrap()).collect();
                for r in 0..b.nrows() {
                    let src = match mode {
                        PermuteMode::Rows => pu[r],
                        PermuteMode::InverseRows => inv[r],
                        _ => r,
                    };
                    prop_assert_eq!(b.row(r), m.row(src));
                }
                prop_assert_eq!(&b.permute(pm, mode.inverse()).unwrap(), m);
            }
        }
        for invert in [false, true] {
            let b = a.permute_rows_cols(&pr, &pc, invert).unwrap();
            let (rs, cs) = (vec![T::one(); pr_u.len()], vec![T::one(); pc_u.len()]);
            prop_assert_eq!(to_rows(&b), dense_permute_rc(&to_rows(&a), (&pr_u, &rs), (&pc_u, &cs), invert));
            prop_assert!(b.is_sorted_by_column_index());
            prop_assert_eq!(&b.permute_rows_cols(&pr, &pc, !invert).unwrap(), &sorted(&a));
        }
        // Scaled, symmetric, with factors in 1..=4 (exact products; inverse rounding only).
        // Duplicates are scaled one by one, then summed (the oracle sums, then scales): the
        // rounding is bounded relative to the sum of the scaled entries' magnitudes.
        let s: Vec<T> = scale[..sq.nrows()].iter().map(|&x| lit(f64::from(x))).collect();
        let sp = ScaledPermutation::try_new(pn.clone(), s.clone()).unwrap();
        for mode in PermuteMode::ALL {
            let b = sq.scale_permute(&sp, mode).unwrap();
            let expected = dense_permute(&to_rows(&sq), &pn_u, &s, mode);
            let abs: Vec<T> = b.values().iter().map(|v| lit(v.to_c64().norm())).collect();
            let abs = Csr::try_from_parts(b.nrows(), b.ncols(), b.row_ptrs().to_vec(), b.col_idxs().to_vec(), abs).unwrap();
            let magnitudes = to_rows(&abs);
            let (got, mags) = (to_rows(&b), magnitudes.iter().flatten());
            for ((x, e), m) in got.iter().flatten().zip(expected.iter().flatten()).zip(mags) {
                let bound = tolerance::<T>(sq.nnz() + 2) * m.to_c64().re.max(1.0);
                prop_assert!(
                    (x.to_c64() - e.to_c64()).norm() <= bound,
                    "{:?}: {:?} vs {:?}", mode, x, e
                );
            }
        }
    });
}

test_all_types!(permute_properties);
