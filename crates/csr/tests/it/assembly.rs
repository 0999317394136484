//! Assembly from triplets: COO→CSR with summed or kept duplicates, `MatrixData` and its
//! cleanup operations, and symmetric / skew-symmetric / hermitian expansion.

use csr::{Complex, Csr, CsrPattern, Duplicates, Error, MatrixData, Symmetry};
use csr_testkit::{
    NaiveCsr, TestIndex, TestScalar, idxs, sum_map, test_all_index_types, test_all_types, vals,
    zip_triplets,
};

#[test]
fn coo_with_sum_sorts_rows_and_sums_duplicates() {
    let rows = [1_i32, 0, 1, 0, 1, 0];
    let cols = [2_i32, 1, 0, 1, 2, 0];
    let values = [1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0];
    let a = Csr::try_from_coo(2, 3, &rows, &cols, &values, Duplicates::Sum).unwrap();
    assert_eq!(a.row_ptrs(), &[0, 2, 4]);
    assert_eq!(a.col_idxs(), &[0, 1, 0, 2]);
    assert_eq!(a.values(), &[6.0, 6.0, 3.0, 6.0]);
    assert!(a.is_sorted_by_column_index());
    assert!(!a.has_duplicates());
}

#[test]
fn coo_with_keep_lists_entries_in_input_order_within_rows() {
    let rows = [1_i64, 0, 1, 0, 1];
    let cols = [2_i64, 1, 0, 1, 2];
    let values = [1.0_f32, 2.0, 3.0, 4.0, 5.0];
    let a = Csr::try_from_coo(3, 3, &rows, &cols, &values, Duplicates::Keep).unwrap();
    assert_eq!(a.row_ptrs(), &[0, 2, 5, 5]);
    assert_eq!(a.col_idxs(), &[1, 1, 2, 0, 2]);
    assert_eq!(a.values(), &[2.0, 4.0, 1.0, 3.0, 5.0]);
    assert!(a.has_duplicates());
    assert!(!a.is_sorted_by_column_index());
}

#[test]
fn coo_sum_keeps_cancelling_sums_as_explicit_zeros() {
    let a = Csr::<f64, i32>::try_from_coo(
        1,
        2,
        &[0, 0, 0],
        &[1, 1, 0],
        &[2.0, -2.0, 1.0],
        Duplicates::Sum,
    )
    .unwrap();
    assert_eq!(a.col_idxs(), &[0, 1]);
    assert_eq!(a.values(), &[1.0, 0.0]);
    let mut b = a.clone();
    b.eliminate_zeros();
    assert_eq!(b.col_idxs(), &[0]);
}

#[test]
fn coo_without_entries_gives_an_empty_matrix() {
    for duplicates in [Duplicates::Sum, Duplicates::Keep] {
        let a = Csr::<f64, i32>::try_from_coo(3, 2, &[], &[], &[], duplicates).unwrap();
        assert_eq!(a, Csr::empty(3, 2).unwrap());
    }
}

#[test]
fn duplicates_default_is_sum() {
    assert_eq!(Duplicates::default(), Duplicates::Sum);
    assert_eq!(Symmetry::default(), Symmetry::General);
}

#[test]
fn matrix_data_collects_and_reports_triplets() {
    let mut data = MatrixData::<f64, i32>::new(3, 2).unwrap();
    assert!(data.is_empty());
    data.reserve(4);
    data.push(2, 1, 1.0).unwrap();
    data.push(0, 0, 2.0).unwrap();
    data.push(2, 1, 3.0).unwrap();
    assert_eq!((data.nrows(), data.ncols(), data.len()), (3, 2, 3));
    assert!(!data.is_empty());
    assert_eq!(data.rows(), &[2, 0, 2]);
    assert_eq!(data.cols(), &[1, 0, 1]);
    assert_eq!(data.values(), &[1.0, 2.0, 3.0]);
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![(2, 1, 1.0), (0, 0, 2.0), (2, 1, 3.0)]
    );
    let summed = Csr::from_matrix_data(&data).unwrap();
    assert_eq!(
        summed.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), (2, 1, 4.0)]
    );
    let kept = Csr::from_matrix_data_with(&data, Duplicates::Keep).unwrap();
    assert_eq!(
        kept.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), (2, 1, 1.0), (2, 1, 3.0)]
    );
    assert_eq!(
        data.clone().into_parts(),
        (3, 2, vec![2, 0, 2], vec![1, 0, 1], vec![1.0, 2.0, 3.0])
    );
}

#[test]
fn matrix_data_sort_row_major_is_stable() {
    let mut data = MatrixData::<f64, i64>::try_from_triplets(
        2,
        3,
        vec![1, 0, 1, 0, 1],
        vec![2, 1, 0, 1, 0],
        vec![1.0, 2.0, 3.0, 4.0, 5.0],
    )
    .unwrap();
    data.sort_row_major().unwrap();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![
            (0, 1, 2.0),
            (0, 1, 4.0),
            (1, 0, 3.0),
            (1, 0, 5.0),
            (1, 2, 1.0)
        ]
    );
}

#[test]
fn matrix_data_sum_duplicates_and_remove_zeros() {
    let mut data = MatrixData::<f64, i32>::try_from_triplets(
        2,
        2,
        vec![1, 0, 1, 0, 1],
        vec![1, 0, 1, 1, 0],
        vec![1.0, 0.0, -1.0, 2.0, 3.0],
    )
    .unwrap();
    data.sum_duplicates().unwrap();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![(0, 0, 0.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, 0.0)]
    );
    data.remove_zeros();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![(0, 1, 2.0), (1, 0, 3.0)]
    );
    assert_eq!(data.rows(), &[0, 1]);
    assert_eq!(data.cols(), &[1, 0]);
}

#[test]
fn csr_and_matrix_data_round_trip() {
    let a = Csr::<f64, i32>::try_from_parts(
        3,
        3,
        vec![0, 2, 2, 4],
        vec![2, 0, 1, 1],
        vec![1.0, 2.0, 3.0, 4.0],
    )
    .unwrap();
    assert_eq!(a.row_indices(), vec![0, 0, 2, 2]);
    let data = a.to_matrix_data();
    assert_eq!(data, MatrixData::from_csr(&a));
    assert_eq!(data.rows(), &[0, 0, 2, 2]);
    assert_eq!(data.cols(), &[2, 0, 1, 1]);
    let back = Csr::from_matrix_data_with(&data, Duplicates::Keep).unwrap();
    assert_eq!(back, a);
}

#[test]
fn symmetric_expansion_appends_mirrors_after_stored_entries() {
    let mut data = MatrixData::<f64, i32>::try_from_triplets(
        3,
        3,
        vec![0, 1, 2, 2],
        vec![0, 0, 1, 2],
        vec![4.0, 1.0, 2.0, 5.0],
    )
    .unwrap();
    data.expand_symmetry(Symmetry::Symmetric).unwrap();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![
            (0, 0, 4.0),
            (1, 0, 1.0),
            (2, 1, 2.0),
            (2, 2, 5.0),
            (0, 1, 1.0),
            (1, 2, 2.0)
        ]
    );
}

#[test]
fn general_expansion_changes_nothing_even_when_not_square() {
    let mut data =
        MatrixData::<f64, i32>::try_from_triplets(2, 3, vec![0, 1], vec![2, 1], vec![1.0, 2.0])
            .unwrap();
    let before = data.clone();
    data.expand_symmetry(Symmetry::General).unwrap();
    assert_eq!(data, before);
}

#[test]
fn skew_symmetric_expansion_negates_mirrors_and_allows_zero_diagonal() {
    let mut data =
        MatrixData::<f64, i32>::try_from_triplets(2, 2, vec![1, 0], vec![0, 0], vec![3.0, 0.0])
            .unwrap();
    data.expand_symmetry(Symmetry::SkewSymmetric).unwrap();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![(1, 0, 3.0), (0, 0, 0.0), (0, 1, -3.0)]
    );
}

#[test]
fn skew_symmetric_expansion_rejects_nonzero_diagonal() {
    let mut data = MatrixData::<f64, i64>::try_from_triplets(
        3,
        3,
        vec![1, 2, 2],
        vec![0, 2, 1],
        vec![3.0, 1.0, 2.0],
    )
    .unwrap();
    assert_eq!(
        data.expand_symmetry(Symmetry::SkewSymmetric),
        Err(Error::InvalidDiagonal {
            entry: 1,
            row: 2,
            symmetry: "skew-symmetric"
        })
    );
    // The entry before the bad diagonal was not mirrored: a failed expansion changes nothing.
    assert_eq!(data.len(), 3);
}

#[test]
fn hermitian_expansion_conjugates_mirrors_and_needs_real_diagonal() {
    let z = |re, im| Complex::new(re, im);
    let mut data = MatrixData::<Complex<f64>, i32>::try_from_triplets(
        2,
        2,
        vec![0, 1],
        vec![0, 0],
        vec![z(2.0, 0.0), z(1.0, 3.0)],
    )
    .unwrap();
    data.expand_symmetry(Symmetry::Hermitian).unwrap();
    assert_eq!(
        data.iter().collect::<Vec<_>>(),
        vec![
            (0, 0, z(2.0, 0.0)),
            (1, 0, z(1.0, 3.0)),
            (0, 1, z(1.0, -3.0))
        ]
    );

    let mut bad = MatrixData::<Complex<f32>, i32>::try_from_triplets(
        3,
        3,
        vec![2, 1, 1],
        vec![0, 1, 0],
        vec![
            Complex::new(1.0, 1.0),
            Complex::new(4.0, -0.5),
            Complex::new(0.0, 1.0),
        ],
    )
    .unwrap();
    assert_eq!(
        bad.expand_symmetry(Symmetry::Hermitian),
        Err(Error::InvalidDiagonal {
            entry: 1,
            row: 1,
            symmetry: "hermitian"
        })
    );
}

#[test]
fn hermitian_expansion_of_real_values_is_symmetric() {
    let mut h =
        MatrixData::<f32, i32>::try_from_triplets(2, 2, vec![1, 1], vec![0, 1], vec![2.0, 7.0])
            .unwrap();
    let mut s = h.clone();
    h.expand_symmetry(Symmetry::Hermitian).unwrap();
    s.expand_symmetry(Symmetry::Symmetric).unwrap();
    assert_eq!(h, s);
}

#[test]
fn symmetric_expansions_reject_non_square_matrices() {
    for symmetry in [
        Symmetry::Symmetric,
        Symmetry::SkewSymmetric,
        Symmetry::Hermitian,
    ] {
        let mut data = MatrixData::<f64, i32>::new(2, 3).unwrap();
        assert_eq!(
            data.expand_symmetry(symmetry),
            Err(Error::NotSquare {
                op: "symmetric expansion",
                nrows: 2,
                ncols: 3
            })
        );
    }
}

#[test]
fn symmetric_expansion_mirrors_each_stored_entry_of_both_triangles() {
    let mut data =
        MatrixData::<f64, i32>::try_from_triplets(2, 2, vec![1, 0], vec![0, 1], vec![1.0, 2.0])
            .unwrap();
    data.expand_symmetry(Symmetry::Symmetric).unwrap();
    let a = Csr::from_matrix_data(&data).unwrap();
    assert_eq!(
        a.to_dense().unwrap().to_row_major_vec(),
        vec![0.0, 3.0, 3.0, 0.0]
    );
}

#[test]
fn symmetry_names_follow_matrix_market() {
    assert_eq!(Symmetry::General.name(), "general");
    assert_eq!(Symmetry::Symmetric.name(), "symmetric");
    assert_eq!(Symmetry::SkewSymmetric.name(), "skew-symmetric");
    assert_eq!(Symmetry::Hermitian.name(), "hermitian");
}

/// Expanding the lower triangle and assembling gives a dense matrix equal to its own
/// (negated / conjugated) transpose.
fn expansion_gives_the_full_matrix<T: TestScalar, I: TestIndex>() {
    let rows = idxs::<I>(&[0, 1, 2, 2, 1, 2]);
    let cols = idxs::<I>(&[0, 0, 0, 1, 1, 1]);
    let values: Vec<T> = vals(&[5, -1, 2, 3, 4, 6]);
    for symmetry in [
        Symmetry::Symmetric,
        Symmetry::Hermitian,
        Symmetry::SkewSymmetric,
    ] {
        let (mut r, mut c, mut v) = (rows.clone(), cols.clone(), values.clone());
        if symmetry == Symmetry::SkewSymmetric {
            // Keep only the strict lower triangle.
            let keep: Vec<usize> = (0..r.len()).filter(|&k| r[k] != c[k]).collect();
            r = keep.iter().map(|&k| rows[k]).collect();
            c = keep.iter().map(|&k| cols[k]).collect();
            v = keep.iter().map(|&k| values[k]).collect();
        }
        if symmetry == Symmetry::Hermitian {
            // Real diagonal.
            for k in 0..v.len() {
                if r[k] == c[k] {
                    v[k] = T::from_re_im(v[k].to_c64().re, 0.0);
                }
            }
        }
        let mut data = MatrixData::<T, I>::try_from_triplets(3, 3, r, c, v).unwrap();
        data.expand_symmetry(symmetry).unwrap();
        let d = Csr::from_matrix_data(&data).unwrap().to_dense().unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let (a, b) = (d.get(i, j).unwrap(), d.get(j, i).unwrap());
                let expected = match symmetry {
                    Symmetry::Symmetric => b,
                    Symmetry::SkewSymmetric => -b,
                    Symmetry::Hermitian => b.conj(),
                    Symmetry::General => unreachable!(),
                };
                assert_eq!(a, expected, "{symmetry:?} ({i}, {j})");
            }
        }
    }
}

/// COO assembly against the naive oracles, for every type pair.
fn coo_matches_naive_oracle<T: TestScalar, I: TestIndex>() {
    let rows = idxs::<I>(&[3, 0, 3, 1, 0, 3, 3]);
    let cols = idxs::<I>(&[1, 2, 0, 1, 2, 1, 4]);
    let values: Vec<T> = vals(&[1, 2, 3, 4, -2, 6, 0]);
    let naive = NaiveCsr::from_triplets(4, 5, &rows, &cols, &values);
    let kept = Csr::try_from_coo(4, 5, &rows, &cols, &values, Duplicates::Keep).unwrap();
    assert_eq!(NaiveCsr::from_csr(&kept), naive);
    let summed = Csr::try_from_coo(4, 5, &rows, &cols, &values, Duplicates::Sum).unwrap();
    assert_eq!(NaiveCsr::from_csr(&summed), naive.summed());
    assert_eq!(
        sum_map(summed.iter()),
        sum_map(zip_triplets(&rows, &cols, &values))
    );
}

test_all_types!(expansion_gives_the_full_matrix, coo_matches_naive_oracle);

/// Pattern matrices assemble too: `Sum` keeps one entry per coordinate.
fn pattern_assembly<I: TestIndex>() {
    let rows = idxs::<I>(&[1, 0, 1, 1]);
    let cols = idxs::<I>(&[2, 1, 0, 2]);
    let units = vec![(); 4];
    let kept = CsrPattern::<I>::try_from_coo(2, 3, &rows, &cols, &units, Duplicates::Keep).unwrap();
    assert_eq!(kept.row_ptrs(), &idxs::<I>(&[0, 1, 4])[..]);
    assert_eq!(kept.col_idxs(), &idxs::<I>(&[1, 2, 0, 2])[..]);
    let deduped =
        CsrPattern::<I>::try_from_coo(2, 3, &rows, &cols, &units, Duplicates::Sum).unwrap();
    assert_eq!(deduped.row_ptrs(), &idxs::<I>(&[0, 1, 3])[..]);
    assert_eq!(deduped.col_idxs(), &idxs::<I>(&[1, 0, 2])[..]);
    assert_eq!(deduped.values().len(), 3);

    let mut data = MatrixData::<(), I>::try_from_triplets(2, 3, rows, cols, units).unwrap();
    assert_eq!(Csr::from_matrix_data(&data).unwrap(), deduped);
    data.sum_duplicates().unwrap();
    assert_eq!(data.len(), 3);
    data.sort_row_major().unwrap();
    assert_eq!(data.cols(), &idxs::<I>(&[1, 0, 2])[..]);
}

test_all_index_types!(pattern_assembly);

/// Triplets in row order take the copy path (no sort), others the counting sort: both
/// equal the naive assembly, from tiny inputs to ones large enough to run in parallel.
#[test]
fn coo_in_row_order_and_shuffled_match_the_naive_assembly() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let triplets = (1usize..40, 1usize..40).prop_flat_map(|(nrows, ncols)| {
        let entry = (0..nrows as i32, 0..ncols as i32, -5i32..5);
        (
            Just(nrows),
            Just(ncols),
            prop::collection::vec(entry, 0..200),
        )
    });
    TestRunner::new(Config::with_cases(256))
        .run(&triplets, |(nrows, ncols, mut entries)| {
            for pass in 0..2 {
                if pass == 1 {
                    entries.sort_by_key(|e| e.0);
                }
                let rows: Vec<i32> = entries.iter().map(|e| e.0).collect();
                let cols: Vec<i32> = entries.iter().map(|e| e.1).collect();
                let values: Vec<f64> = entries.iter().map(|e| f64::from(e.2)).collect();
                let naive = NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values);
                let kept = Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(NaiveCsr::from_csr(&kept), naive);
            }
            Ok(())
        })
        .unwrap();
    // Large: 600k entries over 300k rows (some empty), in row order, then reversed by row.
    let n: usize = 600_000;
    let rows: Vec<i64> = (0..n).map(|k| ((k / 2 + k % 3) % 300_000) as i64).collect();
    let mut rows_sorted = rows.clone();
    rows_sorted.sort_unstable();
    let cols: Vec<i64> = (0..n).map(|k| (k * 7919 % 1000) as i64).collect();
    let values: Vec<f64> = (0..n).map(|k| k as f64).collect();
    for r in [&rows_sorted, &rows] {
        let naive = NaiveCsr::from_triplets(300_000, 1000, r, &cols, &values);
        let kept = Csr::try_from_coo(300_000, 1000, r, &cols, &values, Duplicates::Keep).unwrap();
        assert_eq!(NaiveCsr::from_csr(&kept), naive);
    }
}
