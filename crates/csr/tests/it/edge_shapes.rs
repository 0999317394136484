//! Degenerate shapes through every operation: 0x0, 0xn, nx0, all rows empty, a single dense
//! row, a single dense column.

use csr::{Csr, CsrPattern, CsrRef, Dense, Duplicates, MatrixData, RowStats};
use csr_testkit::{NaiveCsr, TestIndex, TestScalar, idxs, test_all_types, vals};

/// Runs every structural and numeric operation on `a` and checks the results against the
/// naive oracle and the obvious shape rules.
fn exercise<T: TestScalar, I: TestIndex>(a: &Csr<T, I>) {
    let naive = NaiveCsr::from_csr(a);
    let (nrows, ncols) = a.shape();
    assert_eq!(a.row_ptrs().len(), nrows + 1);
    assert_eq!(a.row_lengths().len(), nrows);
    assert_eq!(a.row_lengths().sum::<usize>(), a.nnz());
    assert_eq!(a.iter().count(), a.nnz());
    assert_eq!(a.get_row(nrows), None);
    assert_eq!(a.is_sorted_by_column_index(), naive.is_sorted());
    assert_eq!(a.has_duplicates(), naive.has_duplicates());

    let t = a.transpose();
    assert_eq!(t.shape(), (ncols, nrows));
    assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
    let mut sorted = a.clone();
    sorted.sort_by_column_index();
    assert_eq!(NaiveCsr::from_csr(&sorted), naive.sorted());
    assert_eq!(t.transpose(), sorted);
    let mut summed = a.clone();
    summed.sum_duplicates();
    assert_eq!(NaiveCsr::from_csr(&summed), naive.summed());
    let mut nonzero = a.clone();
    nonzero.eliminate_zeros();
    assert_eq!(NaiveCsr::from_csr(&nonzero), naive.without_zeros());

    let dense = a.to_dense().unwrap();
    assert_eq!(dense.shape(), (nrows, ncols));
    let mut clean = summed.clone();
    clean.eliminate_zeros();
    assert_eq!(Csr::from_dense(&dense).unwrap(), clean);
    let flat = dense.to_row_major_vec();
    assert_eq!(
        Csr::try_from_dense_row_major(nrows, ncols, &flat).unwrap(),
        clean
    );

    let (r, c, v) = (a.row_indices(), a.col_idxs().to_vec(), a.values().to_vec());
    let keep = Csr::try_from_coo(nrows, ncols, &r, &c, &v, Duplicates::Keep).unwrap();
    assert_eq!(&keep, a);
    let sum = Csr::try_from_coo(nrows, ncols, &r, &c, &v, Duplicates::Sum).unwrap();
    assert_eq!(sum, summed);
    let data = MatrixData::try_from_triplets(nrows, ncols, r, c, v).unwrap();
    assert_eq!(Csr::from_matrix_data(&data).unwrap(), summed);

    let view =
        CsrRef::try_from_parts(nrows, ncols, a.row_ptrs(), a.col_idxs(), a.values()).unwrap();
    assert_eq!(view.to_csr(), *a);
    assert_eq!(view.transpose(), t);

    let stats = RowStats::of(a.view());
    assert_eq!((stats.nrows, stats.nnz), (nrows, a.nnz()));
    assert_eq!(stats.max, a.row_lengths().max().unwrap_or(0));
    assert_eq!(stats.min, a.row_lengths().min().unwrap_or(0));
    assert_eq!(
        stats.empty_rows,
        a.row_lengths().filter(|&l| l == 0).count()
    );
}

fn zero_by_zero<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::empty(0, 0).unwrap();
    assert_eq!(a.row_ptrs(), &idxs::<I>(&[0])[..]);
    exercise(&a);
    assert_eq!(Csr::<T, I>::identity(0).unwrap(), a);
    let b = Csr::<T, I>::try_from_parts(0, 0, idxs(&[0]), vec![], vec![]).unwrap();
    assert_eq!(a, b);
    let stats = RowStats::of(a.view());
    assert_eq!(
        (stats.min, stats.max, stats.mean, stats.empty_rows),
        (0, 0, 0.0, 0)
    );
    assert_eq!(a.to_dense().unwrap(), Dense::zeros(0, 0).unwrap());
}

fn zero_rows<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::empty(0, 5).unwrap();
    exercise(&a);
    let t = a.transpose();
    assert_eq!(t.shape(), (5, 0));
    assert_eq!(t.row_ptrs(), &idxs::<I>(&[0; 6])[..]);
}

fn zero_cols<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::empty(4, 0).unwrap();
    exercise(&a);
    assert_eq!(a.row(3), (&[][..], &[][..]));
    let stats = RowStats::of(a.view());
    assert_eq!((stats.min, stats.max, stats.empty_rows), (0, 0, 4));
    assert_eq!(a.transpose(), Csr::empty(0, 4).unwrap());
}

fn all_rows_empty<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::try_from_parts(6, 3, idxs(&[0; 7]), vec![], vec![]).unwrap();
    exercise(&a);
    assert_eq!(a, Csr::empty(6, 3).unwrap());
    assert!(!a.has_duplicates() && a.is_sorted_by_column_index());
}

fn one_dense_row<T: TestScalar, I: TestIndex>() {
    // Row 2 of 4 holds every column, in reverse order, with one explicit zero and a
    // duplicate; the other rows are empty.
    let cols: Vec<i64> = (0..40).rev().chain([7]).collect();
    let ks: Vec<i64> = (0..41).map(|k| k % 7).collect();
    let a = Csr::<T, I>::try_from_parts(4, 40, idxs(&[0, 0, 0, 41, 41]), idxs(&cols), vals(&ks))
        .unwrap();
    exercise(&a);
    let stats = RowStats::of(a.view());
    assert_eq!((stats.min, stats.max, stats.empty_rows), (0, 41, 3));
    let t = a.transpose();
    assert_eq!(t.row_lengths().filter(|&l| l == 1).count(), 39);
    assert_eq!(t.row_ptrs()[40].to_usize(), 41);
}

fn one_dense_column<T: TestScalar, I: TestIndex>() {
    let ptrs: Vec<i64> = (0..=50).collect();
    let a =
        Csr::<T, I>::try_from_parts(50, 3, idxs(&ptrs), idxs(&[1; 50]), vals(&ptrs[1..])).unwrap();
    exercise(&a);
    let t = a.transpose();
    assert_eq!(t.row_lengths().collect::<Vec<_>>(), vec![0, 50, 0]);
}

fn single_entry<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::try_from_parts(1, 1, idxs(&[0, 1]), idxs(&[0]), vals(&[3])).unwrap();
    exercise(&a);
    assert_eq!(a.transpose(), a);
}

test_all_types!(
    zero_by_zero,
    zero_rows,
    zero_cols,
    all_rows_empty,
    one_dense_row,
    one_dense_column,
    single_entry
);

#[test]
fn empty_shapes_for_patterns() {
    for (nrows, ncols) in [(0, 0), (0, 3), (3, 0), (3, 3)] {
        let p = CsrPattern::<i32>::empty(nrows, ncols).unwrap();
        let t = p.transpose();
        assert_eq!(t.shape(), (ncols, nrows));
        let mut q = p.clone();
        q.sort_by_column_index();
        q.sum_duplicates();
        assert_eq!(q, p);
        assert_eq!(p.to_valued::<f64>().to_pattern(), p);
    }
}
