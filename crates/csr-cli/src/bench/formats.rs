//! `csr bench --formats`: SpMV with every storage format (COO, ELL, SELL-P, Hybrid, Dense)
//! beside the kernels' CSR rows, and the CSR → format → CSR conversions; every SpMV is
//! checked against the reference kernel and every round trip against the input.
//!
//! The formats' SpMV rounds also run the native kernel's CSR SpMV (the matrix's automatic
//! strategy, row `format:csr`), so that each format is compared with CSR in the same rounds.

use std::time::{Duration, Instant};

use csr::kernel::{Kernel, NativeKernel};
use csr::{Coo, Csr, Dense, Ell, Hybrid, MatrixFormat, Sellp};

use super::Workload;
use super::kernels::{max_rel_err, reference_spmv, spmv_input};
use super::report::Record;
use super::structure::median;
use super::timed::{TimedSpmv, spmv_call, time_rounds};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A format is skipped when it would store more than this many slots per CSR entry (as
/// Ginkgo's benchmark skips ELL on very uneven rows): ELL of a power-law matrix, a dense
/// matrix of any large sparse one.
const MAX_SLOTS_PER_ENTRY: usize = 10;

/// One format converted and timed; its SpMV call comes with it from [`prepare`].
struct Prepared {
    name: &'static str,
    storage: usize,
    /// Median times of CSR → format and format → CSR.
    to: Duration,
    back: Duration,
}

/// Times SpMV and the conversions of every format that fits on the workload's matrix.
pub fn bench(w: &Workload, reps: usize) -> Result<Vec<Record>, BoxError> {
    let a = &w.matrix;
    let x = spmv_input(a.ncols());
    // The CSR reference of the same rounds: the native kernel, automatic strategy.
    let handle = NativeKernel.to_handle(a.view())?;
    let picked = handle.strategy().map(|s| s.to_string()).unwrap_or_default();
    let mut calls = vec![spmv_call(a.nrows(), |y: &mut [f64]| {
        Ok(NativeKernel.mult_vec(&handle, 1.0, &x, 0.0, y)?)
    })];
    let mut prepared = Vec::new();
    let slots = estimated_slots(a);
    for (name, estimate) in slots {
        if estimate > MAX_SLOTS_PER_ENTRY * a.nnz().max(64) {
            eprintln!(
                "csr bench: {}: skipping {name} ({estimate} slots for {} entries)",
                w.name,
                a.nnz()
            );
            continue;
        }
        eprintln!("csr bench: {}: preparing {name} ...", w.name);
        let (p, call) = match name {
            "coo" => prepare::<Coo<f64, i32>>(a, &x, reps)?,
            "ell" => prepare::<Ell<f64, i32>>(a, &x, reps)?,
            "sellp" => prepare::<Sellp<f64, i32>>(a, &x, reps)?,
            "hybrid" => prepare::<Hybrid<f64, i32>>(a, &x, reps)?,
            _ => prepare::<Dense<f64>>(a, &x, reps)?,
        };
        prepared.push(p);
        calls.push(call);
    }
    let expected = reference_spmv(a.view(), &x)?;
    let (times, outputs) = time_rounds(&mut calls, reps)?;
    let labels =
        std::iter::once(("csr", None)).chain(prepared.iter().map(|p| (p.name, Some(p.storage))));
    let (nnz, rows, cols) = (a.nnz() as f64, a.nrows() as f64, a.ncols() as f64);
    let csr_bytes = 12.0 * nnz + 4.0 * (rows + 1.0);
    let mut records = Vec::new();
    for (((name, stored), t), y) in labels.zip(times).zip(&outputs) {
        records.push(Record {
            workload: w.name.clone(),
            op: "spmv",
            kernel: String::from("format"),
            strategy: name.to_owned(),
            median: median(t),
            flops: 2.0 * nnz,
            bytes: 12.0 * nnz + 12.0 * rows + 8.0 * cols,
            max_rel_err: Some(max_rel_err(y, &expected)),
            note: match stored {
                Some(b) => format!(
                    "stores {:.1} MB ({:.2}x CSR)",
                    b as f64 / 1e6,
                    b as f64 / csr_bytes
                ),
                None => format!("native:{picked}, same rounds as the formats"),
            },
        });
    }
    for p in &prepared {
        records.push(Record {
            workload: w.name.clone(),
            op: "csr->fmt->csr",
            kernel: String::from("format"),
            strategy: p.name.to_owned(),
            median: p.to + p.back,
            flops: 0.0,
            bytes: 2.0 * (csr_bytes + p.storage as f64),
            max_rel_err: None,
            note: format!(
                "to {:.1} ms, back {:.1} ms",
                p.to.as_secs_f64() * 1e3,
                p.back.as_secs_f64() * 1e3
            ),
        });
    }
    Ok(records)
}

/// Every format with the number of slots it would store on `a`.
fn estimated_slots(a: &Csr<f64, i32>) -> [(&'static str, usize); 5] {
    let lens: Vec<usize> = a.row_lengths().collect();
    let longest = lens.iter().copied().max().unwrap_or(0);
    let sellp: usize = lens
        .chunks(Sellp::<f64, i32>::DEFAULT_SLICE_SIZE)
        .map(|s| s.iter().copied().max().unwrap_or(0) * Sellp::<f64, i32>::DEFAULT_SLICE_SIZE)
        .sum();
    [
        ("coo", a.nnz()),
        ("ell", a.nrows().saturating_mul(longest)),
        ("sellp", sellp),
        ("hybrid", a.nnz()),
        ("dense", a.nrows().saturating_mul(a.ncols())),
    ]
}

/// Converts `a` to `F` and back `reps` times (after a warm-up), checks that the round trip
/// gives `a` again (Dense: the same after summing duplicates, sorting and dropping zeros,
/// checked by SpMV instead), and keeps the last conversion for the SpMV rounds: returns the
/// conversion times and the timed call `y = A·x` with the format.
fn prepare<'a, F: MatrixFormat<f64, i32> + 'a>(
    a: &Csr<f64, i32>,
    x: &'a [f64],
    reps: usize,
) -> Result<(Prepared, Box<dyn TimedSpmv + 'a>), BoxError> {
    let (mut to, mut back) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    let mut last = None;
    for round in 0..=reps {
        let t0 = Instant::now();
        let f = F::try_from_csr(a.view())?;
        let t1 = Instant::now();
        let b = f.to_csr()?;
        let t2 = Instant::now();
        if round > 0 {
            to.push(t1 - t0);
            back.push(t2 - t1);
        }
        if F::NAME != "dense" && b != *a {
            return Err(format!("{}: CSR -> {0} -> CSR changed the matrix", F::NAME).into());
        }
        drop(b);
        last = Some(f);
    }
    let f = last.ok_or("no rounds ran")?;
    let p = Prepared {
        name: F::NAME,
        storage: f.storage_bytes(),
        to: median(to),
        back: median(back),
    };
    let call = spmv_call(a.nrows(), move |y: &mut [f64]| {
        Ok(f.mult_vec(1.0, x, 0.0, y)?)
    });
    Ok((p, call))
}
