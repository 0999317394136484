//! Checked constructors: every error variant with its position fields, the order in which
//! invariants are checked, and size limits of narrow index types (without allocating giant
//! arrays: the size checks come first).

use csr::{Csr, CsrPattern, CsrRef, Dense, Duplicates, Error, Extent, MatrixData};
use csr_testkit::{TestIndex, TestScalar, idxs, naive_check_parts, test_all_types, vals};

const I32_LIMIT: usize = i32::MAX as usize;
const U32_LIMIT: usize = u32::MAX as usize;

/// Runs `Csr::try_from_parts` and `CsrRef::try_from_parts` on the same arrays, checks they
/// agree with each other and with the naive checker, and returns the verdict.
#[track_caller]
fn verdict<T: TestScalar, I: TestIndex>(
    nrows: usize,
    ncols: usize,
    row_ptrs: &[I],
    col_idxs: &[I],
    nvalues: usize,
) -> Result<(), Error> {
    let values: Vec<T> = vals(&vec![1; nvalues]);
    let owned = Csr::try_from_parts(
        nrows,
        ncols,
        row_ptrs.to_vec(),
        col_idxs.to_vec(),
        values.clone(),
    )
    .map(|a| {
        assert_eq!(
            a.into_parts(),
            (
                nrows,
                ncols,
                row_ptrs.to_vec(),
                col_idxs.to_vec(),
                values.clone()
            )
        );
    });
    let borrowed = CsrRef::try_from_parts(nrows, ncols, row_ptrs, col_idxs, &values).map(drop);
    assert_eq!(owned, borrowed, "Csr and CsrRef disagree");
    let naive = naive_check_parts(nrows, ncols, row_ptrs, col_idxs, nvalues);
    assert_eq!(owned, naive, "library and naive checker disagree");
    owned
}

#[track_caller]
fn check_i32(
    nrows: usize,
    ncols: usize,
    row_ptrs: &[i32],
    col_idxs: &[i32],
    nvalues: usize,
) -> Result<(), Error> {
    verdict::<f64, i32>(nrows, ncols, row_ptrs, col_idxs, nvalues)
}

#[test]
fn accepts_valid_arrays_with_unsorted_rows_duplicates_and_empty_rows() {
    assert_eq!(check_i32(2, 3, &[0, 2, 3], &[0, 2, 2], 3), Ok(()));
    assert_eq!(check_i32(3, 3, &[0, 0, 3, 3], &[2, 0, 2], 3), Ok(()));
    assert_eq!(check_i32(0, 0, &[0], &[], 0), Ok(()));
    assert_eq!(check_i32(0, 7, &[0], &[], 0), Ok(()));
    assert_eq!(check_i32(3, 0, &[0, 0, 0, 0], &[], 0), Ok(()));
}

#[test]
fn rejects_row_ptrs_of_wrong_length() {
    assert_eq!(
        check_i32(2, 3, &[0, 2], &[0, 1], 2),
        Err(Error::RowPtrsLength {
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(
        check_i32(2, 3, &[0, 1, 2, 2], &[0, 1], 2),
        Err(Error::RowPtrsLength {
            expected: 3,
            actual: 4
        })
    );
    assert_eq!(
        check_i32(0, 0, &[], &[], 0),
        Err(Error::RowPtrsLength {
            expected: 1,
            actual: 0
        })
    );
}

#[test]
fn rejects_values_of_wrong_length() {
    assert_eq!(
        check_i32(1, 3, &[0, 2], &[0, 1], 3),
        Err(Error::ValuesLength {
            col_idxs: 2,
            values: 3
        })
    );
    assert_eq!(
        check_i32(1, 3, &[0, 2], &[0, 1], 0),
        Err(Error::ValuesLength {
            col_idxs: 2,
            values: 0
        })
    );
}

#[test]
fn rejects_nonzero_first_row_ptr() {
    assert_eq!(
        check_i32(2, 2, &[1, 1, 2], &[0, 1], 2),
        Err(Error::RowPtrsStart { first: 1 })
    );
    assert_eq!(
        check_i32(2, 2, &[-1, 0, 2], &[0, 1], 2),
        Err(Error::RowPtrsStart { first: -1 })
    );
}

#[test]
fn rejects_decreasing_row_ptrs() {
    assert_eq!(
        check_i32(4, 5, &[0, 2, 5, 3, 5], &[0, 1, 2, 3, 4], 5),
        Err(Error::DecreasingRowPtrs {
            row: 2,
            start: 5,
            end: 3
        })
    );
    assert_eq!(
        check_i32(2, 2, &[0, -3, 2], &[0, 1], 2),
        Err(Error::DecreasingRowPtrs {
            row: 0,
            start: 0,
            end: -3
        })
    );
    // The first decrease is named, not a later one.
    assert_eq!(
        check_i32(4, 5, &[0, 3, 1, 4, 2], &[0, 1], 2),
        Err(Error::DecreasingRowPtrs {
            row: 1,
            start: 3,
            end: 1
        })
    );
}

#[test]
fn rejects_last_row_ptr_other_than_nnz() {
    assert_eq!(
        check_i32(2, 2, &[0, 1, 1], &[0, 1], 2),
        Err(Error::RowPtrsEnd { last: 1, nnz: 2 })
    );
    assert_eq!(
        check_i32(2, 2, &[0, 1, 3], &[0, 1], 2),
        Err(Error::RowPtrsEnd { last: 3, nnz: 2 })
    );
    assert_eq!(
        check_i32(1, 2, &[0, i32::MAX], &[], 0),
        Err(Error::RowPtrsEnd {
            last: i128::from(i32::MAX),
            nnz: 0
        })
    );
}

#[test]
fn rejects_column_out_of_bounds_naming_row_and_position() {
    // Row 1 is empty: the bad entry at position 2 belongs to row 2.
    assert_eq!(
        check_i32(3, 2, &[0, 1, 1, 3], &[0, 1, 2], 3),
        Err(Error::ColumnOutOfBounds {
            row: 2,
            pos: 2,
            col: 2,
            ncols: 2
        })
    );
    assert_eq!(
        check_i32(2, 4, &[0, 2, 2], &[3, -1], 2),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 1,
            col: -1,
            ncols: 4
        })
    );
    // Several bad columns: the first is named.
    assert_eq!(
        check_i32(2, 3, &[0, 1, 4], &[0, 9, -5, 3], 4),
        Err(Error::ColumnOutOfBounds {
            row: 1,
            pos: 1,
            col: 9,
            ncols: 3
        })
    );
    // No column is valid when ncols is 0.
    assert_eq!(
        check_i32(1, 0, &[0, 1], &[0], 1),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 0,
            col: 0,
            ncols: 0
        })
    );
    // Trailing empty rows do not confuse the row search.
    assert_eq!(
        check_i32(4, 2, &[0, 2, 2, 2, 2], &[1, 2], 2),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 1,
            col: 2,
            ncols: 2
        })
    );
}

#[test]
fn column_out_of_bounds_shows_extreme_values_exactly() {
    assert_eq!(
        verdict::<f32, u32>(1, 3, &[0, 1], &[u32::MAX], 1),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 0,
            col: i128::from(u32::MAX),
            ncols: 3
        })
    );
    assert_eq!(
        verdict::<f64, i64>(1, 3, &[0, 1], &[i64::MIN], 1),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 0,
            col: i128::from(i64::MIN),
            ncols: 3
        })
    );
    assert_eq!(
        verdict::<f64, usize>(1, 3, &[0, 1], &[usize::MAX], 1),
        Err(Error::ColumnOutOfBounds {
            row: 0,
            pos: 0,
            col: i128::try_from(usize::MAX).unwrap(),
            ncols: 3
        })
    );
}

#[test]
fn checks_invariants_in_documented_order() {
    // Wrong row_ptrs length wins over wrong value length and bad columns.
    assert_eq!(
        check_i32(2, 1, &[0, 5], &[7], 3),
        Err(Error::RowPtrsLength {
            expected: 3,
            actual: 2
        })
    );
    // Value length wins over a bad start.
    assert_eq!(
        check_i32(1, 1, &[3, 1], &[7], 2),
        Err(Error::ValuesLength {
            col_idxs: 1,
            values: 2
        })
    );
    // A bad start wins over a decrease.
    assert_eq!(
        check_i32(2, 1, &[2, 0, 1], &[7], 1),
        Err(Error::RowPtrsStart { first: 2 })
    );
    // A decrease wins over a bad end.
    assert_eq!(
        check_i32(2, 1, &[0, 3, 2], &[0], 1),
        Err(Error::DecreasingRowPtrs {
            row: 1,
            start: 3,
            end: 2
        })
    );
    // A bad end wins over a bad column.
    assert_eq!(
        check_i32(1, 1, &[0, 2], &[5], 1),
        Err(Error::RowPtrsEnd { last: 2, nnz: 1 })
    );
    // Sizes that do not fit win over everything.
    assert_eq!(
        check_i32(I32_LIMIT + 1, 1, &[3], &[], 2),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
}

#[test]
fn rejects_sizes_that_do_not_fit_the_index_type() {
    assert_eq!(
        check_i32(I32_LIMIT + 1, 1, &[0], &[], 0),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    assert_eq!(
        check_i32(0, usize::MAX, &[0], &[], 0),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: usize::MAX,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    assert_eq!(
        verdict::<f64, u32>(0, U32_LIMIT + 1, &[0], &[], 0),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: U32_LIMIT + 1,
            index_type: "u32",
            max: U32_LIMIT
        })
    );
    // The largest size that fits passes the size check and fails on the (short) row_ptrs.
    assert_eq!(
        check_i32(I32_LIMIT, I32_LIMIT, &[0], &[], 0),
        Err(Error::RowPtrsLength {
            expected: I32_LIMIT + 1,
            actual: 1
        })
    );
    assert_eq!(
        verdict::<f32, u32>(U32_LIMIT, 0, &[0], &[], 0),
        Err(Error::RowPtrsLength {
            expected: U32_LIMIT + 1,
            actual: 1
        })
    );
}

#[test]
fn rejects_row_count_whose_row_ptrs_length_overflows() {
    assert_eq!(
        verdict::<f64, usize>(usize::MAX, 0, &[0], &[], 0),
        Err(Error::SizeOverflow { what: "nrows + 1" })
    );
    assert_eq!(
        Csr::<f64, usize>::empty(usize::MAX, 3),
        Err(Error::SizeOverflow { what: "nrows + 1" })
    );
}

#[test]
fn empty_and_identity_reject_sizes_that_do_not_fit() {
    let rows_i32 = || Error::IndexTooNarrow {
        extent: Extent::Rows,
        value: I32_LIMIT + 1,
        index_type: "i32",
        max: I32_LIMIT,
    };
    assert_eq!(Csr::<f64, i32>::empty(I32_LIMIT + 1, 2), Err(rows_i32()));
    assert_eq!(Csr::<f64, i32>::identity(I32_LIMIT + 1), Err(rows_i32()));
    assert_eq!(
        Csr::<f64, i32>::empty(2, I32_LIMIT + 1),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    let rows_u32 = || Error::IndexTooNarrow {
        extent: Extent::Rows,
        value: U32_LIMIT + 1,
        index_type: "u32",
        max: U32_LIMIT,
    };
    assert_eq!(Csr::<f32, u32>::empty(U32_LIMIT + 1, 0), Err(rows_u32()));
    assert_eq!(Csr::<f32, u32>::identity(U32_LIMIT + 1), Err(rows_u32()));
    assert_eq!(
        CsrPattern::<u32>::empty(0, usize::MAX),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: usize::MAX,
            index_type: "u32",
            max: U32_LIMIT
        })
    );
}

#[test]
fn empty_and_identity_build_the_expected_arrays() {
    let e = Csr::<f64, i32>::empty(3, 4).unwrap();
    assert_eq!(e.shape(), (3, 4));
    assert_eq!(e.row_ptrs(), &[0, 0, 0, 0]);
    assert_eq!((e.nnz(), e.col_idxs().len(), e.values().len()), (0, 0, 0));
    let id = Csr::<f32, u32>::identity(3).unwrap();
    assert_eq!(id.row_ptrs(), &[0, 1, 2, 3]);
    assert_eq!(id.col_idxs(), &[0, 1, 2]);
    assert_eq!(id.values(), &[1.0, 1.0, 1.0]);
    let id0 = Csr::<f64, i64>::identity(0).unwrap();
    assert_eq!((id0.shape(), id0.row_ptrs()), ((0, 0), &[0_i64][..]));
}

#[test]
fn pattern_constructors_check_lengths() {
    assert_eq!(
        CsrPattern::<i32>::try_from_parts(1, 2, vec![0, 2], vec![0, 1], vec![(); 3]),
        Err(Error::ValuesLength {
            col_idxs: 2,
            values: 3
        })
    );
    let p = CsrPattern::<i32>::try_from_parts(1, 2, vec![0, 2], vec![1, 0], vec![(); 2]).unwrap();
    assert_eq!(
        p.clone().with_values(vec![1.0_f64]),
        Err(Error::ValuesLength {
            col_idxs: 2,
            values: 1
        })
    );
    let a = p.with_values(vec![5.0_f64, 6.0]).unwrap();
    assert_eq!(a.row(0), (&[1, 0][..], &[5.0, 6.0][..]));
}

#[test]
fn coo_rejects_triplet_arrays_of_different_lengths() {
    let err = Csr::<f64, i32>::try_from_coo(2, 2, &[0, 1], &[0], &[1.0, 2.0], Duplicates::Sum);
    assert_eq!(
        err,
        Err(Error::TripletLength {
            rows: 2,
            cols: 1,
            values: 2
        })
    );
    let err = Csr::<f64, i32>::try_from_coo(2, 2, &[0], &[0], &[1.0, 2.0], Duplicates::Keep);
    assert_eq!(
        err,
        Err(Error::TripletLength {
            rows: 1,
            cols: 1,
            values: 2
        })
    );
}

#[test]
fn coo_rejects_entries_outside_the_matrix_naming_the_first() {
    let out = |rows: &[i32], cols: &[i32]| {
        let values = vec![1.0_f32; rows.len()];
        let sum = Csr::try_from_coo(2, 3, rows, cols, &values, Duplicates::Sum);
        let keep = Csr::try_from_coo(2, 3, rows, cols, &values, Duplicates::Keep);
        assert_eq!(sum, keep);
        sum
    };
    assert_eq!(
        out(&[0, 2, 5], &[0, 0, 9]),
        Err(Error::EntryOutOfBounds {
            entry: 1,
            row: 2,
            col: 0,
            nrows: 2,
            ncols: 3
        })
    );
    assert_eq!(
        out(&[1, 1], &[2, 3]),
        Err(Error::EntryOutOfBounds {
            entry: 1,
            row: 1,
            col: 3,
            nrows: 2,
            ncols: 3
        })
    );
    assert_eq!(
        out(&[0, -1], &[-7, 0]),
        Err(Error::EntryOutOfBounds {
            entry: 0,
            row: 0,
            col: -7,
            nrows: 2,
            ncols: 3
        })
    );
    assert_eq!(
        Csr::<f64, u32>::try_from_coo(1, 1, &[u32::MAX], &[0], &[1.0], Duplicates::Sum),
        Err(Error::EntryOutOfBounds {
            entry: 0,
            row: i128::from(u32::MAX),
            col: 0,
            nrows: 1,
            ncols: 1
        })
    );
}

#[test]
fn coo_rejects_sizes_that_do_not_fit() {
    assert_eq!(
        Csr::<f64, i32>::try_from_coo(I32_LIMIT + 1, 1, &[], &[], &[], Duplicates::Sum),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    assert_eq!(
        Csr::<f64, u32>::try_from_coo(1, U32_LIMIT + 1, &[], &[], &[], Duplicates::Keep),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: U32_LIMIT + 1,
            index_type: "u32",
            max: U32_LIMIT
        })
    );
}

#[test]
fn matrix_data_rejects_bad_sizes_lengths_and_entries() {
    assert_eq!(
        MatrixData::<f64, i32>::new(1, I32_LIMIT + 1),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    assert_eq!(
        MatrixData::<f64, u32>::try_from_triplets(U32_LIMIT + 1, 1, vec![], vec![], vec![]),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: U32_LIMIT + 1,
            index_type: "u32",
            max: U32_LIMIT
        })
    );
    assert_eq!(
        MatrixData::<f64, i32>::try_from_triplets(2, 2, vec![0, 1], vec![1, 1], vec![1.0]),
        Err(Error::TripletLength {
            rows: 2,
            cols: 2,
            values: 1
        })
    );
    assert_eq!(
        MatrixData::<f64, i64>::try_from_triplets(
            2,
            2,
            vec![0, 1, 0],
            vec![1, 1, -2],
            vec![1.0; 3]
        ),
        Err(Error::EntryOutOfBounds {
            entry: 2,
            row: 0,
            col: -2,
            nrows: 2,
            ncols: 2
        })
    );
    let mut data = MatrixData::<f64, i32>::new(2, 3).unwrap();
    data.push(1, 2, 1.0).unwrap();
    data.push(0, 0, 2.0).unwrap();
    assert_eq!(
        data.push(2, 0, 3.0),
        Err(Error::EntryOutOfBounds {
            entry: 2,
            row: 2,
            col: 0,
            nrows: 2,
            ncols: 3
        })
    );
    assert_eq!(
        data.push(0, usize::MAX, 3.0),
        Err(Error::EntryOutOfBounds {
            entry: 2,
            row: 0,
            col: i128::try_from(usize::MAX).unwrap(),
            nrows: 2,
            ncols: 3
        })
    );
    // A rejected push leaves the data unchanged.
    assert_eq!(data.len(), 2);
    assert_eq!(data.rows(), &[1, 0]);
}

#[test]
fn dense_row_major_rejects_bad_lengths_and_sizes() {
    assert_eq!(
        Csr::<f64, i32>::try_from_dense_row_major(2, 2, &[1.0, 0.0, 3.0]),
        Err(Error::DenseLength {
            nrows: 2,
            ncols: 2,
            actual: 3
        })
    );
    assert_eq!(
        Csr::<f64, i32>::try_from_dense_row_major(usize::MAX, 2, &[]),
        Err(Error::SizeOverflow {
            what: "nrows * ncols"
        })
    );
    assert_eq!(
        Csr::<f32, i32>::try_from_dense_row_major(0, I32_LIMIT + 1, &[]),
        Err(Error::IndexTooNarrow {
            extent: Extent::Cols,
            value: I32_LIMIT + 1,
            index_type: "i32",
            max: I32_LIMIT
        })
    );
    assert_eq!(
        Csr::<f32, u32>::try_from_dense_row_major(U32_LIMIT + 1, 0, &[]),
        Err(Error::IndexTooNarrow {
            extent: Extent::Rows,
            value: U32_LIMIT + 1,
            index_type: "u32",
            max: U32_LIMIT
        })
    );
    let a =
        Csr::<f64, i64>::try_from_dense_row_major(2, 3, &[0.0, 1.0, 0.0, 2.0, -0.0, 3.0]).unwrap();
    assert_eq!(a.row_ptrs(), &[0, 1, 3]);
    assert_eq!(a.col_idxs(), &[1, 0, 2]);
    assert_eq!(a.values(), &[1.0, 2.0, 3.0]);
}

#[test]
fn dense_rejects_bad_lengths_and_sizes() {
    assert_eq!(
        Dense::<f64>::try_from_row_major(2, 3, vec![0.0; 5]),
        Err(Error::DenseLength {
            nrows: 2,
            ncols: 3,
            actual: 5
        })
    );
    assert_eq!(
        Dense::<f32>::zeros(usize::MAX, 2),
        Err(Error::SizeOverflow {
            what: "nrows * ncols"
        })
    );
    let d = Dense::<f64>::try_from_row_major(0, 5, vec![]).unwrap();
    assert_eq!((d.shape(), d.stride()), ((0, 5), 5));
}

/// `nrows * ncols` overflows: the error must still be reported, and printed, without a
/// panic.
#[test]
fn dense_length_error_with_overflowing_size_prints_without_panicking() {
    let err = Dense::<f64>::try_from_row_major(usize::MAX, 2, vec![]).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("dense array has 0 values"), "{message}");
}

#[test]
fn error_messages_are_lowercase_without_final_period() {
    let errors = [
        Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2], vec![0, 1], vec![1.0; 2]).unwrap_err(),
        Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 2], vec![0, 1], vec![1.0; 3]).unwrap_err(),
        Csr::<f64, i32>::try_from_parts(1, 3, vec![-1, 2], vec![0, 1], vec![1.0; 2]).unwrap_err(),
        Csr::<f64, i32>::try_from_parts(4, 5, vec![0, 2, 5, 3, 5], vec![0; 5], vec![1.0; 5])
            .unwrap_err(),
        Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 1], vec![0, 1], vec![1.0; 2]).unwrap_err(),
        Csr::<f64, i32>::try_from_parts(1, 3, vec![0, 2], vec![0, 3], vec![1.0; 2]).unwrap_err(),
        Csr::<f64, i32>::try_from_coo(1, 1, &[0], &[1], &[1.0], Duplicates::Sum).unwrap_err(),
        Csr::<f64, i32>::try_from_coo(1, 1, &[0], &[], &[1.0], Duplicates::Sum).unwrap_err(),
        Csr::<f64, i32>::try_from_dense_row_major(1, 1, &[]).unwrap_err(),
        Csr::<f64, i32>::empty(I32_LIMIT + 1, 0).unwrap_err(),
        Csr::<f64, usize>::empty(usize::MAX, 0).unwrap_err(),
    ];
    for err in errors {
        let message = err.to_string();
        let first = message.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
    assert_eq!(
        Error::DecreasingRowPtrs {
            row: 2,
            start: 5,
            end: 3
        }
        .to_string(),
        "row_ptrs decreases at row 2: row_ptrs[2] = 5 > row_ptrs[3] = 3"
    );
    assert_eq!(
        Error::ColumnOutOfBounds {
            row: 1,
            pos: 4,
            col: -1,
            ncols: 3
        }
        .to_string(),
        "column index -1 out of bounds at entry 4 (row 1); ncols is 3"
    );
}

/// Every invariant, for every (value, index) type pair.
fn rejects_each_invariant<T: TestScalar, I: TestIndex>() {
    let check = |nrows, ncols, ptrs: &[i64], cols: &[i64], nvalues| {
        verdict::<T, I>(nrows, ncols, &idxs::<I>(ptrs), &idxs::<I>(cols), nvalues)
    };
    assert_eq!(check(2, 3, &[0, 2, 3], &[2, 0, 2], 3), Ok(()));
    assert_eq!(
        check(2, 3, &[0, 3], &[0, 1, 2], 3),
        Err(Error::RowPtrsLength {
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(
        check(2, 3, &[0, 2, 3], &[0, 1, 2], 2),
        Err(Error::ValuesLength {
            col_idxs: 3,
            values: 2
        })
    );
    assert_eq!(
        check(2, 3, &[1, 2, 3], &[0, 1, 2], 3),
        Err(Error::RowPtrsStart { first: 1 })
    );
    assert_eq!(
        check(3, 3, &[0, 2, 1, 3], &[0, 1, 2], 3),
        Err(Error::DecreasingRowPtrs {
            row: 1,
            start: 2,
            end: 1
        })
    );
    assert_eq!(
        check(2, 3, &[0, 1, 2], &[0, 1, 2], 3),
        Err(Error::RowPtrsEnd { last: 2, nnz: 3 })
    );
    assert_eq!(
        check(3, 3, &[0, 1, 1, 3], &[0, 2, 3], 3),
        Err(Error::ColumnOutOfBounds {
            row: 2,
            pos: 2,
            col: 3,
            ncols: 3
        })
    );
    let big = I::MAX_USIZE.saturating_add(1);
    if big > I::MAX_USIZE {
        assert_eq!(
            check(big, 0, &[0], &[], 0),
            Err(Error::IndexTooNarrow {
                extent: Extent::Rows,
                value: big,
                index_type: I::NAME,
                max: I::MAX_USIZE
            })
        );
    }
}

test_all_types!(rejects_each_invariant);

#[test]
fn identity_and_empty_report_unallocatable_sizes_instead_of_panicking() {
    assert!(matches!(
        Csr::<f64, usize>::identity(usize::MAX),
        Err(Error::SizeOverflow { .. })
    ));
    assert!(matches!(
        Csr::<f64, usize>::identity(usize::MAX / 2),
        Err(Error::SizeOverflow { .. })
    ));
    assert!(matches!(
        Csr::<f64, usize>::empty(usize::MAX / 4, 1),
        Err(Error::SizeOverflow { .. })
    ));
}
