//! Native kernel against naive dense computations on small cases.

use super::*;
use crate::Error;
use crate::Extent;
use crate::Strategy;

type M = Csr<f64, i32>;

fn csr(nrows: usize, ncols: usize, ptrs: &[i32], cols: &[i32], vals: &[f64]) -> M {
    Csr::try_from_parts(nrows, ncols, ptrs.to_vec(), cols.to_vec(), vals.to_vec()).unwrap()
}

/// Row-major dense copy, duplicates added.
fn dense(a: &M) -> Vec<f64> {
    let mut d = vec![0.0; a.nrows() * a.ncols()];
    for (r, c, v) in a.iter() {
        d[r * a.ncols() + c] += v;
    }
    d
}

fn dense_product(a: &M, b: &M) -> Vec<f64> {
    let (da, db) = (dense(a), dense(b));
    let (n, k, m) = (a.nrows(), a.ncols(), b.ncols());
    let mut c = vec![0.0; n * m];
    for i in 0..n {
        for l in 0..k {
            for j in 0..m {
                c[i * m + j] += da[i * k + l] * db[l * m + j];
            }
        }
    }
    c
}

/// A pseudo-random matrix with unsorted rows, duplicates, empty rows and one dense row.
fn messy(nrows: usize, ncols: usize, seed: u64) -> M {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as usize
    };
    let (mut ptrs, mut cols, mut vals) = (vec![0i32], Vec::new(), Vec::new());
    for r in 0..nrows {
        let len = if ncols == 0 {
            0
        } else if r == 1 {
            ncols + 2 // dense row with duplicates
        } else {
            next() % 6
        };
        for _ in 0..len {
            cols.push((next() % ncols) as i32);
            vals.push((next() % 7) as f64 - 3.0);
        }
        ptrs.push(cols.len() as i32);
    }
    csr(nrows, ncols, &ptrs, &cols, &vals)
}

fn check_product(a: &M, b: &M) {
    let k = NativeKernel;
    let (ha, hb) = (
        k.to_handle(a.view()).unwrap(),
        k.to_handle(b.view()).unwrap(),
    );
    let hc = k.mult_ab(&ha, &hb).unwrap();
    let c = k.from_handle(&hc).unwrap();
    assert_eq!(c.shape(), (a.nrows(), b.ncols()));
    assert!(c.is_sorted_by_column_index());
    assert!(!c.has_duplicates());
    assert_eq!(dense(&c), dense_product(a, b));
    // The product's handle knows whether it stores a zero.
    let holds_zero = c.values().contains(&0.0);
    assert_eq!(hc.is_known_zero_free(), !holds_zero);
    // The two-phase and one-phase paths (forced) give the same matrix and the same report.
    for limit in [0, usize::MAX] {
        let p =
            spgemm::multiply_with_limit(a.view(), b.view(), None, limit, Order::Sorted).unwrap();
        assert_eq!(p.matrix, c, "one-phase limit {limit}");
        assert_eq!(p.holds_zeros, holds_zero, "one-phase limit {limit}");
    }
    // A·Bᵀ via the cached transpose equals A·(Bᵀ) computed by hand, twice (cache hit).
    let bt = b.transpose();
    let hbt = k.to_handle(bt.view()).unwrap();
    for _ in 0..2 {
        let c2 = k.from_handle(&k.mult_abt(&ha, &hbt).unwrap()).unwrap();
        assert_eq!(c2, c);
    }
    // Unsorted rows: the same entries, only their order within rows may differ.
    let unsorted = k
        .from_handle(&k.mult_ab_unsorted(&ha, &hb).unwrap())
        .unwrap();
    assert_eq!(sorted_copy(&unsorted), c);
    let unsorted_t = k
        .from_handle(&k.mult_abt_unsorted(&ha, &hbt).unwrap())
        .unwrap();
    assert_eq!(sorted_copy(&unsorted_t), c);
}

/// The one-phase limit weighs each row at most `ncols(B)` entries, not its flops: a row of
/// 8 ones times an 8 × 2 matrix of ones is 16 flops but 2 entries, so under a limit of 100
/// bytes (2 entries are 24, 16 would be 192) the product runs in one phase, its buffers
/// reserved for the 2 entries it can hold. Limits of 23 bytes and below take two phases.
#[test]
fn one_phase_limit_counts_a_row_at_most_its_width() {
    let a = csr(1, 8, &[0, 8], &[0, 1, 2, 3, 4, 5, 6, 7], &[1.0; 8]);
    let ptrs: Vec<i32> = (0..=8).map(|r| 2 * r).collect();
    let cols: Vec<i32> = (0..16).map(|e| e % 2).collect();
    let b = csr(8, 2, &ptrs, &cols, &[1.0; 16]);
    let expected = csr(1, 2, &[0, 2], &[0, 1], &[8.0, 8.0]);
    let buffers = |limit| {
        // Fresh workspaces (the spare set's may hold buffers from other products).
        let cache = Mutex::new((0..4).map(|_| Workspace::new()).collect());
        // Two phases keep no dense rows here (a budget of 0): only one phase fills buffers.
        let limits = (limit, 0);
        let p =
            spgemm::multiply_with_limits(a.view(), b.view(), Some(&cache), limits, Order::Sorted)
                .unwrap();
        assert_eq!(p.matrix, expected, "limit {limit}");
        let kept = cache.into_inner().unwrap();
        kept.iter().map(|w| w.out_cols.capacity()).max().unwrap()
    };
    let one_phase = buffers(100);
    assert!(
        (2..16).contains(&one_phase),
        "one phase, room for {one_phase}"
    );
    assert_eq!(buffers(23), 0, "two phases leave no one-phase buffers");
}

/// `m` with each row sorted by column.
fn sorted_copy(m: &M) -> M {
    let mut c = m.clone();
    c.sort_by_column_index();
    c
}

#[test]
fn spgemm_matches_dense_on_messy_shapes() {
    for (n, k, m, seed) in [
        (0, 0, 0, 1),
        (0, 5, 3, 2),
        (4, 0, 3, 3),
        (3, 4, 0, 4),
        (7, 5, 9, 5),
        (20, 20, 20, 6),
        (33, 17, 41, 7),
    ] {
        check_product(&messy(n, k, seed), &messy(k, m, seed + 100));
    }
}

#[test]
fn spgemm_in_parallel_matches_serial() {
    // Big enough to split into many chunks.
    let a = messy(60_000, 3000, 9);
    let b = messy(3000, 5000, 10);
    let k = NativeKernel;
    let (ha, hb) = (
        k.to_handle(a.view()).unwrap(),
        k.to_handle(b.view()).unwrap(),
    );
    let par = k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let ser = pool.install(|| k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap());
    assert_eq!(par, ser);
    let pool3 = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let p3 = pool3.install(|| k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap());
    assert_eq!(par, p3);
    assert!(par.is_sorted_by_column_index());
    // Rows in any order: the same order on every thread count (each row's order is its
    // own accumulator's), the same entries as the sorted product, and really unsorted.
    let unsorted = k
        .from_handle(&k.mult_ab_unsorted(&ha, &hb).unwrap())
        .unwrap();
    let unsorted1 = pool.install(|| {
        k.from_handle(&k.mult_ab_unsorted(&ha, &hb).unwrap())
            .unwrap()
    });
    assert_eq!(unsorted, unsorted1);
    assert_eq!(sorted_copy(&unsorted), par);
    assert!(!unsorted.is_sorted_by_column_index());
    for limit in [0, usize::MAX] {
        let forced =
            spgemm::multiply_with_limit(a.view(), b.view(), None, limit, Order::Sorted).unwrap();
        assert_eq!(forced.matrix, par);
        let forced3 = pool3
            .install(|| spgemm::multiply_with_limit(a.view(), b.view(), None, limit, Order::Sorted))
            .unwrap();
        assert_eq!(forced3.matrix, par);
    }
}

#[test]
fn spgemm_keeps_explicit_zeros_from_cancellation() {
    // [1 1] · [[1], [-1]] = [0], stored.
    let a = csr(1, 2, &[0, 2], &[1, 0], &[1.0, 1.0]);
    let b = csr(2, 1, &[0, 1, 2], &[0, 0], &[1.0, -1.0]);
    let k = NativeKernel;
    let (ha, hb) = (
        k.to_handle(a.view()).unwrap(),
        k.to_handle(b.view()).unwrap(),
    );
    let c = k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap();
    assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, 0, 0.0)]);
    // The row is dense (2 flops, 1 column) and no product is zero: its column is found by
    // the -0.0 it started from, and the cancelled sum is +0.0, not taken for untouched.
    assert!(spgemm::sentinel_applies(a.view(), b.view()));
    assert_eq!(c.values()[0].to_bits(), 0.0f64.to_bits());
}

#[test]
fn dense_rows_skip_markers_only_where_no_product_can_be_zero() {
    let m = |vals: &[f64]| csr(1, 2, &[0, 2], &[0, 1], vals);
    let ones = m(&[1.0, 2.0]);
    assert!(spgemm::sentinel_applies(ones.view(), ones.view()));
    assert!(
        spgemm::sentinel_applies(m(&[f64::NAN, -3.0]).view(), ones.view()),
        "NaN is not zero"
    );
    assert!(
        !spgemm::sentinel_applies(m(&[0.0, 2.0]).view(), ones.view()),
        "a stored zero"
    );
    assert!(
        !spgemm::sentinel_applies(m(&[-0.0, 2.0]).view(), ones.view()),
        "a stored -0.0"
    );
    let tiny = m(&[1e-200, 2.0]);
    assert!(
        !spgemm::sentinel_applies(tiny.view(), tiny.view()),
        "1e-200² underflows to 0"
    );
    let small = m(&[1e-300_f64.sqrt(), 2.0]);
    assert!(
        spgemm::sentinel_applies(small.view(), small.view()),
        "1e-300 is not zero"
    );
    let z = Csr::<crate::Complex<f64>, i32>::try_from_parts(
        1,
        1,
        vec![0, 1],
        vec![0],
        vec![crate::Complex::new(1.0, 1.0)],
    )
    .unwrap();
    assert!(
        !spgemm::sentinel_applies(z.view(), z.view()),
        "complex products: parts can be 0"
    );
    // A product of tiny values: dense rows keep their markers and every sum.
    let c = spgemm::multiply(
        tiny.view(),
        csr(2, 1, &[0, 1, 2], &[0, 0], &[1e-200, 1e-200]).view(),
        "t",
        None,
        Order::Sorted,
    )
    .unwrap()
    .matrix;
    assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, 0, 2e-200)]);
}

/// `A·B` by the reference kernel.
fn reference_product(a: &M, b: &M) -> M {
    let r = crate::kernel::ReferenceKernel;
    let (ha, hb) = (
        r.to_handle(a.view()).unwrap(),
        r.to_handle(b.view()).unwrap(),
    );
    r.from_handle(&r.mult_ab(&ha, &hb).unwrap()).unwrap()
}

/// `A·B` in one phase and in two (forced) equals `expected` bit for bit; with rows in any
/// order, it does once each row is sorted.
fn assert_both_paths_give_bits(a: &M, b: &M, expected: &M) {
    let bits = |m: &M| m.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for (limit, order) in [usize::MAX, 0]
        .into_iter()
        .flat_map(|l| [Order::Sorted, Order::Any].map(|o| (l, o)))
    {
        let c = spgemm::multiply_with_limit(a.view(), b.view(), None, limit, order)
            .unwrap()
            .matrix;
        let c = sorted_copy(&c);
        let what = format!("one-phase limit {limit}, {order:?}");
        assert_eq!(c.row_ptrs(), expected.row_ptrs(), "{what}");
        assert_eq!(c.col_idxs(), expected.col_idxs(), "{what}");
        assert_eq!(bits(&c), bits(expected), "{what}");
    }
}

#[test]
fn spgemm_rows_on_both_sides_of_the_scan_threshold_match_the_reference_bit_for_bit() {
    // B: 512 columns (8 blocks of the masked scan), row l holds l + 1 columns spread over
    // them; A's row r picks row r of B and, from r = 12 on, row (r + 7) % 48 as well. Output
    // rows run from 1 to 96 columns, so some sort (fewer than 512 / SCAN_FOR_ORDER_RATIO)
    // and others scan, in the one-phase path and (rows summed densely when they scan) the
    // two-phase one.
    const NCOLS: usize = 512;
    let (mut bp, mut bc, mut bv) = (vec![0i32], vec![], vec![]);
    for l in 0..48usize {
        let mut cols: Vec<i32> = (0..=l)
            .map(|i| ((i * 37 + l * 11) % NCOLS) as i32)
            .collect();
        cols.sort_unstable();
        cols.dedup();
        bv.extend(
            cols.iter()
                .map(|&c| 0.1 + f64::from(c) / 7.0 - l as f64 / 13.0),
        );
        bc.extend(cols);
        bp.push(bc.len() as i32);
    }
    let b = csr(48, NCOLS, &bp, &bc, &bv);
    let (mut ap, mut ac, mut av) = (vec![0i32], vec![], vec![]);
    for r in 0..48usize {
        ac.push(r as i32);
        av.push(1.0 / (r as f64 + 3.0));
        if r >= 12 {
            ac.push(((r + 7) % 48) as i32);
            av.push(-0.3 * r as f64);
        }
        ap.push(ac.len() as i32);
    }
    let a = csr(48, 48, &ap, &ac, &av);
    let expected = reference_product(&a, &b);
    let lens: Vec<usize> = expected.row_lengths().collect();
    let scans = NCOLS / spgemm::SCAN_FOR_ORDER_RATIO;
    assert!(lens.iter().filter(|&&n| n > 1 && n < scans).count() > 5);
    assert!(lens.iter().filter(|&&n| n >= scans).count() > 5);
    assert_both_paths_give_bits(&a, &b, &expected);
}

#[test]
fn single_entry_rows_copy_sorted_rows_of_b_and_sum_the_others() {
    // B's rows: strictly increasing (copied straight out when A's row holds one entry),
    // unsorted, sorted with a duplicate, empty, and one whose product is -0.0 (summed from
    // zero: +0.0). A's rows pick each of them alone, and two of them together.
    let b = csr(
        5,
        9,
        &[0, 4, 7, 10, 10, 12],
        &[0, 2, 5, 8, 6, 1, 3, 4, 4, 7, 0, 8],
        &[
            1.5, -2.0, 0.25, 3.0, 1.0, 2.0, -1.0, 0.5, 0.75, 4.0, 0.0, 2.5,
        ],
    );
    let a = csr(
        7,
        5,
        &[0, 1, 2, 3, 4, 5, 7, 7],
        &[0, 1, 2, 3, 4, 0, 2],
        &[2.0, -3.0, 0.5, 1.0, -1.0, 1.0, 2.0],
    );
    let expected = reference_product(&a, &b);
    assert_eq!(expected.row(0).0, &[0, 2, 5, 8]);
    assert_eq!(expected.row(2).0, &[4, 7], "the duplicate is summed");
    assert_eq!(expected.row(4), (&[0, 8][..], &[0.0, -2.5][..]));
    assert_both_paths_give_bits(&a, &b, &expected);
}

/// Two phases sum the dense rows in their symbolic pass and keep them for the numeric one,
/// within a byte budget that runs out partway through a chunk (budgets from none to all,
/// on 4 threads, several chunks): whatever the budget, the product is the reference
/// kernel's bit for bit, with the same zero report, rows sorted or not, with stored zeros
/// (markers) and without (rows found by the -0.0 they start from).
#[test]
fn two_phases_keep_dense_rows_within_any_budget() {
    let bits = |m: &M| m.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .expect("pool");
    for zeros in [true, false] {
        let mut a = messy(30_000, 400, 11);
        let mut b = messy(400, 8, 12);
        if !zeros {
            for v in a.values_mut().iter_mut().chain(b.values_mut()) {
                if *v == 0.0 {
                    *v = 1.5;
                }
            }
        }
        assert_eq!(spgemm::sentinel_applies(a.view(), b.view()), !zeros);
        let expected = reference_product(&a, &b);
        let (work, chunks) = spgemm::plan(a.view(), b.view());
        let dense_rows = work
            .windows(2)
            .filter(|w| spgemm::is_dense(w[1] - w[0] - 1, 8))
            .count();
        assert!(chunks.len() > 1 && (1000..29_000).contains(&dense_rows));
        for budget in [0, 1 << 10, 16 << 10, 64 << 10, usize::MAX] {
            for order in [Order::Sorted, Order::Any] {
                let p = pool.install(|| {
                    spgemm::multiply_with_limits(a.view(), b.view(), None, (0, budget), order)
                });
                let p = p.unwrap();
                let what = format!("budget {budget}, {order:?}, zeros {zeros}");
                let c = sorted_copy(&p.matrix);
                assert_eq!(c.row_ptrs(), expected.row_ptrs(), "{what}");
                assert_eq!(c.col_idxs(), expected.col_idxs(), "{what}");
                assert_eq!(bits(&c), bits(&expected), "{what}");
                assert_eq!(p.holds_zeros, expected.values().contains(&0.0), "{what}");
            }
        }
    }
}

#[test]
fn spgemm_sums_from_zero_like_the_reference() {
    // Row 0: a lone product -1 · 0 = -0.0; row 1: -0.0 + -0.0. Summed from +0.0 (as the
    // reference kernel and SpMV do), both are +0.0.
    let a = csr(2, 2, &[0, 1, 3], &[0, 0, 1], &[-1.0, -1.0, 1.0]);
    let b = csr(2, 1, &[0, 1, 2], &[0, 0], &[0.0, -0.0]);
    let expected = reference_product(&a, &b);
    let bits = |m: &M| m.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&expected), vec![0.0f64.to_bits(); 2]);
    for limit in [usize::MAX, 0] {
        // One pass and two passes, rows sorted or not (few products: no accumulator); all
        // report the zeros they wrote.
        for order in [Order::Sorted, Order::Any] {
            let p = spgemm::multiply_with_limit(a.view(), b.view(), None, limit, order).unwrap();
            let what = format!("one-phase limit {limit}, {order:?}");
            assert_eq!(bits(&p.matrix), bits(&expected), "{what}");
            assert!(p.holds_zeros, "{what}");
        }
    }
}

#[test]
fn spgemm_rejects_mismatched_shapes() {
    let a = messy(3, 4, 1);
    let b = messy(5, 2, 2);
    let k = NativeKernel;
    let (ha, hb) = (
        k.to_handle(a.view()).unwrap(),
        k.to_handle(b.view()).unwrap(),
    );
    assert!(matches!(
        k.mult_ab(&ha, &hb),
        Err(Error::DimensionMismatch {
            op: "mult_ab",
            lhs: (3, 4),
            rhs: (5, 2)
        })
    ));
    assert!(matches!(
        k.mult_abt(&ha, &hb),
        Err(Error::DimensionMismatch {
            op: "mult_abt",
            lhs: (3, 4),
            rhs: (5, 2)
        })
    ));
}

#[test]
fn index_overflow_is_a_typed_error() {
    let err = crate::error::check_fits::<i32>(Extent::Nnz, 1 << 31).unwrap_err();
    assert!(matches!(
        err,
        Error::IndexTooNarrow {
            extent: Extent::Nnz,
            ..
        }
    ));
}

fn naive_mult_vec(a: &M, alpha: f64, x: &[f64], beta: f64, y: &[f64]) -> Vec<f64> {
    (0..a.nrows())
        .map(|r| {
            let (c, v) = a.row(r);
            let s: f64 = c
                .iter()
                .zip(v)
                .fold(0.0, |s, (&c, &v)| s + v * x[c as usize]);
            if beta == 0.0 {
                alpha * s
            } else {
                alpha * s + beta * y[r]
            }
        })
        .collect()
}

#[test]
fn spmv_matches_naive_and_ignores_y_when_beta_is_zero() {
    for (n, m, seed) in [
        (0, 0, 1),
        (0, 4, 2),
        (5, 0, 3),
        (9, 7, 4),
        (150_000, 3000, 5),
    ] {
        let a = messy(n, m, seed);
        let x: Vec<f64> = (0..m).map(|i| (i % 13) as f64 - 6.0).collect();
        let k = NativeKernel;
        let h = k.to_handle(a.view()).unwrap();
        let mut y = vec![f64::NAN; n];
        k.mult_vec(&h, 2.0, &x, 0.0, &mut y).unwrap();
        assert_eq!(y, naive_mult_vec(&a, 2.0, &x, 0.0, &[]));
        let old = y.clone();
        k.mult_vec(&h, -1.0, &x, 0.5, &mut y).unwrap();
        assert_eq!(y, naive_mult_vec(&a, -1.0, &x, 0.5, &old));
    }
}

#[test]
fn spmv_rejects_wrong_lengths() {
    let a = messy(3, 4, 1);
    let k = NativeKernel;
    let h = k.to_handle(a.view()).unwrap();
    let mut y = vec![0.0; 3];
    assert!(matches!(
        k.mult_vec(&h, 1.0, &[0.0; 3], 0.0, &mut y),
        Err(Error::DimensionMismatch { op: "mult_vec", .. })
    ));
    assert!(matches!(
        k.mult_vec(&h, 1.0, &[0.0; 4], 0.0, &mut y[..2]),
        Err(Error::DimensionMismatch { op: "mult_vec", .. })
    ));
}

#[test]
fn spmm_matches_columnwise_spmv() {
    for (n, m, kk, seed) in [
        (0, 3, 2, 1),
        (6, 5, 3, 2),
        (4, 4, 0, 3),
        (80_000, 500, 3, 4),
    ] {
        let a = messy(n, m, seed);
        let k = NativeKernel;
        let h = k.to_handle(a.view()).unwrap();
        let xv: Vec<f64> = (0..m * kk).map(|i| (i % 11) as f64 - 5.0).collect();
        let x = Dense::try_from_row_major(m, kk, xv.clone()).unwrap();
        let y0: Vec<f64> = (0..n * kk).map(|i| (i % 3) as f64).collect();
        let mut y = Dense::try_from_row_major(n, kk, y0.clone()).unwrap();
        k.mult_dense(&h, 1.5, &x, 2.0, &mut y).unwrap();
        for j in 0..kk {
            let xj: Vec<f64> = (0..m).map(|i| xv[i * kk + j]).collect();
            let yj: Vec<f64> = (0..n).map(|i| y0[i * kk + j]).collect();
            let want = naive_mult_vec(&a, 1.5, &xj, 2.0, &yj);
            let got: Vec<f64> = (0..n).map(|i| y.get(i, j).unwrap()).collect();
            assert_eq!(got, want);
        }
        let mut nan = Dense::try_from_row_major(n, kk, vec![f64::NAN; n * kk]).unwrap();
        k.mult_dense(&h, 1.0, &x, 0.0, &mut nan).unwrap();
        assert!(nan.to_row_major_vec().iter().all(|v| !v.is_nan()));
    }
    let a = messy(3, 4, 1);
    let k = NativeKernel;
    let h = k.to_handle(a.view()).unwrap();
    let x = Dense::zeros(3, 2).unwrap();
    let mut y = Dense::zeros(3, 2).unwrap();
    assert!(matches!(
        k.mult_dense(&h, 1.0, &x, 0.0, &mut y),
        Err(Error::DimensionMismatch {
            op: "mult_dense",
            ..
        })
    ));
}

#[test]
fn order_columns_sorts_and_keeps_spmv_working() {
    let a = messy(50, 30, 3);
    let k = NativeKernel;
    let mut h = k.to_handle(a.view()).unwrap();
    k.order_columns(&mut h).unwrap();
    let s = k.from_handle(&h).unwrap();
    assert!(s.is_sorted_by_column_index());
    assert_eq!(dense(&s), dense(&a));
    let x = vec![1.0; 30];
    let mut y = vec![0.0; 50];
    k.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
    let want = naive_mult_vec(&s, 1.0, &x, 0.0, &[]);
    assert_eq!(y, want);
}

#[test]
fn kept_workspaces_serve_products_of_other_widths() {
    // B (20 x 45) is the right operand of A·B (45 columns) and of C·Bᵀ (20 columns).
    let a = messy(30, 20, 11);
    let b = messy(20, 45, 12);
    let c = messy(25, 45, 13);
    let k = NativeKernel;
    let (ha, hb, hc) = (
        k.to_handle(a.view()).unwrap(),
        k.to_handle(b.view()).unwrap(),
        k.to_handle(c.view()).unwrap(),
    );
    for _ in 0..2 {
        let ab = k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap();
        assert_eq!(dense(&ab), dense_product(&a, &b));
        let cbt = k.from_handle(&k.mult_abt(&hc, &hb).unwrap()).unwrap();
        assert_eq!(dense(&cbt), dense_product(&c, &b.transpose()));
    }
}

#[test]
fn products_through_handles_made_for_them_match_the_reference_across_widths() {
    // Each product's handles are dropped after it: the next product's workspaces come from
    // the spare set, left by a product of another width (or another thread's test).
    let k = NativeKernel;
    for (seed, ncols) in [(21, 4000), (22, 30), (23, 4000), (24, 700), (25, 30)] {
        let a = messy(60, 50, seed);
        let b = messy(50, ncols, seed + 100);
        let c = {
            let (ha, hb) = (
                k.to_handle(a.view()).unwrap(),
                k.to_handle(b.view()).unwrap(),
            );
            k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap()
        };
        assert_eq!(c, reference_product(&a, &b), "B with {ncols} columns");
    }
}

/// `load_balance` on a rating-like matrix (a few long, nearly dense rows, then thousands of
/// short scattered ones: blocks of equal entries and unequal cost) on 4 threads: up to 8
/// blocks per thread covering the rows in order, and every row the reference kernel's bits,
/// the long rows through the gathering loops included; the one-call product the same.
#[test]
fn load_balance_blocks_per_thread_keep_the_reference_bits() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        let (nrows, ncols) = (6_000, 40_000);
        let mut next = crate::test_rng::xorshift(17);
        let (mut ptrs, mut cols, mut vals) = (vec![0i32], Vec::new(), Vec::new());
        for r in 0..nrows {
            // Rows 0..8 hold most columns; the rest 5 to 60 entries.
            let len = if r < 8 {
                ncols - 3 * r
            } else {
                5 + (next() % 56) as usize
            };
            for e in 0..len {
                let c = if r < 8 {
                    e
                } else {
                    (next() % ncols as u64) as usize
                };
                cols.push(c as i32);
                vals.push(((next() % 2001) as f64 - 1000.0) * 1e-3);
            }
            ptrs.push(cols.len() as i32);
        }
        let a = csr(nrows, ncols, &ptrs, &cols, &vals);
        let bounds = rows::balanced_blocks(a.row_ptrs());
        assert!(
            (5..=33).contains(&bounds.len()),
            "{} blocks",
            bounds.len() - 1
        );
        assert!(bounds.first() == Some(&0) && bounds.last() == Some(&nrows));
        assert!(bounds.windows(2).all(|w| w[0] <= w[1]));
        // Below two pieces of parallel work: one block.
        let small: Vec<i32> = (0..=10_000).map(|r| 5 * r).collect();
        assert_eq!(rows::balanced_blocks(&small), vec![0, 10_000]);

        let x: Vec<f64> = (0..ncols)
            .map(|j| ((j * 37) % 101) as f64 / 7.0 - 7.0)
            .collect();
        let reference = crate::kernel::ReferenceKernel.to_handle(a.view()).unwrap();
        let mut want = vec![0.0; nrows];
        crate::kernel::ReferenceKernel
            .mult_vec(&reference, 1.0, &x, 0.0, &mut want)
            .unwrap();
        let h = NativeKernel
            .to_handle(a.view().with_strategy(crate::Strategy::LoadBalance))
            .unwrap();
        let mut y = vec![f64::NAN; nrows];
        NativeKernel.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&y), bits(&want));
        let once = NativeKernel::mult_vec_parts_to_vec(nrows, ncols, &ptrs, &cols, &vals, &x);
        assert_eq!(bits(&once.unwrap()), bits(&want));
    });
}

/// `mult_vec_parts` on many row blocks: the product of `load_balance` on a valid matrix,
/// and the first bad column (not the first block to fail) on an invalid one.
#[test]
fn mult_vec_parts_in_parallel_reports_the_first_bad_column() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        let a = messy(200_000, 3_000, 7);
        let (nrows, ncols) = a.shape();
        let x: Vec<f64> = (0..ncols).map(|j| (j % 17) as f64 - 8.0).collect();
        let mut y = vec![f64::NAN; nrows];
        NativeKernel::mult_vec_parts(
            nrows,
            ncols,
            a.row_ptrs(),
            a.col_idxs(),
            a.values(),
            2.0,
            &x,
            0.0,
            &mut y,
        )
        .unwrap();
        let h = NativeKernel
            .to_handle(a.view().with_strategy(crate::Strategy::LoadBalance))
            .unwrap();
        let mut want = vec![0.0; nrows];
        NativeKernel.mult_vec(&h, 2.0, &x, 0.0, &mut want).unwrap();
        assert_eq!(y, want);

        // Bad columns in the last and in the second quarter of the entries.
        let mut cols = a.col_idxs().to_vec();
        let (late, early) = (cols.len() - 10, cols.len() / 4 + 3);
        cols[late] = -1;
        cols[early] = ncols as i32;
        let err = NativeKernel::mult_vec_parts(
            nrows,
            ncols,
            a.row_ptrs(),
            &cols,
            a.values(),
            1.0,
            &x,
            0.0,
            &mut y,
        );
        assert_eq!(
            err,
            CsrRef::try_from_parts(nrows, ncols, a.row_ptrs(), &cols, a.values()).map(drop)
        );
        assert!(matches!(err, Err(Error::ColumnOutOfBounds { pos, .. }) if pos == early));
    });
}

/// `mult_vec_parts` and `mult_vec_parts_to_vec` on many row blocks whose row pointers go
/// wrong between a first 0 and a last nnz: a decrease, a pointer past nnz then back, a
/// negative one, each early, in the middle and late; the error is `try_from_parts`'s, never
/// a panic or a read out of bounds.
#[test]
fn mult_vec_parts_in_parallel_reports_the_first_bad_row_pointer() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        let a = messy(200_000, 3_000, 7);
        let (nrows, ncols) = a.shape();
        let nnz = a.nnz() as i32;
        let x = vec![1.0; ncols];
        for row in [1, nrows / 3, nrows / 2 + 17, nrows - 2] {
            let faults: [fn(&mut [i32], usize, i32); 4] = [
                |p, row, _| p[row] = p[row + 1] + 1,
                |p, row, nnz| p[row] = nnz + 5,
                |p, row, _| p[row] = -3,
                |p, row, _| p[row] = i32::MIN,
            ];
            for fault in faults {
                let mut ptrs = a.row_ptrs().to_vec();
                fault(&mut ptrs, row, nnz);
                let want =
                    CsrRef::try_from_parts(nrows, ncols, &ptrs, a.col_idxs(), a.values()).map(drop);
                assert!(want.is_err(), "row {row}");
                let mut y = vec![0.0; nrows];
                let got = NativeKernel::mult_vec_parts(
                    nrows,
                    ncols,
                    &ptrs,
                    a.col_idxs(),
                    a.values(),
                    1.0,
                    &x,
                    0.0,
                    &mut y,
                );
                assert_eq!(got, want, "row {row}");
                let got = NativeKernel::mult_vec_parts_to_vec(
                    nrows,
                    ncols,
                    &ptrs,
                    a.col_idxs(),
                    a.values(),
                    &x,
                );
                assert_eq!(got.map(drop), want, "row {row}");
            }
        }
    });
}

/// Rows accumulated by sorting their products equal the workspace accumulators' rows bit
/// for bit (columns in order, sums from zero in the same order), cancellations and signed
/// zeros included.
#[test]
fn sorted_rows_equal_the_workspace_rows() {
    let a = messy(60, 45, 11);
    let mut b = messy(45, 70, 12);
    // Signed zeros and exact cancellations.
    for (k, v) in b.values_mut().iter_mut().enumerate() {
        match k % 7 {
            0 => *v = -0.0,
            1 => *v = -*v,
            _ => {}
        }
    }
    let full = NativeKernel
        .from_handle(
            &NativeKernel
                .mult_ab(
                    &NativeKernel.to_handle(a.view()).unwrap(),
                    &NativeKernel.to_handle(b.view()).unwrap(),
                )
                .unwrap(),
        )
        .unwrap();
    let mut pairs = Vec::new();
    for r in 0..a.nrows() {
        spgemm::sorted_row(a.view(), b.view(), r, &mut pairs);
        let (cols, vals) = full.row(r);
        assert_eq!(
            pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
            cols,
            "row {r}"
        );
        let bits = |v: &mut dyn Iterator<Item = f64>| v.map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(
            bits(&mut pairs.iter().map(|p| p.1)),
            bits(&mut vals.iter().copied()),
            "row {r}"
        );
    }
}

/// A handle says its SpMV runs serially (on the calling thread, no rayon call) exactly when
/// its plan is made and holds one row block: below two pieces of parallel work, for the row
/// loops and `compressed`; never for `merge_path` or `tiled`, nor before a product's plan
/// is made. The one-call product says so below two pieces and below the rows that the
/// row-pointer check takes in parallel.
#[test]
fn serial_spmv_is_reported_where_one_block_runs() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    pool.install(|| {
        // Tridiagonal: work = 4 · nrows - 2.
        let band = |n: usize| {
            let (mut ptrs, mut cols) = (vec![0i32], Vec::new());
            for r in 0..n {
                cols.extend((r.saturating_sub(1)..(r + 2).min(n)).map(|c| c as i32));
                ptrs.push(cols.len() as i32);
            }
            let vals: Vec<f64> = (0..cols.len()).map(|k| 1.0 + k as f64).collect();
            csr(n, n, &ptrs, &cols, &vals)
        };
        let serial = |a: &M, s: Strategy| {
            let h = NativeKernel.to_handle(a.view().with_strategy(s)).unwrap();
            h.spmv_runs_serially()
        };
        let small = band(20_000); // 79 998: one piece of two.
        let large = band(40_000); // 159 998: two pieces.
        for s in [
            Strategy::Automatic,
            Strategy::Classical,
            Strategy::LoadBalance,
        ] {
            assert!(serial(&small, s), "{s:?}");
            assert!(!serial(&large, s), "{s:?}");
        }
        assert!(serial(&small, Strategy::Compressed));
        assert!(!serial(&large, Strategy::Compressed));
        assert!(!serial(&small, Strategy::MergePath));
        assert!(!serial(&small, Strategy::Tiled));
        // A product's handle plans on its first SpMV.
        let h = NativeKernel.to_handle(small.view()).unwrap();
        let p = NativeKernel.mult_ab(&h, &h).unwrap();
        assert!(!p.spmv_runs_serially());
        let x = vec![1.0; small.ncols()];
        let mut y = vec![0.0; small.nrows()];
        NativeKernel.mult_vec(&p, 1.0, &x, 0.0, &mut y).unwrap();
        assert!(p.spmv_runs_serially());

        assert!(NativeKernel::one_call_runs_serially(20_000, 59_998));
        assert!(!NativeKernel::one_call_runs_serially(40_000, 119_998));
        assert!(!NativeKernel::one_call_runs_serially(70_000, 10));
    });
}

/// Row-block SpMV run from threads outside the pool under `joined::with_helpers` (the
/// caller taking blocks beside the workers) equals the reference kernel bit for bit, on a
/// handle (`classical`, `load_balance`: both report that they join the caller; the
/// others do not) and in one call, from several callers at once, on pools of 1–3 threads.
#[test]
fn row_block_spmv_with_the_caller_joining_equals_the_reference() {
    // 3000 rows of 0–400 entries over 60 000 columns: 16 load_balance blocks on 2 threads.
    let (nrows, ncols) = (3000usize, 60_000usize);
    let mut next = crate::test_rng::xorshift(11);
    let mut below = |n: usize| (next() % n as u64) as usize;
    let (mut ptrs, mut cols, mut vals) = (vec![0i32], Vec::new(), Vec::new());
    for _ in 0..nrows {
        let len = below(400);
        let mut row: Vec<i32> = (0..len).map(|_| below(ncols) as i32).collect();
        row.sort_unstable();
        row.dedup();
        vals.extend(row.iter().map(|&c| f64::from(c % 97) * 0.37 - 11.0));
        cols.extend(row);
        ptrs.push(cols.len() as i32);
    }
    let a = csr(nrows, ncols, &ptrs, &cols, &vals);
    let x: Vec<f64> = (0..ncols).map(|i| (i as f64 * 0.61).sin()).collect();
    let reference = crate::kernel::ReferenceKernel;
    let rh = reference.to_handle(a.view()).unwrap();
    let mut expected = vec![0.0; nrows];
    reference
        .mult_vec(&rh, 1.0, &x, 0.0, &mut expected)
        .unwrap();
    for threads in 1..=3 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for s in [
            Strategy::Classical,
            Strategy::LoadBalance,
            Strategy::MergePath,
        ] {
            let h = pool.install(|| NativeKernel.to_handle(a.view().with_strategy(s)).unwrap());
            assert_eq!(h.spmv_joins_caller(), s != Strategy::MergePath, "{s:?}");
            std::thread::scope(|scope| {
                for _ in 0..3 {
                    scope.spawn(|| {
                        crate::joined::with_helpers(&pool, || {
                            let mut y = vec![0.0; nrows];
                            NativeKernel.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
                            assert!(
                                y.iter()
                                    .zip(&expected)
                                    .all(|(a, b)| a.to_bits() == b.to_bits())
                            );
                            let mut once = vec![std::mem::MaybeUninit::uninit(); nrows];
                            NativeKernel::mult_vec_parts_uninit(
                                nrows,
                                ncols,
                                (&ptrs, &cols, &vals),
                                &x,
                                &mut once,
                            )
                            .unwrap();
                            // SAFETY: the product succeeded, so it wrote every slot.
                            let once: Vec<f64> =
                                once.iter().map(|v| unsafe { v.assume_init() }).collect();
                            assert_eq!(once, y);
                        });
                    });
                }
            });
        }
    }
    assert!(NativeKernel::one_call_joins_caller(nrows));
    assert!(!NativeKernel::one_call_joins_caller(70_000));
}
