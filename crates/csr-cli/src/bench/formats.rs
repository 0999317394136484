//! `csr bench --formats`: SpMV with every storage format (COO, ELL, SELL-P, Hybrid, Dense)
//! beside the kernels' CSR rows, and the CSR → format → CSR conversions; every SpMV is
//! checked against the reference kernel and every round trip against the input.

use std::time::{Duration, Instant};

use csr::{Coo, Csr, Dense, Ell, Hybrid, MatrixFormat, Sellp};

use super::Workload;
use super::kernels::{max_rel_err, reference_spmv, spmv_input};
use super::report::Record;
use super::structure::median;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A format is skipped when it would store more than this many slots per CSR entry (as
/// Ginkgo's benchmark skips ELL on very uneven rows): ELL of a power-law matrix, a dense
/// matrix of any large sparse one.
const MAX_SLOTS_PER_ENTRY: usize = 10;

/// SpMV of one prepared format: `y = A·x`.
type Spmv<'a> = Box<dyn Fn(&[f64], &mut [f64]) -> csr::Result<()> + 'a>;

/// One format prepared for timing.
struct Prepared<'a> {
    name: &'static str,
    storage: usize,
    spmv: Spmv<'a>,
    /// Median times of CSR → format and format → CSR.
    to: Duration,
    back: Duration,
}

/// Times SpMV and the conversions of every format that fits on the workload's matrix.
pub fn bench(w: &Workload, reps: usize) -> Result<Vec<Record>, BoxError> {
    let a = &w.matrix;
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
        prepared.push(match name {
            "coo" => prepare::<Coo<f64, i32>>(a, reps)?,
            "ell" => prepare::<Ell<f64, i32>>(a, reps)?,
            "sellp" => prepare::<Sellp<f64, i32>>(a, reps)?,
            "hybrid" => prepare::<Hybrid<f64, i32>>(a, reps)?,
            _ => prepare::<Dense<f64>>(a, reps)?,
        });
    }
    let x = spmv_input(a.ncols());
    let expected = reference_spmv(a.view(), &x)?;
    let mut ys = vec![vec![0.0; a.nrows()]; prepared.len()];
    let mut times = vec![Vec::with_capacity(reps); prepared.len()];
    for round in 0..=reps {
        for (i, p) in prepared.iter().enumerate() {
            let t = Instant::now();
            (p.spmv)(&x, &mut ys[i])?;
            if round > 0 {
                times[i].push(t.elapsed());
            }
        }
    }
    let (nnz, rows, cols) = (a.nnz() as f64, a.nrows() as f64, a.ncols() as f64);
    let csr_bytes = 12.0 * nnz + 4.0 * (rows + 1.0);
    let mut records = Vec::new();
    for ((p, t), y) in prepared.iter().zip(times).zip(&ys) {
        records.push(Record {
            workload: w.name.clone(),
            op: "spmv",
            kernel: String::from("format"),
            strategy: p.name.to_owned(),
            median: median(t),
            flops: 2.0 * nnz,
            bytes: 12.0 * nnz + 12.0 * rows + 8.0 * cols,
            max_rel_err: Some(max_rel_err(y, &expected)),
            note: format!(
                "stores {:.1} MB ({:.2}x CSR)",
                p.storage as f64 / 1e6,
                p.storage as f64 / csr_bytes
            ),
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
/// checked by SpMV instead), and keeps the last conversion for the SpMV rounds.
fn prepare<'a, F: MatrixFormat<f64, i32> + 'a>(
    a: &Csr<f64, i32>,
    reps: usize,
) -> Result<Prepared<'a>, BoxError> {
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
    Ok(Prepared {
        name: F::NAME,
        storage: f.storage_bytes(),
        to: median(to),
        back: median(back),
        spmv: Box::new(move |x, y| f.mult_vec(1.0, x, 0.0, y)),
    })
}
