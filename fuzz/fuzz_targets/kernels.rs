//! Fuzz target: arbitrary small valid matrices (unsorted rows, duplicates, empty rows and
//! columns allowed) and vectors through every native SpMV strategy, `mult_dense`, `mult_ab`,
//! `mult_abt` (rows sorted, and in any order) and the formats' SpMV, each compared with the
//! reference kernel: bit for bit where the order of summation is the same, within
//! `tol·Σ|a||x|` otherwise.
//!
//! Run: `cargo fuzz run -s none kernels -- -max_total_time=60 -dict=kernels.dict`.

#![no_main]

use csr::kernel::{Kernel, NativeKernel, ReferenceKernel};
use csr::{Coo, Csr, Dense, Ell, Hybrid, Sellp, Strategy};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// A value: a small integer, a signed zero, or a finite float of moderate exponent (so that
/// no sum overflows and every difference comes from rounding).
fn value(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.arbitrary::<u8>()? % 4 {
        0 => f64::from(u.arbitrary::<i8>()?),
        1 => {
            if u.arbitrary()? {
                0.0
            } else {
                -0.0
            }
        }
        _ => {
            let m = f64::from(u.arbitrary::<i32>()?) / f64::from(1 << 20);
            m * f64::powi(2.0, i32::from(u.arbitrary::<i8>()? % 16))
        }
    })
}

fn vector(u: &mut Unstructured<'_>, len: usize) -> Result<Vec<f64>> {
    (0..len).map(|_| value(u)).collect()
}

/// A valid matrix of at most 24 x 24 with at most 96 entries, rows in any column order.
fn matrix(u: &mut Unstructured<'_>, nrows: usize, ncols: usize) -> Result<Csr<f64, i32>> {
    let mut ptrs = vec![0_i32];
    let (mut cols, mut vals) = (Vec::new(), Vec::new());
    for _ in 0..nrows {
        let len = if ncols == 0 {
            0
        } else {
            usize::from(u.arbitrary::<u8>()? % 8)
        };
        for _ in 0..len {
            cols.push(i32::from(u.arbitrary::<u8>()?) % ncols as i32);
            vals.push(value(u)?);
        }
        ptrs.push(cols.len() as i32);
    }
    Ok(Csr::try_from_parts(nrows, ncols, ptrs, cols, vals).expect("built valid"))
}

fn dim(u: &mut Unstructured<'_>) -> Result<usize> {
    Ok(usize::from(u.arbitrary::<u8>()? % 25))
}

/// `y = αAx + βy` by the reference kernel, and the per-row bound `Σ|α a x| + |β y|` that
/// rounding differences stay within (times a tolerance).
fn reference_spmv(
    a: &Csr<f64, i32>,
    alpha: f64,
    x: &[f64],
    beta: f64,
    y: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let k = ReferenceKernel;
    let h = k.to_handle(a.view()).expect("reference handle");
    let mut out = y.to_vec();
    k.mult_vec(&h, alpha, x, beta, &mut out)
        .expect("reference spmv");
    let bound = (0..a.nrows())
        .map(|r| {
            let (cols, vals) = a.row(r);
            let sum: f64 = cols
                .iter()
                .zip(vals)
                .map(|(&c, &v)| (alpha * v * x[c as usize]).abs())
                .sum();
            sum + if beta == 0.0 {
                0.0
            } else {
                (beta * y[r]).abs()
            }
        })
        .collect();
    (out, bound)
}

#[track_caller]
fn assert_close(what: &str, got: &[f64], want: &[f64], bound: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (r, ((&g, &w), &b)) in got.iter().zip(want).zip(bound).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * b,
            "{what}: row {r}: {g} vs {w} (bound {b})"
        );
    }
}

#[track_caller]
fn assert_same_bits(what: &str, got: &[f64], want: &[f64]) {
    // Signed zeros compare equal: only rounding is in question here.
    assert_eq!(got, want, "{what}");
}

/// `A·B`, or `A·Bᵀ` if `transpose`, by kernel `k`; with `any_order`, the product with rows
/// in the kernel's order, sorted here.
fn product<K: Kernel<f64, i32>>(
    k: &K,
    a: &Csr<f64, i32>,
    b: &Csr<f64, i32>,
    (transpose, any_order): (bool, bool),
) -> Csr<f64, i32> {
    let (ha, hb) = (
        k.to_handle(a.view()).expect("handle"),
        k.to_handle(b.view()).expect("handle"),
    );
    let c = match (transpose, any_order) {
        (true, false) => k.mult_abt(&ha, &hb),
        (false, false) => k.mult_ab(&ha, &hb),
        (true, true) => k.mult_abt_unsorted(&ha, &hb),
        (false, true) => k.mult_ab_unsorted(&ha, &hb),
    };
    let mut c = k.from_handle(&c.expect("product")).expect("copy out");
    if any_order {
        c.sort_by_column_index();
    }
    c
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let (m, n, p) = (dim(u)?, dim(u)?, dim(u)?);
    let a = matrix(u, m, n)?;
    let x = vector(u, n)?;
    let y0 = vector(u, m)?;
    let alpha = value(u)?;
    let beta = if u.arbitrary()? { 0.0 } else { value(u)? };
    let (want, bound) = reference_spmv(&a, alpha, &x, beta, &y0);
    let sorted = a.is_sorted_by_column_index();
    // `tiled` sums a row in storage order; the reference sums rows of 16 entries or more in
    // 8 partial sums (see `Strategy`), so only sorted rows shorter than that match it bit
    // for bit.
    let tiled_exact = sorted && a.row_lengths().all(|n| n < 16);

    let native = NativeKernel;
    for s in Strategy::ALL {
        if s == Strategy::Sparselib {
            continue; // The vendor library: its own kernel, not a native strategy.
        }
        let h = native
            .to_handle(a.view().with_strategy(s))
            .expect("native handle");
        // With β = 0 the old y is ignored, NaN included.
        let mut y = if beta == 0.0 {
            vec![f64::NAN; m]
        } else {
            y0.clone()
        };
        native
            .mult_vec(&h, alpha, &x, beta, &mut y)
            .expect("native spmv");
        let same_order = matches!(
            s,
            Strategy::Classical | Strategy::LoadBalance | Strategy::Compressed
        ) || (s == Strategy::Tiled && tiled_exact);
        if same_order {
            assert_same_bits(s.name(), &y, &want);
        } else {
            assert_close(s.name(), &y, &want, &bound);
        }
    }

    // Formats: same sums, possibly in another order.
    let mut y = y0.clone();
    Coo::from_csr(a.view())
        .mult_vec(alpha, &x, beta, &mut y)
        .expect("coo spmv");
    assert_close("coo", &y, &want, &bound);
    for (name, result) in [
        (
            "ell",
            Ell::from_csr(a.view()).and_then(|f| {
                let mut y = y0.clone();
                f.mult_vec(alpha, &x, beta, &mut y).map(|()| y)
            }),
        ),
        (
            "sellp",
            Sellp::from_csr(a.view()).and_then(|f| {
                let mut y = y0.clone();
                f.mult_vec(alpha, &x, beta, &mut y).map(|()| y)
            }),
        ),
        (
            "hybrid",
            Hybrid::from_csr(a.view()).and_then(|f| {
                let mut y = y0.clone();
                f.mult_vec(alpha, &x, beta, &mut y).map(|()| y)
            }),
        ),
        (
            "dense",
            a.to_dense().and_then(|f| {
                let mut y = y0.clone();
                f.mult_vec(alpha, &x, beta, &mut y).map(|()| y)
            }),
        ),
    ] {
        assert_close(name, &result.expect(name), &want, &bound);
    }

    // mult_dense: X is n x k; column j of Y is the SpMV with column j of X.
    let k = usize::from(u.arbitrary::<u8>()? % 4);
    let xd = vector(u, n * k)?;
    let yd = vector(u, m * k)?;
    let xm = Dense::try_from_row_major(n, k, xd.clone()).expect("X");
    let mut ym = Dense::try_from_row_major(m, k, yd.clone()).expect("Y");
    let h = native.to_handle(a.view()).expect("native handle");
    native
        .mult_dense(&h, alpha, &xm, beta, &mut ym)
        .expect("native mult_dense");
    for j in 0..k {
        let xj: Vec<f64> = (0..n).map(|i| xd[i * k + j]).collect();
        let yj: Vec<f64> = (0..m).map(|i| yd[i * k + j]).collect();
        let (w, b) = reference_spmv(&a, alpha, &xj, beta, &yj);
        let got: Vec<f64> = (0..m).map(|i| ym.row(i)[j]).collect();
        assert_close("mult_dense", &got, &w, &b);
    }

    // SpGEMM: both kernels accumulate each output entry in the order of A's row, so the
    // products agree exactly (up to the sign of zero).
    let b = matrix(u, n, p)?;
    let bt = matrix(u, p, n)?;
    let by_native = (
        product(&NativeKernel, &a, &b, (false, false)),
        product(&NativeKernel, &a, &bt, (true, false)),
    );
    // Rows in any order: the same entries and bits once sorted.
    let any_order = (
        product(&NativeKernel, &a, &b, (false, true)),
        product(&NativeKernel, &a, &bt, (true, true)),
    );
    let by_reference = (
        product(&ReferenceKernel, &a, &b, (false, false)),
        product(&ReferenceKernel, &a, &bt, (true, false)),
    );
    for (got, want, what) in [
        (&by_native.0, &by_reference.0, "mult_ab"),
        (&by_native.1, &by_reference.1, "mult_abt"),
        (&any_order.0, &by_reference.0, "mult_ab_unsorted"),
        (&any_order.1, &by_reference.1, "mult_abt_unsorted"),
    ] {
        assert_eq!(
            (got.shape(), got.row_ptrs(), got.col_idxs()),
            (want.shape(), want.row_ptrs(), want.col_idxs()),
            "{what}"
        );
        assert_same_bits(what, got.values(), want.values());
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
