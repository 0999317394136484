//! Top-k products (`mult_ab_topk`, `mult_abt_topk`, `cosine_topk`) and row normalisation.
//!
//! Every kernel against the reference kernel (which sorts each full row) on random
//! matrices (small integer values: many ties, exact sums), the reference against an
//! independent oracle (the full product's rows sorted here), golden cases for ties,
//! thresholds, the diagonal, zeros and non-finite values, every thread count, and the real
//! matrices of the shared corpus.

use csr::kernel::{
    self, Cosine, Kernel, KernelId, MklKernel, NativeKernel, ReferenceKernel, TopK, TopKOrder,
    cosine_topk,
};
use csr::{Complex, Csr, Error, Index, Normalize, Scalar, normalize_rows};
use csr_testkit::{TestIndex, TestScalar, arb_csr, assert_csr_close, big_csr};
use proptest::prelude::*;

use crate::kernels::{in_pool, kernels};
use crate::mm_support::RealMatrix;

/// `kernel`'s top-k product, or `None` if it does not support it (the native and the
/// reference kernels must).
fn topk<T: Scalar, I: Index>(
    kernel: &dyn Kernel<T, I>,
    a: &Csr<T, I>,
    b: &Csr<T, I>,
    transpose_b: bool,
    opts: &TopK<T::Real>,
) -> Option<Csr<T, I>> {
    let ha = kernel.to_handle(a.view()).unwrap();
    let hb = kernel.to_handle(b.view()).unwrap();
    let hc = if transpose_b {
        kernel.mult_abt_topk(&ha, &hb, opts)
    } else {
        kernel.mult_ab_topk(&ha, &hb, opts)
    };
    match hc {
        Ok(h) => Some(kernel.from_handle(&h).unwrap()),
        Err(Error::Unsupported { .. })
            if !matches!(kernel.id(), KernelId::Native | KernelId::Reference) =>
        {
            None
        }
        Err(e) => panic!("{} failed: {e}", kernel.name()),
    }
}

/// The full product of the reference kernel.
fn full<T: Scalar, I: Index>(a: &Csr<T, I>, b: &Csr<T, I>, transpose_b: bool) -> Csr<T, I> {
    let k = ReferenceKernel;
    let ha = Kernel::<T, I>::to_handle(&k, a.view()).unwrap();
    let hb = Kernel::<T, I>::to_handle(&k, b.view()).unwrap();
    let hc = if transpose_b {
        k.mult_abt(&ha, &hb)
    } else {
        k.mult_ab(&ha, &hb)
    };
    k.from_handle(&hc.unwrap()).unwrap()
}

/// The oracle: the full product's rows, candidates kept, sorted by (value desc, column),
/// cut at `k`, re-sorted by column unless value order is asked. Written without the
/// library's selection code.
fn oracle<T: TestScalar, I: TestIndex>(c: &Csr<T, I>, opts: &TopK<f64>) -> Vec<Vec<(usize, T)>> {
    (0..c.nrows())
        .map(|r| {
            let (cols, vals) = c.row(r);
            let mut row: Vec<(usize, T)> = cols
                .iter()
                .map(|c| c.to_usize())
                .zip(vals.iter().copied())
                .filter(|&(j, v)| {
                    let x = v.to_c64().re;
                    !x.is_nan()
                        && opts.threshold.is_none_or(|t| x >= t)
                        && !(opts.exclude_diagonal && j == r)
                })
                .collect();
            row.sort_by(|x, y| {
                let (vx, vy) = (x.1.to_c64().re, y.1.to_c64().re);
                vy.partial_cmp(&vx).unwrap().then(x.0.cmp(&y.0))
            });
            row.truncate(opts.k);
            if opts.order == TopKOrder::ByColumn {
                row.sort_by_key(|e| e.0);
            }
            row
        })
        .collect()
}

fn rows_of<T: Scalar, I: Index>(c: &Csr<T, I>) -> Vec<Vec<(usize, T)>> {
    (0..c.nrows())
        .map(|r| {
            let (cols, vals) = c.row(r);
            cols.iter()
                .map(|c| c.to_usize())
                .zip(vals.iter().copied())
                .collect()
        })
        .collect()
}

/// Options over `f64` as the real type `R` (`f32` or `f64`).
fn with_real<R: Scalar>(opts: &TopK<f64>) -> TopK<R> {
    TopK {
        k: opts.k,
        threshold: opts.threshold.map(|t| R::from_re_im(t, 0.0)),
        exclude_diagonal: opts.exclude_diagonal,
        order: opts.order,
    }
}

/// Every kernel's top-k product equals the oracle's (values exact: small integers).
#[track_caller]
fn check_all<T: TestScalar, I: TestIndex>(
    a: &Csr<T, I>,
    b: &Csr<T, I>,
    transpose_b: bool,
    opts: &TopK<f64>,
) {
    let c = full(a, b, transpose_b);
    let expected = oracle(&c, opts);
    let ropts = with_real::<T::Real>(opts);
    // Selecting from the full product (rows without duplicates) gives the same.
    let selected = kernel::select_topk(c.view(), &ropts).unwrap();
    assert_eq!(rows_of(&selected), expected, "select_topk with {opts:?}");
    for k in kernels::<T, I>() {
        if let Some(c) = topk(k, a, b, transpose_b, &ropts) {
            assert!(
                c.row_lengths().all(|n| n <= opts.k),
                "{}: row over k",
                k.name()
            );
            assert_eq!(
                c.shape(),
                (a.nrows(), if transpose_b { b.nrows() } else { b.ncols() })
            );
            assert_eq!(rows_of(&c), expected, "{} with {opts:?}", k.name());
        }
    }
}

fn arb_opts(max_k: usize) -> impl Strategy<Value = TopK<f64>> {
    (
        0..=max_k,
        prop::option::weighted(0.3, -3_i8..=6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(k, t, diag, by_value)| TopK {
            k,
            threshold: t.map(f64::from),
            exclude_diagonal: diag,
            order: if by_value {
                TopKOrder::ByValueDescending
            } else {
                TopKOrder::ByColumn
            },
        })
}

/// An `nrows × ncols` copy of `src` (rows cycled, columns folded), keeping its awkward
/// properties (unsorted rows, duplicates, explicit zeros).
fn fold<T: Scalar, I: TestIndex>(src: &Csr<T, I>, nrows: usize, ncols: usize) -> Csr<T, I> {
    let mut trip = Vec::new();
    if src.nrows() > 0 && ncols > 0 {
        for r in 0..nrows {
            let (cols, vals) = src.row(r % src.nrows());
            trip.extend(
                cols.iter()
                    .zip(vals)
                    .map(|(c, &v)| (r, c.to_usize() % ncols, v)),
            );
        }
    }
    let mut row_ptrs = vec![I::ZERO; nrows + 1];
    for &(r, _, _) in &trip {
        row_ptrs[r + 1] = I::try_from_usize(row_ptrs[r + 1].to_usize() + 1).unwrap();
    }
    for r in 0..nrows {
        row_ptrs[r + 1] =
            I::try_from_usize(row_ptrs[r + 1].to_usize() + row_ptrs[r].to_usize()).unwrap();
    }
    let cols = trip
        .iter()
        .map(|t| I::try_from_usize(t.1).unwrap())
        .collect();
    let vals = trip.iter().map(|t| t.2).collect();
    Csr::try_from_parts(nrows, ncols, row_ptrs, cols, vals).unwrap()
}

fn topk_matches_the_oracle<T: TestScalar, I: TestIndex>() {
    let config = ProptestConfig::with_cases(64);
    let case = (
        arb_csr::<T, I>(12, 12, 50),
        arb_csr::<T, I>(12, 12, 50),
        arb_opts(14),
    );
    proptest!(config, |((a, b0, opts) in case)| {
        check_all(&a, &fold(&b0, a.ncols(), b0.ncols()), false, &opts);
        check_all(&a, &fold(&b0, b0.nrows(), a.ncols()), true, &opts);
        // A·Aᵀ with one matrix for both operands: the item-item case.
        check_all(&a, &a, true, &opts);
    });
}

#[test]
fn topk_matches_the_oracle_f64_i32() {
    topk_matches_the_oracle::<f64, i32>();
}

#[test]
fn topk_matches_the_oracle_f32_i64() {
    topk_matches_the_oracle::<f32, i64>();
}

#[test]
fn topk_matches_the_oracle_f64_u32() {
    topk_matches_the_oracle::<f64, u32>();
}

/// MKL's top-k products cut `A` into row blocks by the size of their product (here forced
/// small through `max_nnz`) and select each block: the diagonal and the order must not
/// notice the cuts.
#[test]
fn mkl_row_blocks_match_the_oracle() {
    if !crate::mkl::mkl_here("mkl_row_blocks_match_the_oracle") {
        return;
    }
    let config = ProptestConfig::with_cases(48);
    let case = (arb_csr::<f64, i32>(12, 12, 50), 1_usize..30, arb_opts(8));
    proptest!(config, |((a, max_nnz, opts) in case)| {
        let split = MklKernel::new().with_max_nnz(max_nnz);
        let whole = MklKernel::new();
        let expected = oracle(&full(&a, &a, true), &opts);
        if let Ok(ha) = Kernel::<f64, i32>::to_handle(&split, a.view()) {
            let hb = Kernel::<f64, i32>::to_handle(&whole, a.view()).unwrap();
            // A result row longer than max_nnz cannot be an MKL matrix of `split`'s (as for
            // mult_abt): Unsupported, with a reason.
            let c = match split.mult_abt_topk(&ha, &hb, &opts) {
                Ok(c) => split.from_handle(&c).unwrap(),
                Err(Error::Unsupported { reason, .. }) => {
                    prop_assert!(reason.contains("max_nnz"), "{}", reason);
                    return Ok(());
                }
                Err(e) => panic!("{e}"),
            };
            let got: Vec<Vec<usize>> = rows_of(&c).iter().map(|r| r.iter().map(|e| e.0).collect()).collect();
            let want: Vec<Vec<usize>> = expected.iter().map(|r| r.iter().map(|e| e.0).collect()).collect();
            prop_assert_eq!(got, want);
        }
    });
}

/// With `k >= ncols`, no threshold and the diagonal kept, the result is the full product
/// (cancelled entries included as explicit zeros).
#[test]
fn k_at_least_ncols_is_the_full_product() {
    let config = ProptestConfig::with_cases(48);
    let case = (
        arb_csr::<f64, i32>(10, 10, 40),
        arb_csr::<f64, i32>(10, 10, 40),
    );
    proptest!(config, |((a, b0) in case)| {
        let b = fold(&b0, a.ncols(), b0.ncols());
        let expected = full(&a, &b, false);
        for kern in kernels::<f64, i32>() {
            if let Some(c) = topk(kern, &a, &b, false, &TopK::new(b.ncols().max(1))) {
                assert_csr_close(&c, &expected);
            }
        }
    });
}

/// `[[1, 1, 1, 1], [2, 0, 0, 2]]·Bᵀ`-style golden case: ties to the lower column, value
/// order, inclusive threshold, diagonal.
#[test]
fn golden_ties_threshold_and_diagonal() {
    // Row 0 of A·Aᵀ: (0, 4), (1, 4), (2, 0) (1 - 1: cancelled, stored), (3, -4).
    let a = Csr::<f64, i32>::try_from_dense_row_major(
        4,
        4,
        &[
            1.0, 1.0, 1.0, 1.0, //
            2.0, 0.0, 0.0, 2.0, //
            1.0, 0.0, 0.0, -1.0, //
            -1.0, -1.0, -1.0, -1.0,
        ],
    )
    .unwrap();
    let k = NativeKernel;
    let h = k.to_handle(a.view()).unwrap();
    let run = |opts: &TopK<f64>| {
        rows_of(
            &k.from_handle(&k.mult_abt_topk(&h, &h, opts).unwrap())
                .unwrap(),
        )
    };
    assert_eq!(run(&TopK::new(2))[0], vec![(0, 4.0), (1, 4.0)]);
    assert_eq!(
        run(&TopK::new(2).exclude_diagonal(true))[0],
        vec![(1, 4.0), (2, 0.0)]
    );
    assert_eq!(
        run(&TopK::new(4).order(TopKOrder::ByValueDescending))[3],
        vec![(3, 4.0), (2, 0.0), (0, -4.0), (1, -4.0)]
    );
    // Row 1 is [4, 8, 0, -4]: the cancelled 0 is a value like any other.
    assert_eq!(
        run(&TopK::new(3).exclude_diagonal(true))[1],
        vec![(0, 4.0), (2, 0.0), (3, -4.0)]
    );
    assert_eq!(
        run(&TopK::new(4))[1],
        vec![(0, 4.0), (1, 8.0), (2, 0.0), (3, -4.0)]
    );
    assert_eq!(
        run(&TopK::new(4).threshold(0.0))[1],
        vec![(0, 4.0), (1, 8.0), (2, 0.0)]
    );
    assert!(run(&TopK::new(4).threshold(8.5)).iter().all(Vec::is_empty));
    assert!(run(&TopK::new(0)).iter().all(Vec::is_empty));
    assert!(
        run(&TopK::new(3).threshold(f64::NAN))
            .iter()
            .all(Vec::is_empty)
    );
}

/// NaN products are never selected; infinities rank as values; nothing panics; every
/// kernel agrees.
#[test]
fn non_finite_values() {
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let a = Csr::<f64, i64>::try_from_dense_row_major(
        3,
        3,
        &[
            1.0, nan, 0.0, //
            inf, 1.0, -inf, //
            0.0, 0.0, 2.0,
        ],
    )
    .unwrap();
    let b = Csr::<f64, i64>::identity(3).unwrap();
    for opts in [
        TopK::new(3),
        TopK::new(1),
        TopK::new(3).threshold(-inf),
        TopK::new(2).order(TopKOrder::ByValueDescending),
    ] {
        check_all(&a, &b, false, &opts);
        check_all(&a, &a, true, &opts);
    }
    let c = topk(
        &NativeKernel,
        &a,
        &b,
        false,
        &TopK::new(3).order(TopKOrder::ByValueDescending),
    )
    .unwrap();
    assert_eq!(rows_of(&c)[0], vec![(0, 1.0)]);
    assert_eq!(rows_of(&c)[1], vec![(0, inf), (1, 1.0), (2, -inf)]);
    // Row 0 of A·Aᵀ holds NaN everywhere it is stored (1·inf + nan·1 ...): nothing kept.
    let s = topk(&NativeKernel, &a, &a, true, &TopK::new(3)).unwrap();
    assert!(s.values().iter().all(|v| !v.is_nan()));
}

#[test]
fn complex_values_are_unsupported() {
    let a = Csr::<Complex<f64>, i32>::identity(2).unwrap();
    for k in kernels::<Complex<f64>, i32>() {
        let h = k.to_handle(a.view()).unwrap();
        assert!(matches!(
            k.mult_abt_topk(&h, &h, &TopK::new(1)),
            Err(Error::Unsupported {
                op: "mult_abt_topk",
                ..
            })
        ));
    }
    let opts = Cosine {
        topk: TopK::new(1),
        center: false,
    };
    assert!(matches!(
        cosine_topk(&NativeKernel, a.view(), &opts),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn shape_errors_name_the_operation() {
    let a = Csr::<f64, i32>::empty(2, 3).unwrap();
    let b = Csr::<f64, i32>::empty(2, 4).unwrap();
    for k in kernels::<f64, i32>() {
        let (ha, hb) = (
            k.to_handle(a.view()).unwrap(),
            k.to_handle(b.view()).unwrap(),
        );
        assert!(matches!(
            k.mult_ab_topk(&ha, &hb, &TopK::new(1)),
            Err(Error::DimensionMismatch {
                op: "mult_ab_topk",
                lhs: (2, 3),
                rhs: (2, 4)
            })
        ));
        assert!(matches!(
            k.mult_abt_topk(&ha, &hb, &TopK::new(1)),
            Err(Error::DimensionMismatch {
                op: "mult_abt_topk",
                ..
            })
        ));
    }
}

/// Under pools of 1, 2, 3 and 8 threads, on inputs large enough to be split, the native
/// result is bit-identical to the single-threaded one and equals the reference.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let a = big_csr::<f64, i32>(3_000, 2_000, 30_000, 21);
    let b = big_csr::<f64, i32>(2_500, 2_000, 25_000, 22);
    let opts = TopK::new(7).exclude_diagonal(true);
    let expected = oracle(&full(&a, &b, true), &opts);
    let one = in_pool(1, || topk(&NativeKernel, &a, &b, true, &opts).unwrap());
    assert_eq!(rows_of(&one), expected);
    for threads in [2, 3, 8] {
        let c = in_pool(threads, || {
            topk(&NativeKernel, &a, &b, true, &opts).unwrap()
        });
        let bits = |c: &Csr<f64, i32>| c.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(c.row_ptrs(), one.row_ptrs(), "{threads} threads");
        assert_eq!(c.col_idxs(), one.col_idxs(), "{threads} threads");
        assert_eq!(bits(&c), bits(&one), "{threads} threads");
    }
}

/// On every real matrix of the corpus small enough, `A·Aᵀ` top 5 (diagonal excluded) of
/// every kernel equals the oracle's selection from the reference's full product.
#[test]
fn real_matrices_agree_with_the_oracle() {
    const MAX_FLOPS: usize = 500_000;
    crate::mm_support::for_each_real_matrix("topk::real_matrices", |name, a| {
        let RealMatrix::Real(a) = a else {
            return;
        };
        // Multiply-adds of A·Aᵀ: Σ over columns of (entries in the column)².
        let flops: usize = a.transpose().row_lengths().map(|n| n * n).sum();
        if flops > MAX_FLOPS {
            eprintln!("NOTE {name}: skipped ({flops} multiply-adds > {MAX_FLOPS})");
            return;
        }
        let opts = TopK::new(5).exclude_diagonal(true);
        let c = full(&a, &a, true);
        let expected = oracle(&c, &opts);
        for k in kernels::<f64, i64>() {
            if let Some(t) = topk(k, &a, &a, true, &opts) {
                // Sums may round differently (MKL): compare columns where values tie
                // exactly in the reference, values within rounding.
                let got = rows_of(&t);
                for (r, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert_eq!(g.len(), e.len(), "{name}: {} row {r}", k.name());
                    for (x, y) in g.iter().zip(e) {
                        let tol = 1e-12 * y.1.abs().max(1.0);
                        assert!((x.1 - y.1).abs() <= tol, "{name}: {} row {r}", k.name());
                    }
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// cosine_topk
// ---------------------------------------------------------------------------------------

/// `cosine_topk` against dense cosines computed here (centred or not).
#[test]
fn cosine_topk_matches_dense_cosines() {
    let a = big_csr::<f64, i32>(60, 40, 400, 5);
    // cosine_topk sums duplicates first: the oracle works on the summed rows.
    let mut summed = a.clone();
    summed.sum_duplicates();
    for center in [false, true] {
        let dense: Vec<Vec<f64>> = (0..a.nrows())
            .map(|r| {
                let (cols, vals) = summed.row(r);
                let mean = if center && !vals.is_empty() {
                    vals.iter().sum::<f64>() / vals.len() as f64
                } else {
                    0.0
                };
                let mut row = vec![0.0; a.ncols()];
                for (c, v) in cols.iter().zip(vals) {
                    row[*c as usize] += v - mean;
                }
                row
            })
            .collect();
        let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let opts = Cosine {
            topk: TopK::new(3),
            center,
        };
        let s = cosine_topk(&NativeKernel, a.view(), &opts).unwrap();
        for r in 0..a.nrows() {
            let (cols, vals) = s.row(r);
            assert!(cols.len() <= 3 && !cols.contains(&(r as i32)));
            for (c, v) in cols.iter().zip(vals) {
                let (x, y) = (&dense[r], &dense[*c as usize]);
                let dot: f64 = x.iter().zip(y).map(|(p, q)| p * q).sum();
                let cos = dot / (norm(x) * norm(y));
                assert!((v - cos).abs() < 1e-9, "row {r} col {c}: {v} vs {cos}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// normalize_rows
// ---------------------------------------------------------------------------------------

#[test]
fn unit_rows_survive_subnormal_and_huge_values() {
    let tiny = f64::from_bits(3); // 3 · 2^-1074
    let mut a = Csr::<f64, i32>::try_from_parts(
        4,
        3,
        vec![0, 2, 4, 4, 6],
        vec![0, 2, 0, 1, 1, 2],
        vec![tiny * 3.0 / 3.0, tiny, 1e308, 1e308, 0.0, 0.0],
    )
    .unwrap();
    let norms = a.normalize_rows(Normalize::Unit);
    let v = a.values();
    // Row 0: [3·2^-1074, 3·2^-1074] → each 1/√2, norm 3·√2·2^-1074 (rounded to a subnormal).
    assert!((v[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    assert!((v[1] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    assert_eq!(norms[0], f64::from_bits(4)); // 4.24 · 2^-1074 rounds to 4 · 2^-1074
    // Row 1: the squares overflow unless scaled.
    assert!((v[2] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    assert!((norms[1] / (1e308 * std::f64::consts::SQRT_2) - 1.0).abs() < 1e-15);
    // Row 2 is empty: norm 0. Row 3 is all zero: NaN values, norm 0.
    assert_eq!(norms[2], 0.0);
    assert_eq!(norms[3], 0.0);
    assert!(v[4].is_nan() && v[5].is_nan());
}

#[test]
fn unit_rows_in_f32() {
    let tiny = f32::from_bits(1);
    let mut vals = vec![tiny, tiny, tiny, tiny, 3.0e-20_f32, 4.0e-20];
    let norms = normalize_rows(&[0_u32, 4, 6], &mut vals, Normalize::Unit).unwrap();
    assert!(vals[..4].iter().all(|v| (v - 0.5).abs() < 1e-6));
    assert_eq!(norms[0], f32::from_bits(2));
    assert!((vals[4] - 0.6).abs() < 1e-6 && (vals[5] - 0.8).abs() < 1e-6);
    assert!((norms[1] / 5.0e-20 - 1.0).abs() < 1e-6);
}

#[test]
fn center_subtracts_row_means() {
    let mut vals = vec![1.0_f32, 2.0, 6.0, 5.0];
    let means = normalize_rows(&[0_i64, 3, 3, 4], &mut vals, Normalize::Center).unwrap();
    assert_eq!(means, vec![3.0, 0.0, 5.0]);
    assert_eq!(vals, vec![-2.0, -1.0, 3.0, 0.0]);
}

/// Thread count does not matter, and `normalize_rows` on a matrix equals the raw form.
#[test]
fn normalize_is_row_wise_whatever_the_threads() {
    let a = big_csr::<f64, i64>(50_000, 300, 400_000, 3);
    let mut one = a.clone();
    let norms_one = in_pool(1, || one.normalize_rows(Normalize::Unit));
    let mut many = a.clone();
    let norms_many = in_pool(3, || many.normalize_rows(Normalize::Unit));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&norms_one), bits(&norms_many));
    assert_eq!(bits(one.values()), bits(many.values()));
    let mut vals = a.values().to_vec();
    let raw = normalize_rows(a.row_ptrs(), &mut vals, Normalize::Unit).unwrap();
    assert_eq!(bits(&raw), bits(&norms_one));
}

#[test]
fn raw_normalize_rejects_bad_row_pointers() {
    let mut vals = vec![1.0_f64; 3];
    assert!(matches!(
        normalize_rows(&[0_i32, 2, 1, 3], &mut vals, Normalize::Unit),
        Err(Error::DecreasingRowPtrs {
            row: 1,
            start: 2,
            end: 1
        })
    ));
    assert!(matches!(
        normalize_rows(&[0_i32, 4], &mut vals, Normalize::Center),
        Err(Error::RowPtrsEnd { last: 4, nnz: 3 })
    ));
    assert!(matches!(
        normalize_rows(&[1_i32, 3], &mut vals, Normalize::Center),
        Err(Error::RowPtrsStart { first: 1 })
    ));
    assert!(matches!(
        normalize_rows::<f64, i32>(&[], &mut vals, Normalize::Center),
        Err(Error::RowPtrsLength {
            expected: 1,
            actual: 0
        })
    ));
}
