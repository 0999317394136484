//! Structural operations of the core: COO→CSR assembly (summing or keeping duplicates),
//! transpose, and row sorting.

use std::time::{Duration, Instant};

use csr::{Csr, Duplicates};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64Mcg;

use super::report::Record;

/// One timed operation: its name, minimal traffic in bytes, and a closure that runs it once
/// and returns the time it took (set-up such as copying an input stays outside the clock).
type Op<'a> = (
    &'static str,
    usize,
    Box<dyn FnMut() -> Result<Duration, BoxError> + 'a>,
);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Times the structural operations on `a`.
pub fn bench(workload: &str, a: &Csr<f64, i32>, reps: usize) -> Result<Vec<Record>, BoxError> {
    let (nrows, ncols, nnz) = (a.nrows(), a.ncols(), a.nnz());
    let (rows, cols, vals) = shuffled_triplets(a);
    let unsorted = shuffled_rows(a)?;
    let assembly_bytes = 16 * nnz + 12 * nnz + 4 * nrows;
    let transpose_bytes = 24 * nnz + 4 * (nrows + ncols);
    let sort_bytes = 24 * nnz + 4 * nrows;
    let assemble = |duplicates| {
        let t = Instant::now();
        let b = Csr::try_from_coo(nrows, ncols, &rows, &cols, &vals, duplicates)?;
        let elapsed = t.elapsed();
        check_same_nnz(&b, nnz)?;
        Ok(elapsed)
    };
    let mut ops: Vec<Op<'_>> = vec![
        (
            "coo->csr:sum",
            assembly_bytes,
            Box::new(|| assemble(Duplicates::Sum)),
        ),
        (
            "coo->csr:keep",
            assembly_bytes,
            Box::new(|| assemble(Duplicates::Keep)),
        ),
        (
            "transpose",
            transpose_bytes,
            Box::new(|| {
                let t = Instant::now();
                let b = a.transpose();
                let elapsed = t.elapsed();
                check_same_nnz(&b, nnz)?;
                Ok(elapsed)
            }),
        ),
        (
            "sort",
            sort_bytes,
            Box::new(|| {
                let mut b = unsorted.clone();
                let t = Instant::now();
                b.sort_by_column_index();
                let elapsed = t.elapsed();
                if !b.is_sorted_by_column_index() {
                    return Err("sort_by_column_index left a row unsorted".into());
                }
                Ok(elapsed)
            }),
        ),
    ];
    let mut timings: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); ops.len()];
    // Round 0 warms caches, page tables and the thread pool; it is not counted.
    for round in 0..=reps {
        for (k, (_, _, op)) in ops.iter_mut().enumerate() {
            let elapsed = op()?;
            if round > 0 {
                timings[k].push(elapsed);
            }
        }
    }
    Ok(ops
        .iter()
        .zip(timings)
        .map(|((name, bytes, _), t)| Record {
            workload: workload.to_owned(),
            op: name,
            kernel: String::from("csr"),
            strategy: String::new(),
            median: median(t),
            flops: 0.0,
            bytes: *bytes as f64,
            max_rel_err: None,
            note: String::new(),
        })
        .collect())
}

/// The median of some timings (the upper one of an even count).
pub fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t.get(t.len() / 2).copied().unwrap_or_default()
}

fn check_same_nnz(b: &Csr<f64, i32>, nnz: usize) -> Result<(), BoxError> {
    if b.nnz() != nnz {
        return Err(format!("operation produced {} entries, expected {nnz}", b.nnz()).into());
    }
    Ok(())
}

/// The entries of `a` as COO arrays in a random order (a realistic assembly input).
fn shuffled_triplets(a: &Csr<f64, i32>) -> (Vec<i32>, Vec<i32>, Vec<f64>) {
    let (rows, cols, vals) = (a.row_indices(), a.col_idxs(), a.values());
    let mut order: Vec<usize> = (0..a.nnz()).collect();
    order.shuffle(&mut Pcg64Mcg::seed_from_u64(csr::generate::DEFAULT_SEED));
    (
        order.iter().map(|&k| rows[k]).collect(),
        order.iter().map(|&k| cols[k]).collect(),
        order.iter().map(|&k| vals[k]).collect(),
    )
}

/// `a` with the entries of every row in a random order.
fn shuffled_rows(a: &Csr<f64, i32>) -> Result<Csr<f64, i32>, BoxError> {
    let mut rng = Pcg64Mcg::seed_from_u64(csr::generate::DEFAULT_SEED);
    let (mut cols, mut vals) = (a.col_idxs().to_vec(), a.values().to_vec());
    let mut pairs = Vec::new();
    for r in 0..a.nrows() {
        let range = a.view().row_range(r);
        pairs.clear();
        pairs.extend(
            cols[range.clone()]
                .iter()
                .copied()
                .zip(vals[range.clone()].iter().copied()),
        );
        pairs.shuffle(&mut rng);
        for (k, &(c, v)) in range.zip(&pairs) {
            cols[k] = c;
            vals[k] = v;
        }
    }
    Ok(Csr::try_from_parts(
        a.nrows(),
        a.ncols(),
        a.row_ptrs().to_vec(),
        cols,
        vals,
    )?)
}
