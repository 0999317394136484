//! Results do not depend on the thread count: every parallel operation runs on inputs large
//! enough to be split (up to seven pieces of at least 65 536 entries) under rayon pools of 1,
//! 2, 3 and 7 threads, and must give bit-identical results, which also match the naive
//! oracles. Validation errors must name the same (first) position whatever the split.

use csr::{Csr, CsrRef, Duplicates, Error};
use csr_testkit::{
    NaiveCsr, TestIndex, TestScalar, assert_bit_identical, big_csr, big_triplets, naive_check_parts,
};

const POOLS: [usize; 4] = [1, 2, 3, 7];

/// Enough entries for seven pieces of `MIN_PARALLEL_WORK` (65 536).
const BIG_NNZ: usize = 470_000;

/// Enough entries for three pieces, for the cheaper runs over other type pairs.
const MEDIUM_NNZ: usize = 200_000;

pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Runs `f` under every pool and checks every result equals the one-thread result.
fn same_under_all_pools<R: Send + PartialEq + std::fmt::Debug>(
    what: &str,
    f: impl Fn() -> R + Send + Sync,
) -> R {
    let reference = in_pool(1, &f);
    for threads in &POOLS[1..] {
        let other = in_pool(*threads, &f);
        assert!(
            other == reference,
            "{what}: {threads} threads differ from 1"
        );
    }
    reference
}

/// Matrices, compared value bits included.
fn same_matrix_under_all_pools<T: TestScalar, I: TestIndex>(
    what: &str,
    f: impl Fn() -> Csr<T, I> + Send + Sync,
) -> Csr<T, I> {
    let reference = in_pool(1, &f);
    for threads in &POOLS[1..] {
        let other = in_pool(*threads, &f);
        assert_eq!(
            other.shape(),
            reference.shape(),
            "{what}: {threads} threads"
        );
        assert_bit_identical(&other, &reference);
    }
    reference
}

fn assembly_is_thread_independent<T: TestScalar, I: TestIndex>(nnz: usize, seed: u64) {
    let (nrows, ncols, rows, cols, values) = big_triplets::<T, I>(3_000, 2_500, nnz, seed);
    let naive = NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values);
    let kept = same_matrix_under_all_pools("coo keep", || {
        Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep).unwrap()
    });
    assert_eq!(NaiveCsr::from_csr(&kept), naive);
    let summed = same_matrix_under_all_pools("coo sum", || {
        Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap()
    });
    assert_eq!(NaiveCsr::from_csr(&summed), naive.summed());
}

fn cleanup_and_transpose_are_thread_independent<T: TestScalar, I: TestIndex>(
    nnz: usize,
    seed: u64,
) {
    let a = big_csr::<T, I>(4_000, 3_000, nnz, seed);
    let naive = NaiveCsr::from_csr(&a);
    let flags = same_under_all_pools("checks", || {
        (a.is_sorted_by_column_index(), a.has_duplicates())
    });
    assert_eq!(flags, (naive.is_sorted(), naive.has_duplicates()));
    let sorted = same_matrix_under_all_pools("sort", || {
        let mut s = a.clone();
        s.sort_by_column_index();
        s
    });
    assert_eq!(NaiveCsr::from_csr(&sorted), naive.sorted());
    let sorted_flags = same_under_all_pools("checks after sort", || {
        (sorted.is_sorted_by_column_index(), sorted.has_duplicates())
    });
    assert_eq!(sorted_flags, (true, naive.has_duplicates()));
    let summed = same_matrix_under_all_pools("sum_duplicates", || {
        let mut s = a.clone();
        s.sum_duplicates();
        s
    });
    assert_eq!(NaiveCsr::from_csr(&summed), naive.summed());
    let nonzero = same_matrix_under_all_pools("eliminate_zeros", || {
        let mut s = a.clone();
        s.eliminate_zeros();
        s
    });
    assert_eq!(NaiveCsr::from_csr(&nonzero), naive.without_zeros());
    let t = same_matrix_under_all_pools("transpose", || a.transpose());
    assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
    let tt = same_matrix_under_all_pools("transpose twice", || t.transpose());
    assert_eq!(tt, sorted);
    same_matrix_under_all_pools("validation", || {
        let (nrows, ncols, p, c, v) = a.clone().into_parts();
        Csr::try_from_parts(nrows, ncols, p, c, v).unwrap()
    });
}

#[test]
fn assembly_f64_i32() {
    assembly_is_thread_independent::<f64, i32>(BIG_NNZ, 1);
}

#[test]
fn assembly_c32_i64() {
    assembly_is_thread_independent::<csr::Complex<f32>, i64>(MEDIUM_NNZ, 2);
}

#[test]
fn cleanup_and_transpose_f64_i32() {
    cleanup_and_transpose_are_thread_independent::<f64, i32>(BIG_NNZ, 3);
}

#[test]
fn cleanup_and_transpose_c64_i64() {
    cleanup_and_transpose_are_thread_independent::<csr::Complex<f64>, i64>(MEDIUM_NNZ, 4);
}

#[test]
fn cleanup_and_transpose_f32_u32() {
    cleanup_and_transpose_are_thread_independent::<f32, u32>(MEDIUM_NNZ, 5);
}

#[test]
fn pattern_operations_are_thread_independent() {
    let a = big_csr::<f64, i32>(4_000, 3_000, MEDIUM_NNZ, 6).to_pattern();
    let naive = NaiveCsr::from_csr(&a);
    let sorted = same_under_all_pools("pattern sort", || {
        let mut s = a.clone();
        s.sort_by_column_index();
        s
    });
    assert_eq!(NaiveCsr::from_csr(&sorted), naive.sorted());
    let dedup = same_under_all_pools("pattern dedup", || {
        let mut s = a.clone();
        s.sum_duplicates();
        s
    });
    assert_eq!(NaiveCsr::from_csr(&dedup), naive.summed());
    let t = same_under_all_pools("pattern transpose", || a.transpose());
    assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
}

/// More rows than entries, and more columns than entries: the hypersparse cases that split
/// validation but not the counting sorts.
#[test]
fn hypersparse_inputs_are_thread_independent() {
    let (nrows, ncols, rows, cols, values) = big_triplets::<f64, i64>(200_000, 150_000, 100_000, 7);
    let a = same_matrix_under_all_pools("hypersparse coo", || {
        Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap()
    });
    assert_eq!(
        NaiveCsr::from_csr(&a),
        NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values).summed()
    );
    let t = same_matrix_under_all_pools("hypersparse transpose", || a.transpose());
    assert_eq!(NaiveCsr::from_csr(&t), NaiveCsr::from_csr(&a).transposed());
}

/// Validation splits the arrays too; with several violations the first is named, whatever
/// the thread count.
#[test]
fn validation_names_the_first_violation_under_every_pool() {
    let a = big_csr::<f64, i32>(100_000, 1_000, BIG_NNZ, 8);
    let (nrows, ncols, ptrs, cols, values) = a.into_parts();
    let check = |p: &[i32], c: &[i32]| {
        let expected = naive_check_parts(nrows, ncols, p, c, values.len());
        let got = same_under_all_pools("validation", || {
            CsrRef::try_from_parts(nrows, ncols, p, c, &values).map(drop)
        });
        assert_eq!(got, expected);
        got
    };

    let mut bad_cols = cols.clone();
    bad_cols[420_000] = -1;
    bad_cols[150_001] = 1_000;
    bad_cols[300_000] = i32::MAX;
    let err = check(&ptrs, &bad_cols).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ColumnOutOfBounds {
                pos: 150_001,
                col: 1_000,
                ..
            }
        ),
        "{err:?}"
    );

    let mut bad_ptrs = ptrs.clone();
    bad_ptrs[90_000] = -5;
    bad_ptrs[70_001] = bad_ptrs[70_002] + 1;
    bad_ptrs[20_000] = bad_ptrs[20_001] + 3;
    let err = check(&bad_ptrs, &cols).unwrap_err();
    assert!(
        matches!(err, Error::DecreasingRowPtrs { row: 20_000, .. }),
        "{err:?}"
    );

    let n = i32::try_from(nrows).unwrap();
    let bad_rows: Vec<i32> = (0..BIG_NNZ)
        .map(|k| match k {
            100_000 | 460_000 => n,
            _ => i32::try_from(k % 1_000).unwrap(),
        })
        .collect();
    let some_cols: Vec<i32> = (0..BIG_NNZ)
        .map(|k| i32::try_from(k % 7).unwrap())
        .collect();
    let vals = vec![1.0_f64; BIG_NNZ];
    let err = same_under_all_pools("coo validation", || {
        Csr::try_from_coo(nrows, 7, &bad_rows, &some_cols, &vals, Duplicates::Keep)
    })
    .unwrap_err();
    assert_eq!(
        err,
        Error::EntryOutOfBounds {
            entry: 100_000,
            row: i128::from(n),
            col: i128::from(some_cols[100_000]),
            nrows,
            ncols: 7
        }
    );
}

/// Many keys in a random order, for assembly (keys = rows) and for transposition (keys =
/// columns): the one-level counting sort on several threads (the output is under 32 MB;
/// `ops::bucket`'s unit tests force two levels under several pools), one piece on one; a
/// banded matrix takes the one-level sort through the locality test. All must match the
/// oracle under every pool.
#[test]
fn scattered_counting_sort_matches_oracle_under_all_pools() {
    let (nrows, ncols, rows, cols, values) = big_triplets::<f64, i32>(90_000, 70_000, BIG_NNZ, 11);
    let naive = NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values);
    let kept = same_matrix_under_all_pools("scattered coo keep", || {
        Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep).unwrap()
    });
    assert_eq!(NaiveCsr::from_csr(&kept), naive);
    let summed = same_matrix_under_all_pools("scattered coo sum", || {
        Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap()
    });
    assert_eq!(NaiveCsr::from_csr(&summed), naive.summed());
    let transposed = same_matrix_under_all_pools("scattered transpose", || kept.transpose());
    assert_eq!(NaiveCsr::from_csr(&transposed), naive.transposed());

    let banded: Csr<f64, i32> = "banded:100000:3"
        .parse::<csr::generate::Generator>()
        .unwrap()
        .build(3)
        .unwrap();
    let naive = NaiveCsr::from_csr(&banded);
    let t = same_matrix_under_all_pools("one-level transpose", || banded.transpose());
    assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
}
