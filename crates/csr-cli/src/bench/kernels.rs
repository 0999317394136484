//! Kernel operations: SpMV, A·A and A·Aᵀ for every available kernel, each checked against
//! the reference kernel.

use std::time::{Duration, Instant};

use csr::kernel::{self, Handle, Kernel, KernelId};
use csr::{Csr, CsrRef, Index, Strategy};

use super::Workload;
use super::report::Record;
use super::structure::median;
use super::timed::{TimedSpmv, spmv_call, time_rounds};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Rows of the output compared with the reference kernel, per sampled block: the reference
/// SpGEMM is serial and uses ordered maps, too slow for whole large products.
const CHECK_ROWS: usize = 500;

/// Times every operation the workload asks for, for every available kernel except the
/// reference (the oracle, too slow to time on these sizes).
pub fn bench(w: &Workload, reps: usize) -> Result<Vec<Record>, BoxError> {
    let kernels: Vec<&'static dyn Kernel<f64, i32>> = KernelId::ALL
        .into_iter()
        .filter(|&id| id != KernelId::Reference)
        .filter_map(|id| kernel::kernel_for(id).ok())
        .collect();
    let a = w.matrix.view();
    let mut records = Vec::new();
    if w.ops.spmv {
        records.extend(spmv(&w.name, a, &kernels, reps)?);
    }
    if w.ops.ab && a.nrows() == a.ncols() {
        records.extend(spgemm(&w.name, a, false, &kernels, reps)?);
    }
    if w.ops.abt {
        records.extend(spgemm(&w.name, a, true, &kernels, reps)?);
    }
    Ok(records)
}

/// Matrices up to this many entries also get a row for the serial reference kernel (the
/// yardstick of "small matrices run without threading overhead").
const REFERENCE_SPMV_MAX_NNZ: usize = 100_000;

/// One timed SpMV row: what it is and the prepared call.
struct SpmvRun<'a> {
    op: &'static str,
    kernel: String,
    strategy: String,
    note: String,
    /// Bytes of minimal traffic per call.
    bytes: f64,
    call: Box<dyn TimedSpmv + 'a>,
}

/// `y = A·x` with `handle`, as a timed call.
fn kernel_call<'a, T: csr::Scalar + Into<f64>>(
    k: &'static dyn Kernel<T, i32>,
    handle: Handle<'a, T, i32>,
    x: Vec<T>,
) -> Box<dyn TimedSpmv + 'a> {
    spmv_call(handle.shape().0, move |y: &mut [T]| {
        Ok(k.mult_vec(&handle, T::one(), &x, T::zero(), y)?)
    })
}

/// SpMV rows: every kernel; the native kernel once per strategy (`sparselib` only where it
/// runs), the f32 speed of its automatic choice (op `spmv_f32`), and the serial reference on
/// small matrices.
fn spmv(
    workload: &str,
    a: CsrRef<'_, f64, i32>,
    kernels: &[&'static dyn Kernel<f64, i32>],
    reps: usize,
) -> Result<Vec<Record>, BoxError> {
    let x = spmv_input(a.ncols());
    let expected = reference_spmv(a, &x)?;
    let (nnz, rows, cols) = (a.nnz() as f64, a.nrows() as f64, a.ncols() as f64);
    let bytes = 12.0 * nnz + 12.0 * rows + 8.0 * cols;
    let run = |kernel: &str, strategy: String, note: String, call| SpmvRun {
        op: "spmv",
        kernel: kernel.to_owned(),
        strategy,
        note,
        bytes,
        call,
    };
    // f32 values: same pattern, values and x rounded; 8 B/nnz + 8 B/row + 4 B/col.
    let a32 = Csr::try_from_parts(
        a.nrows(),
        a.ncols(),
        a.row_ptrs().to_vec(),
        a.col_idxs().to_vec(),
        a.values().iter().map(|&v| v as f32).collect(),
    )?;
    let mut runs: Vec<SpmvRun<'_>> = Vec::new();
    for &k in kernels {
        if k.id() != KernelId::Native {
            let made = Instant::now();
            let h = k.to_handle(a)?;
            let note = handle_note(made.elapsed());
            runs.push(run(
                k.name(),
                String::new(),
                note,
                kernel_call(k, h, x.clone()),
            ));
            continue;
        }
        for s in Strategy::ALL {
            let made = Instant::now();
            let h = k.to_handle(a.with_strategy(s))?;
            let mut note = handle_note(made.elapsed());
            if let (Strategy::Automatic, Some(picked)) = (s, h.strategy()) {
                note = format!("picked {picked}; {note}");
            }
            let mut call = kernel_call(k, h, x.clone());
            match call.run() {
                Err(e)
                    if matches!(
                        e.downcast_ref::<csr::Error>(),
                        Some(csr::Error::KernelUnavailable { .. })
                    ) =>
                {
                    eprintln!("csr bench: {workload} spmv {}:{s} skipped: {e}", k.name());
                }
                other => {
                    other?;
                    runs.push(run(k.name(), s.name().to_owned(), note, call));
                }
            }
        }
    }
    if a.nnz() <= REFERENCE_SPMV_MAX_NNZ {
        let r: &'static dyn Kernel<f64, i32> = &kernel::ReferenceKernel;
        runs.push(run(
            r.name(),
            String::new(),
            String::from("serial"),
            kernel_call(r, r.to_handle(a)?, x.clone()),
        ));
    }
    let native32: &'static dyn Kernel<f32, i32> = &kernel::NativeKernel;
    let h32 = native32.to_handle(a32.view())?;
    let picked = h32
        .strategy()
        .map_or(String::new(), |s| format!("picked {s}"));
    runs.push(SpmvRun {
        op: "spmv_f32",
        kernel: native32.name().to_owned(),
        strategy: Strategy::Automatic.name().to_owned(),
        note: picked,
        bytes: 8.0 * nnz + 8.0 * rows + 4.0 * cols,
        call: kernel_call(native32, h32, x.iter().map(|&v| v as f32).collect()),
    });
    let (meta, mut calls): (Vec<_>, Vec<_>) = runs
        .into_iter()
        .map(|r| ((r.op, r.kernel, r.strategy, r.note, r.bytes), r.call))
        .unzip();
    let (times, outputs) = time_rounds(&mut calls, reps)?;
    Ok(meta
        .into_iter()
        .zip(times)
        .zip(outputs)
        .map(|(((op, kernel, strategy, note, bytes), t), y)| Record {
            workload: workload.to_owned(),
            op,
            kernel,
            strategy,
            median: median(t),
            flops: 2.0 * nnz,
            bytes,
            max_rel_err: Some(max_rel_err(&y, &expected)),
            note,
        })
        .collect())
}

fn spgemm(
    workload: &str,
    a: CsrRef<'_, f64, i32>,
    transpose_b: bool,
    kernels: &[&'static dyn Kernel<f64, i32>],
    reps: usize,
) -> Result<Vec<Record>, BoxError> {
    let op = if transpose_b {
        "spgemm_abt"
    } else {
        "spgemm_ab"
    };
    let at;
    let b_rows = if transpose_b {
        at = a.transpose();
        at.view()
    } else {
        a
    };
    let flops = 2.0 * products(a, b_rows) as f64;
    let mut records = Vec::new();
    for k in kernels {
        let h = k.to_handle(a)?;
        let mut times = Vec::with_capacity(reps);
        let mut last = None;
        for round in 0..=reps {
            super::timed::settle();
            let t = Instant::now();
            let c = if transpose_b {
                k.mult_abt(&h, &h)?
            } else {
                k.mult_ab(&h, &h)?
            };
            let elapsed: Duration = t.elapsed();
            if round > 0 {
                times.push(elapsed);
            }
            last = Some(c);
        }
        let c = k.from_handle(&last.ok_or("no rounds ran")?)?;
        let bytes = 12.0 * (2 * a.nnz() + c.nnz()) as f64
            + 8.0 * (a.nrows() + b_rows.nrows() + c.nrows()) as f64;
        records.push(Record {
            workload: workload.to_owned(),
            op,
            kernel: k.name().to_owned(),
            strategy: String::new(),
            median: median(times),
            flops,
            bytes,
            max_rel_err: Some(check_product_rows(a, b_rows, &c)?),
            note: format!("nnz(C) = {}", c.nnz()),
        });
    }
    Ok(records)
}

/// The vector every SpMV multiplies by.
pub fn spmv_input(n: usize) -> Vec<f64> {
    (0..n).map(|j| 1.0 + (j % 17) as f64 / 16.0).collect()
}

/// `A·x` by the reference kernel.
pub fn reference_spmv(a: CsrRef<'_, f64, i32>, x: &[f64]) -> Result<Vec<f64>, BoxError> {
    let reference: &dyn Kernel<f64, i32> = &kernel::ReferenceKernel;
    let mut y = vec![0.0; a.nrows()];
    reference.mult_vec(&reference.to_handle(a)?, 1.0, x, 0.0, &mut y)?;
    Ok(y)
}

/// The number of scalar products of `A·A` (or `A·Aᵀ`).
pub fn products_of(a: CsrRef<'_, f64, i32>, transpose_b: bool) -> usize {
    if transpose_b {
        products(a, a.transpose().view())
    } else {
        products(a, a)
    }
}

/// The number of scalar products of `A·B`: Σ over A's entries of the length of B's row.
fn products(a: CsrRef<'_, f64, i32>, b: CsrRef<'_, f64, i32>) -> usize {
    let b_len: Vec<usize> = b.row_lengths().collect();
    a.col_idxs().iter().map(|k| b_len[k.to_usize()]).sum()
}

/// Compares sampled row blocks of `c` with the reference kernel's `A[rows]·B`.
pub fn check_product_rows(
    a: CsrRef<'_, f64, i32>,
    b: CsrRef<'_, f64, i32>,
    c: &Csr<f64, i32>,
) -> Result<f64, BoxError> {
    let reference: &dyn Kernel<f64, i32> = &kernel::ReferenceKernel;
    let hb = reference.to_handle(b)?;
    let n = a.nrows();
    let mut worst = 0.0f64;
    for start in [0, n / 2, n.saturating_sub(CHECK_ROWS)] {
        let rows = start..(start + CHECK_ROWS).min(n);
        let block = row_block(a, rows.clone())?;
        let expected =
            reference.from_handle(&reference.mult_ab(&reference.to_handle(block.view())?, &hb)?)?;
        let got = row_block(c.view(), rows)?;
        if got.row_ptrs() != expected.row_ptrs() || got.col_idxs() != expected.col_idxs() {
            return Err(
                format!("product pattern differs from the reference in rows {start}..").into(),
            );
        }
        worst = worst.max(max_rel_err(got.values(), expected.values()));
    }
    Ok(worst)
}

/// Rows `rows` of `a` as a matrix of their own.
pub fn row_block(
    a: CsrRef<'_, f64, i32>,
    rows: std::ops::Range<usize>,
) -> Result<Csr<f64, i32>, BoxError> {
    let base = a.row_ptrs()[rows.start];
    let ptrs = a.row_ptrs()[rows.start..=rows.end]
        .iter()
        .map(|p| p - base)
        .collect();
    let entries = a.row_ptrs()[rows.start].to_usize()..a.row_ptrs()[rows.end].to_usize();
    Ok(Csr::try_from_parts(
        rows.len(),
        a.ncols(),
        ptrs,
        a.col_idxs()[entries.clone()].to_vec(),
        a.values()[entries].to_vec(),
    )?)
}

/// Largest `|x - r| / max(|r|, tiny)` over paired values.
pub fn max_rel_err(x: &[f64], r: &[f64]) -> f64 {
    x.iter()
        .zip(r)
        .map(|(x, r)| (x - r).abs() / r.abs().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

/// How long making the handle took (the strategy's or the vendor's preparation), for the
/// note column.
fn handle_note(took: Duration) -> String {
    format!("handle {:.1} ms", took.as_secs_f64() * 1e3)
}
