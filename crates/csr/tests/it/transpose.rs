//! Transposition: shapes, sorted output, duplicates in input row order, views and patterns.

use csr::{Csr, CsrPattern, CsrRef};
use csr_testkit::{
    NaiveCsr, TestIndex, TestScalar, idxs, test_all_index_types, test_all_types, vals,
};

#[test]
fn transpose_of_a_rectangular_matrix() {
    // [[1, 0, 2],
    //  [0, 3, 0]]
    let a =
        Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2, 3], vec![2, 0, 1], vec![2.0, 1.0, 3.0])
            .unwrap();
    let t = a.transpose();
    assert_eq!(t.shape(), (3, 2));
    assert_eq!(t.row_ptrs(), &[0, 1, 2, 3]);
    assert_eq!(t.col_idxs(), &[0, 1, 0]);
    assert_eq!(t.values(), &[1.0, 3.0, 2.0]);
    assert_eq!(
        t.to_dense().unwrap().to_row_major_vec(),
        vec![1.0, 0.0, 0.0, 3.0, 2.0, 0.0]
    );
}

#[test]
fn transpose_output_is_sorted_and_keeps_duplicates_in_row_order() {
    // Row 0 stores column 1 twice (7 then 8); row 2 stores it once (9).
    let a = Csr::<f64, i64>::try_from_parts(
        3,
        2,
        vec![0, 3, 3, 5],
        vec![1, 0, 1, 1, 0],
        vec![7.0, 1.0, 8.0, 9.0, 2.0],
    )
    .unwrap();
    let t = a.transpose();
    assert_eq!(t.row_ptrs(), &[0, 2, 5]);
    assert_eq!(t.col_idxs(), &[0, 2, 0, 0, 2]);
    assert_eq!(t.values(), &[1.0, 2.0, 7.0, 8.0, 9.0]);
    assert!(t.is_sorted_by_column_index());
    assert!(t.has_duplicates());
}

#[test]
fn view_and_owned_transpose_agree() {
    let (ptrs, cols, values) = ([0_u32, 2, 2, 3], [3_u32, 0, 1], [1.0_f32, 2.0, 3.0]);
    let view = CsrRef::try_from_parts(3, 4, &ptrs, &cols, &values).unwrap();
    assert_eq!(view.transpose(), view.to_csr().transpose());
    assert_eq!(view.transpose().shape(), (4, 3));
}

#[test]
fn transpose_of_identity_is_identity() {
    let id = Csr::<f64, usize>::identity(5).unwrap();
    assert_eq!(id.transpose(), id);
}

/// Transposition against the naive oracle, for every type pair.
fn transpose_matches_naive<T: TestScalar, I: TestIndex>() {
    let a = Csr::<T, I>::try_from_parts(
        4,
        5,
        idxs(&[0, 3, 3, 7, 8]),
        idxs(&[4, 0, 4, 2, 2, 0, 1, 4]),
        vals(&[1, 2, 3, 4, 0, 6, 7, 8]),
    )
    .unwrap();
    let naive = NaiveCsr::from_csr(&a);
    let t = a.transpose();
    assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
    let mut sorted = a.clone();
    sorted.sort_by_column_index();
    assert_eq!(t.transpose(), sorted);
    assert_eq!(a.view().transpose(), t);
}

test_all_types!(transpose_matches_naive);

fn pattern_transpose<I: TestIndex>() {
    let p =
        CsrPattern::<I>::try_from_parts(2, 3, idxs(&[0, 2, 4]), idxs(&[2, 0, 2, 2]), vec![(); 4])
            .unwrap();
    let t = p.transpose();
    assert_eq!(t.shape(), (3, 2));
    assert_eq!(t.row_ptrs(), &idxs::<I>(&[0, 1, 1, 4])[..]);
    assert_eq!(t.col_idxs(), &idxs::<I>(&[0, 0, 1, 1])[..]);
    assert_eq!(t.values().len(), 4);
    assert_eq!(NaiveCsr::from_csr(&t), NaiveCsr::from_csr(&p).transposed());
}

test_all_index_types!(pattern_transpose);
