//! SpMV strategies (issue 5): every [`Strategy`] of the native kernel against the reference
//! kernel, for `mult_vec` and `mult_dense`, on random matrices (small ones, and ones
//! stretched past the size where work is split, with and without one very long row), on
//! every real matrix of the shared corpus, under pools of 1, 2, 3 and 7 threads, with empty
//! matrices, more threads than rows, one row holding every entry, and alpha/beta
//! combinations (beta = 0 ignores NaN in y).
//!
//! Generated values are small integers, so every sum is exact in any order: there every
//! strategy, `merge_path` included, must match the reference bit for bit. On real matrices
//! (random real x), the strategies that sum each row left to right in storage order
//! (`classical`, `load_balance`, and `automatic` when it picks one of them) must still be
//! bit-identical to the reference; `merge_path`, which adds the pieces of split rows
//! afterwards, must be close to it and bit-identical to itself under every pool.
//!
//! `sparselib` either matches the reference or reports [`Error::KernelUnavailable`] for
//! the MKL kernel.

use csr::kernel::{Kernel, NativeKernel, ReferenceKernel};
use csr::{Complex, Csr, Dense, Error, Index, Scalar, Strategy};
use csr_testkit::{
    NaiveCsr, SplitMix64, TestIndex, TestScalar, arb_csr, assert_slices_close, big_csr,
    test_all_types,
};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

use crate::kernels::{assert_bits_eq, assert_within_rounding, nan, zero};
use crate::mm_support::RealMatrix;
use crate::threads::in_pool;

/// The rayon pool sizes every parallel check runs under.
const POOLS: [usize; 4] = [1, 2, 3, 7];

/// Work (entries + rows) a stretched matrix reaches: well past the 65 536 below which
/// everything runs serially, so row blocks and merge-path tiles are really split.
const STRETCHED_WORK: usize = 140_000;

/// A native handle of `a` with `strategy`; checks what the handle reports.
fn handle<'a, T: Scalar, I: Index>(
    a: &'a Csr<T, I>,
    strategy: Strategy,
) -> csr::kernel::Handle<'a, T, I> {
    let h = NativeKernel
        .to_handle(a.view().with_strategy(strategy))
        .unwrap();
    let resolved = h.strategy().expect("native handles report their strategy");
    if strategy == Strategy::Automatic {
        assert_ne!(resolved, Strategy::Automatic, "automatic must resolve");
    } else {
        assert_eq!(resolved, strategy);
        assert_eq!(h.strategy_reason(), Some("requested"));
    }
    h
}

/// The result of an operation, or `None` if it is `sparselib` and MKL is unavailable.
///
/// # Panics
/// On any other error.
#[track_caller]
fn ran<X>(strategy: Strategy, result: Result<X, Error>) -> Option<X> {
    match result {
        Ok(x) => Some(x),
        Err(Error::KernelUnavailable { kernel, reason }) if strategy == Strategy::Sparselib => {
            assert_eq!(kernel, "mkl");
            assert!(reason.contains("sparselib"), "reason: {reason}");
            None
        }
        Err(e) => panic!("{strategy} failed: {e}"),
    }
}

/// `alpha * A * x + beta * y0` by the reference kernel.
fn reference_vec<T: Scalar, I: Index>(
    a: &Csr<T, I>,
    alpha: T,
    x: &[T],
    beta: T,
    y0: &[T],
) -> Vec<T> {
    let r = ReferenceKernel;
    let h = Kernel::<T, I>::to_handle(&r, a.view()).unwrap();
    let mut y = y0.to_vec();
    r.mult_vec(&h, alpha, x, beta, &mut y).unwrap();
    y
}

/// `alpha * A * x + beta * y0` by the native kernel with `strategy` (`None`: sparselib
/// unavailable).
fn native_vec<T: Scalar, I: Index>(
    a: &Csr<T, I>,
    strategy: Strategy,
    alpha: T,
    x: &[T],
    beta: T,
    y0: &[T],
) -> Option<Vec<T>> {
    let h = handle(a, strategy);
    let mut y = y0.to_vec();
    ran(strategy, NativeKernel.mult_vec(&h, alpha, x, beta, &mut y)).map(|()| y)
}

/// `alpha * A * X + beta * Y0` by the native kernel with `strategy`, as a row-major vector.
fn native_dense<T: TestScalar, I: Index>(
    a: &Csr<T, I>,
    strategy: Strategy,
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y0: &Dense<T>,
) -> Option<Vec<T>> {
    let h = handle(a, strategy);
    let mut y = y0.clone();
    let storage = y.values().as_ptr();
    ran(
        strategy,
        NativeKernel.mult_dense(&h, alpha, x, beta, &mut y),
    )
    .map(|()| {
        // Written in place: same storage, same stride, padding untouched.
        assert_eq!(y.shape(), y0.shape());
        assert_eq!(
            (y.stride(), y.values().as_ptr()),
            (y0.stride(), storage),
            "{strategy}: Y replaced"
        );
        let padding = |d: &Dense<T>| -> Vec<T> {
            d.values()
                .chunks(d.stride().max(1))
                .flat_map(|row| row[d.ncols()..].to_vec())
                .collect()
        };
        assert_bits_eq(
            &padding(&y),
            &padding(y0),
            &format!("{strategy}: padding of Y"),
        );
        y.to_row_major_vec()
    })
}

/// Exact results of `strategy` against the reference's: bit for bit, except `sparselib`
/// (MKL sums in its own order: equal values, but `-0.0` may come out as `0.0`).
#[track_caller]
fn assert_strategy_eq<T: TestScalar>(strategy: Strategy, actual: &[T], expected: &[T], what: &str) {
    if strategy == Strategy::Sparselib {
        assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
        if let Some(k) = (0..actual.len()).find(|&k| actual[k] != expected[k]) {
            panic!(
                "{what}: position {k} differs: {:?} vs {:?}",
                actual[k], expected[k]
            );
        }
    } else {
        assert_bits_eq(actual, expected, what);
    }
}

/// Every strategy's `mult_vec` (under every pool) and `mult_dense` with k = 3 (under pools
/// of 2 and 7 threads, to keep debug-build test time down) equal the reference bit for bit
/// (exact sums: small-integer values).
fn check_exact<T: TestScalar, I: TestIndex>(a: &Csr<T, I>, alpha: T, beta: T, seed: u64) {
    let (nrows, ncols) = a.shape();
    let mut rng = SplitMix64(seed);
    let mut small = |n: usize| -> Vec<T> {
        (0..n)
            .map(|_| T::from_re_im(rng.below(9) as f64 - 4.0, rng.below(9) as f64 - 4.0))
            .collect()
    };
    let x = small(ncols);
    let y0 = if beta == zero() {
        vec![nan::<T>(); nrows]
    } else {
        small(nrows)
    };
    let expected = reference_vec(a, alpha, &x, beta, &y0);
    let k = 3;
    let xd = Dense::try_from_row_major(ncols, k, small(ncols * k)).unwrap();
    // A padded Y (stride k + 2), which every kernel must write in place.
    let yd0 = Dense::try_from_parts(nrows, k, k + 2, small(nrows * (k + 2))).unwrap();
    let r = ReferenceKernel;
    let mut expected_d = yd0.clone();
    r.mult_dense(
        &Kernel::<T, I>::to_handle(&r, a.view()).unwrap(),
        alpha,
        &xd,
        beta,
        &mut expected_d,
    )
    .unwrap();
    let expected_d = expected_d.to_row_major_vec();
    for threads in POOLS {
        in_pool(threads, || {
            for s in Strategy::ALL {
                let what = format!("{s}, {threads} threads, {nrows}x{ncols}, nnz {}", a.nnz());
                if let Some(y) = native_vec(a, s, alpha, &x, beta, &y0) {
                    assert_strategy_eq(s, &y, &expected, &format!("mult_vec {what}"));
                }
                if threads % 2 == 1 && threads != 7 {
                    continue;
                }
                if let Some(y) = native_dense(a, s, alpha, &xd, beta, &yd0) {
                    assert_strategy_eq(s, &y, &expected_d, &format!("mult_dense {what}"));
                }
            }
        });
    }
}

/// `src`'s rows repeated (in order, cycled) until the matrix holds about
/// [`STRETCHED_WORK`] entries + rows; with `long`, one row in the middle holds `long`
/// copies of `src`'s entries. Unsorted rows, duplicates and explicit zeros carry over.
fn stretch<T: TestScalar, I: TestIndex>(src: &Csr<T, I>, long: usize) -> Csr<T, I> {
    let naive = NaiveCsr::from_csr(src);
    let per_row = (src.nnz() + src.nrows()).max(1) as f64 / src.nrows().max(1) as f64;
    let nrows = if src.nrows() == 0 {
        0
    } else {
        (STRETCHED_WORK as f64 / per_row) as usize
    };
    let mut rows: Vec<Vec<(usize, T)>> = (0..nrows)
        .map(|r| naive.rows[r % naive.nrows].clone())
        .collect();
    if long > 0 && nrows > 0 {
        let all: Vec<(usize, T)> = naive.rows.iter().flatten().copied().collect();
        rows[nrows / 2] = all.iter().copied().cycle().take(all.len() * long).collect();
    }
    NaiveCsr {
        nrows,
        ncols: naive.ncols,
        rows,
    }
    .to_csr()
}

fn arb_scale<T: TestScalar>() -> BoxedStrategy<T> {
    prop_oneof![1 => Just(zero::<T>()), 1 => Just(T::from_re_im(1.0, 0.0)), 3 => T::arb_value()]
        .boxed()
}

/// Small random matrices (serial in every strategy), every type pair.
fn small_matrices_match_the_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(24);
    let case = (
        arb_csr::<T, I>(16, 16, 80),
        arb_scale::<T>(),
        arb_scale::<T>(),
        any::<u64>(),
    );
    proptest!(config, |((a, alpha, beta, seed) in case)| {
        check_exact(&a, alpha, beta, seed);
    });
}

test_all_types!(small_matrices_match_the_reference);

/// Random matrices stretched past the parallel threshold, some with one row of up to
/// ~20 000 entries (split by merge_path), for three type pairs.
fn stretched_matrices_match_the_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(8);
    let case = (
        arb_csr::<T, I>(16, 16, 80),
        prop_oneof![Just(0_usize), Just(1), 1_usize..250],
        arb_scale::<T>(),
        arb_scale::<T>(),
        any::<u64>(),
    );
    proptest!(config, |((a, long, alpha, beta, seed) in case)| {
        check_exact(&stretch(&a, long), alpha, beta, seed);
    });
}

#[test]
fn stretched_f64_i32() {
    stretched_matrices_match_the_reference::<f64, i32>();
}

#[test]
fn stretched_f32_i64() {
    stretched_matrices_match_the_reference::<f32, i64>();
}

/// A matrix made of segments of rows that share one pattern of column offsets from the
/// row (what `compressed` encodes: stencils and bands), in storage order and possibly
/// unsorted or repeated; entries that would fall outside the matrix are dropped, which breaks
/// the pattern at the edges as in a real stencil, and now and then a row is random. Up to
/// `max_rows` rows, so large cases are split into several row blocks.
fn patterned<T: TestScalar, I: TestIndex>(seed: u64, max_rows: usize) -> Csr<T, I> {
    let mut rng = SplitMix64(seed);
    let nrows = rng.below(max_rows + 1);
    let ncols = (nrows + rng.below(8)).saturating_sub(rng.below(8));
    let mut rows = Vec::with_capacity(nrows);
    let value =
        |rng: &mut SplitMix64| T::from_re_im(rng.below(9) as f64 - 4.0, rng.below(9) as f64 - 4.0);
    while rows.len() < nrows {
        // Mostly short patterns (unrolled loops), sometimes long ones (the generic loop).
        let len = if rng.below(8) == 0 {
            9 + rng.below(12)
        } else {
            rng.below(9)
        };
        let pattern: Vec<isize> = (0..len).map(|_| rng.below(13) as isize - 6).collect();
        let longest = if rng.below(4) == 0 { 5000 } else { 40 };
        let segment = 1 + rng.below(longest);
        for _ in 0..segment.min(nrows - rows.len()) {
            let r = rows.len();
            let row: Vec<(usize, T)> = if rng.below(50) == 0 {
                (0..rng.below(6))
                    .map(|_| (rng.below(ncols.max(1)), value(&mut rng)))
                    .filter(|_| ncols > 0)
                    .collect()
            } else {
                pattern
                    .iter()
                    .filter_map(|&o| r.checked_add_signed(o).filter(|&c| c < ncols))
                    .map(|c| (c, value(&mut rng)))
                    .collect()
            };
            rows.push(row);
        }
    }
    NaiveCsr { nrows, ncols, rows }.to_csr()
}

/// Matrices of shared-offset row runs (the `compressed` encoding's pattern runs, clipped
/// at row-block boundaries once they are large) against the reference, every strategy.
fn patterned_matrices_match_the_reference<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(12);
    let case = (
        prop_oneof![Just(200_usize), Just(40_000)],
        arb_scale::<T>(),
        arb_scale::<T>(),
        any::<u64>(),
    );
    proptest!(config, |((max_rows, alpha, beta, seed) in case)| {
        check_exact(&patterned::<T, I>(seed, max_rows), alpha, beta, seed);
    });
}

#[test]
fn patterned_f64_i32() {
    patterned_matrices_match_the_reference::<f64, i32>();
}

#[test]
fn patterned_c64_i64() {
    patterned_matrices_match_the_reference::<Complex<f64>, i64>();
}

/// `rows` rows of 1 to `max_len` entries with random columns below `ncols`.
fn scattered(seed: u64, rows: usize, ncols: usize, max_len: usize) -> Csr<f64, i32> {
    let mut rng = SplitMix64(seed);
    let rows: Vec<Vec<(usize, f64)>> = (0..rows)
        .map(|_| {
            (0..1 + rng.below(max_len))
                .map(|_| (rng.below(ncols), rng.below(9) as f64 - 4.0))
                .collect()
        })
        .collect();
    from_rows(ncols, rows)
}

/// Every strategy matches the reference on `a` (exactly: small integer values), and on 2
/// threads `automatic` picks `picked` with a reason ending in `why_ends`.
fn check_scattered(a: &Csr<f64, i32>, picked: Strategy, why_ends: &str) {
    check_exact(a, 1.5, 0.0, 4);
    check_exact(a, -1.0, 0.5, 5);
    in_pool(2, || {
        let h = handle(a, Strategy::Automatic);
        assert_eq!(h.strategy(), Some(picked));
        let why = h.strategy_reason().unwrap();
        assert!(why.ends_with(why_ends), "{why}");
    });
}

/// Scattered columns (most entries far from their row) over an `x` of 17.6 MB, too few per
/// tile for `tiled` (one entry per row: 0.25 per cache line of x in a tile): the row loops
/// prefetch `x`, and every strategy still matches the reference bit for bit.
#[test]
fn scattered_columns_match_the_reference() {
    let a = scattered(11, 140_000, 2_200_000, 1);
    check_scattered(&a, Strategy::LoadBalance, "scattered columns: x prefetched");
}

/// Scattered columns dense enough per tile (3 entries per cache line of x): `automatic`
/// picks `tiled`, which, on these sorted rows, matches the reference bit for bit like every
/// other strategy, over two bands of rows.
#[test]
fn dense_scattered_columns_pick_tiled() {
    let a = scattered(12, 140_000, 1_100_000, 11);
    check_scattered(&a, Strategy::Tiled, "tiles keep x in the L2 cache");
}

/// `tiled` on a matrix too wide to tile (2^32 columns, 64-bit indices) runs `load_balance`
/// and says why, instead of allocating gigabytes of per-tile counters.
#[test]
fn too_wide_for_tiles_falls_back_to_load_balance() {
    let a = Csr::<f64, i64>::empty(3, 1 << 32)
        .unwrap()
        .with_strategy(Strategy::Tiled);
    let h = NativeKernel.to_handle(a.view()).unwrap();
    assert_eq!(h.strategy(), Some(Strategy::LoadBalance));
    assert!(h.strategy_reason().unwrap().contains("tiles per band"));
}

/// A matrix from explicit rows of `(column, value)`.
fn from_rows(ncols: usize, rows: Vec<Vec<(usize, f64)>>) -> Csr<f64, i32> {
    NaiveCsr {
        nrows: rows.len(),
        ncols,
        rows,
    }
    .to_csr()
}

#[test]
fn empty_matrices() {
    for (nrows, ncols) in [(0, 0), (0, 5), (5, 0), (5, 5), (140_000, 3)] {
        let a = Csr::<f64, i32>::empty(nrows, ncols).unwrap();
        check_exact(&a, 2.0, if nrows == 5 { 0.0 } else { 0.5 }, 1);
    }
}

#[test]
fn one_row_holds_every_entry() {
    let mut rng = SplitMix64(7);
    for (nrows, len) in [(1, 10), (1, 150_000), (1000, 150_000)] {
        let ncols = 5000;
        let mut rows = vec![Vec::new(); nrows];
        rows[nrows / 3] = (0..len)
            .map(|_| (rng.below(ncols), rng.below(9) as f64 - 4.0))
            .collect();
        let a = from_rows(ncols, rows);
        check_exact(&a, 1.0, 0.0, 2);
        check_exact(&a, -1.5, 2.0, 3);
    }
}

#[test]
fn more_threads_than_rows() {
    // 3 rows of 40 000 entries: 7 threads get empty row blocks, merge_path splits rows.
    let mut rng = SplitMix64(8);
    let rows = (0..3)
        .map(|_| {
            (0..40_000)
                .map(|_| (rng.below(100), rng.below(9) as f64 - 4.0))
                .collect()
        })
        .collect();
    let a = from_rows(100, rows);
    check_exact(&a, 1.0, 0.0, 4);
    let tiny = from_rows(4, vec![vec![(0, 1.0), (3, 2.0)], vec![], vec![(1, -1.0)]]);
    check_exact(&tiny, 1.0, 1.0, 5);
}

#[test]
fn alpha_beta_combinations() {
    let a = big_csr::<Complex<f64>, i32>(20_000, 20_000, 120_000, 31);
    let c = |re: f64, im: f64| Complex::new(re, im);
    for (alpha, beta) in [
        (c(0.0, 0.0), c(1.0, 0.0)),
        (c(1.0, 0.0), c(0.0, 0.0)),
        (c(1.0, 0.0), c(1.0, 0.0)),
        (c(-2.5, 1.0), c(-0.5, 2.0)),
    ] {
        check_exact(&a, alpha, beta, 6);
    }
}

#[test]
fn beta_zero_ignores_nan_and_infinity_in_y() {
    let a = big_csr::<f64, i64>(30_000, 30_000, 120_000, 32);
    let x = vec![1.0; a.ncols()];
    let y0: Vec<f64> = (0..a.nrows())
        .map(|i| if i % 2 == 0 { f64::NAN } else { f64::INFINITY })
        .collect();
    for threads in [1, 2] {
        in_pool(threads, || {
            for s in Strategy::ALL {
                if let Some(y) = native_vec(&a, s, 1.0, &x, 0.0, &y0) {
                    assert!(y.iter().all(|v| v.is_finite()), "{s}: y not clean");
                }
            }
        });
    }
}

/// Rows summed in the same order give the same bits: with random real values (sums not
/// exact), `classical`, `load_balance` and `automatic` equal the reference bit for bit under
/// every pool; `merge_path` is close to it and identical to itself under every pool.
#[test]
fn same_order_same_bits() {
    let mut a = big_csr::<f64, i32>(60_000, 40_000, 400_000, 33);
    let mut rng = SplitMix64(34);
    let mut real = || (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64 - 0.5;
    a.values_mut().iter_mut().for_each(|v| *v = real());
    let x: Vec<f64> = (0..a.ncols()).map(|_| real()).collect();
    let y0: Vec<f64> = (0..a.nrows()).map(|_| real()).collect();
    let expected = reference_vec(&a, 1.5, &x, -0.5, &y0);
    let longest = a.row_lengths().max().unwrap_or(0);
    let mut merge: Option<Vec<f64>> = None;
    for threads in POOLS {
        in_pool(threads, || {
            for s in [
                Strategy::Classical,
                Strategy::LoadBalance,
                Strategy::Automatic,
            ] {
                let h = handle(&a, s);
                let mut y = y0.clone();
                NativeKernel.mult_vec(&h, 1.5, &x, -0.5, &mut y).unwrap();
                if h.strategy() != Some(Strategy::MergePath) {
                    assert_bits_eq(&y, &expected, &format!("{s}, {threads} threads"));
                }
            }
            let y = native_vec(&a, Strategy::MergePath, 1.5, &x, -0.5, &y0).unwrap();
            assert_slices_close(&y, &expected, longest);
            match &merge {
                Some(first) => assert_bits_eq(&y, first, &format!("merge_path, {threads} threads")),
                None => merge = Some(y),
            }
        });
    }
}

/// The strategy travels with the matrix: clones, views and handles carry it; equality
/// ignores it.
#[test]
fn strategy_travels_with_the_matrix() {
    let mut a = big_csr::<f64, i32>(1000, 1000, 5000, 35);
    assert_eq!(a.strategy(), Strategy::Automatic);
    a.set_strategy(Strategy::MergePath);
    let b = a.clone();
    assert_eq!(b.strategy(), Strategy::MergePath);
    assert_eq!(b.view().strategy(), Strategy::MergePath);
    assert_eq!(b.view().to_csr().strategy(), Strategy::MergePath);
    assert_eq!(
        handle(&b, b.strategy()).strategy(),
        Some(Strategy::MergePath)
    );
    let h = NativeKernel.to_handle(b.view()).unwrap();
    assert_eq!(h.strategy(), Some(Strategy::MergePath));
    let c = b.clone().with_strategy(Strategy::Classical);
    assert_eq!(c, a, "equality ignores the strategy");
    assert_eq!(c.view().with_strategy(Strategy::LoadBalance), a.view());
    // The reference kernel has no strategies.
    let r = Kernel::<f64, i32>::to_handle(&ReferenceKernel, a.view()).unwrap();
    assert_eq!(r.strategy(), None);
}

/// A 90 000-row 2D Poisson matrix (5 entries per row at most).
fn poisson() -> Csr<f64, i32> {
    let g: csr::generate::Generator = "poisson2d:300".parse().unwrap();
    g.build(1).unwrap()
}

/// `automatic` runs small matrices serially, splits long rows, compresses stencils and
/// balances the rest.
#[test]
fn automatic_choices() {
    let small = big_csr::<f64, i32>(100, 100, 2000, 36);
    let h = handle(&small, Strategy::Automatic);
    assert_eq!(h.strategy(), Some(Strategy::Classical));
    assert!(h.strategy_reason().unwrap().contains("serial"));
    let mut rows = vec![vec![(0, 1.0)]; 50_000];
    rows[10] = (0..100_000).map(|c| (c % 1000, 1.0)).collect();
    let skewed = from_rows(1000, rows);
    in_pool(2, || {
        let h = handle(&skewed, Strategy::Automatic);
        assert_eq!(
            h.strategy(),
            Some(Strategy::MergePath),
            "{:?}",
            h.strategy_reason()
        );
        let stencil = poisson();
        let h = handle(&stencil, Strategy::Automatic);
        assert_eq!(h.strategy(), Some(Strategy::Compressed));
        assert!(h.strategy_reason().unwrap().contains("runs of rows"));
        // Random columns repeat no pattern.
        let random = big_csr::<f64, i32>(100_000, 1000, 600_000, 7);
        assert_eq!(
            handle(&random, Strategy::Automatic).strategy(),
            Some(Strategy::LoadBalance)
        );
    });
    in_pool(1, || {
        // The same choice on one thread, so results do not depend on the pool.
        assert_eq!(
            handle(&skewed, Strategy::Automatic).strategy(),
            Some(Strategy::MergePath)
        );
        assert_eq!(
            handle(&poisson(), Strategy::Automatic).strategy(),
            Some(Strategy::Compressed)
        );
    });
}

/// Every strategy's SpMV on one real matrix against the reference (see the module docs).
fn check_real<T: TestScalar>(name: &str, a: &Csr<T, i64>) {
    let mut rng = SplitMix64(0x5eed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64 * 2.0 - 1.0;
    let x: Vec<T> = (0..a.ncols()).map(|_| T::from_re_im(u(), u())).collect();
    let y0: Vec<T> = (0..a.nrows()).map(|_| T::from_re_im(u(), u())).collect();
    let (alpha, beta) = (T::from_re_im(1.0, 0.0), T::from_re_im(0.5, 0.0));
    let expected = reference_vec(a, alpha, &x, beta, &y0);
    let longest = a.row_lengths().max().unwrap_or(0);
    for threads in [1, 3] {
        in_pool(threads, || {
            for s in Strategy::ALL {
                let Some(y) = native_vec(a, s, alpha, &x, beta, &y0) else {
                    continue;
                };
                let what = format!("{name}: {s}, {threads} threads");
                let resolved = handle(a, s).strategy();
                // MKL's own order; or tiled's rows of 16 entries or more, summed left to
                // right where the reference uses 8 partial sums.
                if resolved == Some(Strategy::Sparselib)
                    || (resolved == Some(Strategy::Tiled) && longest >= 16)
                {
                    let beta_y0 = |r: usize| 0.5 * y0[r].to_c64().norm();
                    assert_within_rounding(a, &x, (&y, &expected), beta_y0, &what);
                } else if resolved == Some(Strategy::MergePath) {
                    assert_slices_close(&y, &expected, longest + 1);
                } else {
                    assert_bits_eq(&y, &expected, &what);
                }
            }
        });
    }
}

#[test]
fn real_matrices_match_the_reference() {
    crate::mm_support::for_each_real_matrix(
        "real_matrices_match_the_reference",
        |name, a| match a {
            RealMatrix::Real(a) => check_real(name, &a),
            RealMatrix::Complex(a) => check_real(name, &a),
        },
    );
}
