//! Sortedness and duplicate checks, and in-place cleanup: sort by column, sum duplicates,
//! eliminate zeros (short rows take the insertion sort, long ones the scratch sort).

use csr::{Complex, Csr, CsrPattern};
use csr_testkit::{
    NaiveCsr, SplitMix64, TestIndex, TestScalar, idxs, test_all_index_types, test_all_types, vals,
};

fn matrix(nrows: usize, ncols: usize, ptrs: &[i32], cols: &[i32], values: &[f64]) -> Csr<f64, i32> {
    Csr::try_from_parts(nrows, ncols, ptrs.to_vec(), cols.to_vec(), values.to_vec()).unwrap()
}

#[test]
fn sort_moves_values_with_columns_and_keeps_duplicate_order() {
    let mut a = matrix(
        3,
        4,
        &[0, 4, 4, 7],
        &[3, 1, 3, 0, 2, 2, 1],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    );
    assert!(!a.is_sorted_by_column_index());
    a.sort_by_column_index();
    assert!(a.is_sorted_by_column_index());
    assert_eq!(a.row_ptrs(), &[0, 4, 4, 7]);
    assert_eq!(a.col_idxs(), &[0, 1, 3, 3, 1, 2, 2]);
    assert_eq!(a.values(), &[4.0, 2.0, 1.0, 3.0, 7.0, 5.0, 6.0]);
}

#[test]
fn sort_of_long_rows_is_stable() {
    // 200 entries in one row, columns from a small range so many repeat: the scratch path.
    let mut rng = SplitMix64(7);
    let cols: Vec<i32> = (0..200)
        .map(|_| i32::try_from(rng.below(20)).unwrap())
        .collect();
    let values: Vec<f64> = (0..200).map(f64::from).collect();
    let mut a = matrix(2, 20, &[0, 0, 200], &cols, &values);
    let expected = NaiveCsr::from_csr(&a).sorted();
    a.sort_by_column_index();
    assert_eq!(NaiveCsr::from_csr(&a), expected);
    // Within a run of equal columns, values (the input positions) increase.
    let (c, v) = a.row(1);
    for k in 1..c.len() {
        if c[k] == c[k - 1] {
            assert!(v[k] > v[k - 1]);
        }
    }
}

#[test]
fn sorted_input_is_left_alone() {
    let mut a = matrix(2, 3, &[0, 2, 3], &[0, 2, 1], &[1.0, 2.0, 3.0]);
    let before = a.clone();
    assert!(a.is_sorted_by_column_index());
    a.sort_by_column_index();
    assert_eq!(a, before);
}

#[test]
fn duplicates_count_as_sorted_and_are_detected_in_unsorted_rows() {
    let a = matrix(1, 3, &[0, 3], &[0, 1, 1], &[1.0; 3]);
    assert!(a.is_sorted_by_column_index());
    assert!(a.has_duplicates());
    let b = matrix(2, 3, &[0, 1, 4], &[2, 2, 0, 2], &[1.0; 4]);
    assert!(!b.is_sorted_by_column_index());
    assert!(b.has_duplicates());
    let c = matrix(2, 3, &[0, 2, 4], &[2, 0, 0, 2], &[1.0; 4]);
    assert!(!c.has_duplicates());
    // The same column in different rows is no duplicate.
    assert!(!c.view().has_duplicates());
    assert!(!c.view().is_sorted_by_column_index());
}

#[test]
fn sum_duplicates_sorts_and_merges_in_storage_order() {
    let mut a = matrix(
        2,
        3,
        &[0, 4, 6],
        &[2, 0, 2, 2, 1, 1],
        &[1.0, 2.0, 3.0, -4.0, 5.0, -5.0],
    );
    a.sum_duplicates();
    assert_eq!(a.row_ptrs(), &[0, 2, 3]);
    assert_eq!(a.col_idxs(), &[0, 2, 1]);
    assert_eq!(a.values(), &[2.0, 0.0, 0.0]);
    assert!(a.is_sorted_by_column_index());
    assert!(!a.has_duplicates());
}

#[test]
fn sum_duplicates_without_duplicates_only_sorts() {
    let mut a = matrix(2, 3, &[0, 2, 3], &[2, 0, 1], &[1.0, 2.0, 3.0]);
    a.sum_duplicates();
    assert_eq!(a.col_idxs(), &[0, 2, 1]);
    assert_eq!(a.values(), &[2.0, 1.0, 3.0]);
}

#[test]
fn eliminate_zeros_removes_exactly_the_zeros() {
    let mut a = matrix(
        3,
        3,
        &[0, 3, 4, 6],
        &[2, 0, 1, 1, 0, 2],
        &[0.0, 5.0, -0.0, 0.0, 7.0, 8.0],
    );
    a.eliminate_zeros();
    assert_eq!(a.row_ptrs(), &[0, 1, 1, 3]);
    assert_eq!(a.col_idxs(), &[0, 0, 2]);
    assert_eq!(a.values(), &[5.0, 7.0, 8.0]);
}

#[test]
fn eliminate_zeros_keeps_purely_imaginary_values() {
    let z = |re, im| Complex::new(re, im);
    let mut a = Csr::<Complex<f32>, i64>::try_from_parts(
        1,
        4,
        vec![0, 4],
        vec![3, 2, 1, 0],
        vec![z(0.0, 0.0), z(0.0, 1.0), z(-0.0, -0.0), z(2.0, 0.0)],
    )
    .unwrap();
    a.eliminate_zeros();
    assert_eq!(a.col_idxs(), &[2, 0]);
    assert_eq!(a.values(), &[z(0.0, 1.0), z(2.0, 0.0)]);
}

#[test]
fn eliminate_zeros_without_zeros_changes_nothing() {
    let mut a = matrix(2, 3, &[0, 2, 3], &[2, 0, 2], &[1.0, 2.0, 3.0]);
    let before = a.clone();
    a.eliminate_zeros();
    assert_eq!(a, before);
}

/// Cleanup against the naive oracles, for every type pair, on rows shorter and longer than
/// the insertion-sort cut-off.
fn cleanup_matches_naive<T: TestScalar, I: TestIndex>() {
    let mut rng = SplitMix64(11);
    for len in [0_usize, 1, 5, 31, 32, 33, 100] {
        let cols: Vec<i64> = (0..len)
            .map(|_| i64::try_from(rng.below(12)).unwrap())
            .collect();
        let ks: Vec<i64> = (0..len)
            .map(|_| i64::try_from(rng.below(5)).unwrap() - 2)
            .collect();
        let n = i64::try_from(len).unwrap();
        let a = Csr::<T, I>::try_from_parts(3, 12, idxs(&[0, 0, n, n]), idxs(&cols), vals(&ks))
            .unwrap();
        let naive = NaiveCsr::from_csr(&a);
        assert_eq!(a.is_sorted_by_column_index(), naive.is_sorted());
        assert_eq!(a.has_duplicates(), naive.has_duplicates());

        let mut sorted = a.clone();
        sorted.sort_by_column_index();
        assert_eq!(
            NaiveCsr::from_csr(&sorted),
            naive.sorted(),
            "sort, len {len}"
        );

        let mut summed = a.clone();
        summed.sum_duplicates();
        assert_eq!(
            NaiveCsr::from_csr(&summed),
            naive.summed(),
            "sum, len {len}"
        );
        assert!(summed.is_sorted_by_column_index() && !summed.has_duplicates());

        let mut nonzero = a.clone();
        nonzero.eliminate_zeros();
        assert_eq!(
            NaiveCsr::from_csr(&nonzero),
            naive.without_zeros(),
            "zeros, len {len}"
        );
    }
}

test_all_types!(cleanup_matches_naive);

/// Pattern matrices sort and deduplicate; `sum_duplicates` keeps one entry per column.
fn pattern_cleanup<I: TestIndex>() {
    let mut p = CsrPattern::<I>::try_from_parts(
        2,
        4,
        idxs(&[0, 5, 7]),
        idxs(&[3, 1, 3, 0, 1, 2, 2]),
        vec![(); 7],
    )
    .unwrap();
    assert!(p.has_duplicates());
    let mut sorted = p.clone();
    sorted.sort_by_column_index();
    assert_eq!(sorted.col_idxs(), &idxs::<I>(&[0, 1, 1, 3, 3, 2, 2])[..]);
    p.sum_duplicates();
    assert_eq!(p.row_ptrs(), &idxs::<I>(&[0, 3, 4])[..]);
    assert_eq!(p.col_idxs(), &idxs::<I>(&[0, 1, 3, 2])[..]);
    assert_eq!(p.values().len(), 4);
    assert!(!p.has_duplicates());
}

test_all_index_types!(pattern_cleanup);

/// The order checks (one branch-free pass per block of rows) agree with row-by-row checks on
/// random rows: short and long, empty, sorted or not, with and without repeats, and on
/// matrices large enough to be cut into parallel blocks.
#[test]
fn order_checks_agree_with_row_by_row_checks() {
    let mut rng = SplitMix64(7);
    for case in 0..400_usize {
        let nrows = if case.is_multiple_of(50) {
            200_000
        } else {
            (rng.next_u64() % 30) as usize
        };
        let ncols = 1 + (rng.next_u64() % 40) as usize;
        let flavour = rng.next_u64() % 4;
        let mut ptrs = vec![0i32];
        let mut cols = Vec::new();
        for _ in 0..nrows {
            let len = (rng.next_u64() % 7) as usize;
            let mut row: Vec<i32> = (0..len)
                .map(|_| (rng.next_u64() % ncols as u64) as i32)
                .collect();
            match flavour {
                0 => row.sort_unstable(),
                1 => {
                    row.sort_unstable();
                    row.dedup();
                }
                2 if !rng.next_u64().is_multiple_of(1000) => {
                    row.sort_unstable();
                    row.dedup();
                }
                _ => {}
            }
            cols.extend_from_slice(&row);
            ptrs.push(cols.len() as i32);
        }
        let values = vec![1.0; cols.len()];
        let a = matrix(nrows, ncols, &ptrs, &cols, &values);
        let rows = || (0..nrows).map(|r| a.row(r).0);
        let sorted = rows().all(|c| c.is_sorted());
        let strictly = rows().all(|c| c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a.is_sorted_by_column_index(), sorted, "case {case}");
        assert_eq!(a.is_sorted_without_duplicates(), strictly, "case {case}");
        assert_eq!(strictly, sorted && !a.has_duplicates(), "case {case}");
    }
}

/// Wide rows (a large share of the width: the counting sort) and narrow ones (the
/// comparison sort) both sort stably: equal columns keep their order, values move along.
#[test]
fn wide_and_narrow_rows_sort_stably() {
    let mut rng = SplitMix64(11);
    for ncols in [40_usize, 300, 5000] {
        let nrows = 30;
        let mut ptrs = vec![0i32];
        let (mut cols, mut values) = (Vec::new(), Vec::new());
        for r in 0..nrows {
            let len = (rng.next_u64() % (ncols as u64 + 50)) as usize;
            for k in 0..len {
                cols.push((rng.next_u64() % ncols as u64) as i32);
                values.push((r * 100_000 + k) as f64);
            }
            ptrs.push(cols.len() as i32);
        }
        let mut a = matrix(nrows, ncols, &ptrs, &cols, &values);
        a.sort_by_column_index();
        for r in 0..nrows {
            let (s, e) = (ptrs[r] as usize, ptrs[r + 1] as usize);
            let mut expected: Vec<(i32, f64)> = cols[s..e]
                .iter()
                .copied()
                .zip(values[s..e].iter().copied())
                .collect();
            expected.sort_by_key(|p| p.0);
            let (c, v) = a.row(r);
            let got: Vec<(i32, f64)> = c.iter().copied().zip(v.iter().copied()).collect();
            assert_eq!(got, expected, "ncols {ncols}, row {r}");
        }
        let mut summed = matrix(nrows, ncols, &ptrs, &cols, &values);
        summed.sum_duplicates();
        assert_eq!(
            NaiveCsr::from_csr(&summed),
            NaiveCsr::from_csr(&matrix(nrows, ncols, &ptrs, &cols, &values)).summed()
        );
    }
}
