//! Transposition: shapes, sorted output, duplicates in input row order, views and patterns,
//! and the transpose of unchecked arrays.

use csr::{Csr, CsrPattern, CsrRef, Error};
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

/// Where [`spread_parts`] puts a row's columns.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Near the diagonal: the one-level counting sort.
    Local,
    /// Spread over all columns, unsorted: the counting sort over scattered keys (or, rows
    /// long, a blocked transpose that finds a row unsorted and gives up).
    Spread,
    /// Spread over all columns, each row sorted, some columns twice in a row: with long
    /// rows and more than 2^14 columns, the transpose by blocks of columns.
    SpreadSorted,
}

/// A `nrows x ncols` matrix of `per_row` entries per row, laid out as `layout` says.
fn spread_parts(nrows: usize, ncols: usize, per_row: usize, layout: Layout) -> Csr<f64, i64> {
    let mut cols = Vec::with_capacity(nrows * per_row);
    for r in 0..nrows {
        let row = (0..per_row).map(|j| match layout {
            Layout::Local => (r * ncols / nrows + j * 3) % ncols,
            Layout::Spread => (r * 7919 + j * 104_729) % ncols,
            Layout::SpreadSorted => (r * 7919 + (j - j % 5 / 4) * 104_729) % ncols,
        });
        let start = cols.len();
        cols.extend(row.map(|c| c as i64));
        if matches!(layout, Layout::SpreadSorted) {
            cols[start..].sort_unstable();
        }
    }
    let ptrs = (0..=nrows).map(|r| (r * per_row) as i64).collect();
    let values = (0..cols.len()).map(|k| k as f64 * 0.5 - 3.0).collect();
    Csr::try_from_parts(nrows, ncols, ptrs, cols, values).unwrap()
}

/// The transpose of unchecked arrays equals the checked transpose and the oracle, on 1 to 4
/// threads, for a small matrix (the one-piece counting sort), a banded one (one level on 2
/// and 4 threads), one with scattered columns over 40k keys (one level too: the output is
/// small; `ops::bucket`'s unit tests force two levels), and long rows over 40k
/// columns, sorted with duplicates (by blocks of columns) or not (the blocked transpose
/// gives up; `ops::column_blocks`' unit test asserts both). A bad column anywhere (first
/// entry, middle, last entry; negative or too large) gives `try_from_parts`'s error, naming
/// the first bad entry.
#[test]
fn transpose_of_unchecked_parts_checks_every_path() {
    let shapes = [
        (50, 40, 3, Layout::Local),
        (40_000, 30_000, 5, Layout::Local),
        (80_000, 40_000, 5, Layout::Spread),
        (400, 40_000, 500, Layout::SpreadSorted),
        (400, 40_000, 500, Layout::Spread),
    ];
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for &(nrows, ncols, per_row, layout) in &shapes {
                let a = spread_parts(nrows, ncols, per_row, layout);
                let (p, c, v) = (a.row_ptrs(), a.col_idxs(), a.values());
                let t = Csr::try_transpose_parts(nrows, ncols, p, c, v).unwrap();
                let at = format!("{nrows}x{ncols} {layout:?} on {threads} threads");
                assert_eq!(t, a.transpose(), "{at}");
                assert_eq!(
                    NaiveCsr::from_csr(&t),
                    NaiveCsr::from_csr(&a).transposed(),
                    "{at}"
                );
                let nnz = c.len();
                for (pos, bad) in [
                    (0, -1),
                    (nnz / 2, ncols as i64),
                    (nnz - 1, i64::MAX),
                    (nnz / 3, -5),
                ] {
                    let mut cols = c.to_vec();
                    cols[pos] = bad;
                    // A second bad entry later: the first must be reported.
                    cols[nnz - 1] = if pos == nnz - 1 {
                        bad
                    } else {
                        ncols as i64 + 1
                    };
                    let want = CsrRef::try_from_parts(nrows, ncols, p, &cols, v).unwrap_err();
                    assert!(matches!(want, Error::ColumnOutOfBounds { pos: at, .. } if at == pos));
                    let got = Csr::try_transpose_parts(nrows, ncols, p, &cols, v).unwrap_err();
                    assert_eq!(got, want, "{nrows}x{ncols}, bad column {bad} at {pos}");
                }
            }
        });
    }
}

/// Row pointers are checked before anything is read through them.
#[test]
fn transpose_of_unchecked_parts_reports_bad_row_pointers() {
    let cols = [0_i32, 1, 2];
    let values = [1.0_f64, 2.0, 3.0];
    for ptrs in [&[0, 2, 1][..], &[1, 2, 3], &[0, 2, 9], &[0, 3]] {
        let want = CsrRef::try_from_parts(2, 3, ptrs, &cols, &values).map(|a| a.transpose());
        assert!(want.is_err());
        assert_eq!(Csr::try_transpose_parts(2, 3, ptrs, &cols, &values), want);
    }
}
