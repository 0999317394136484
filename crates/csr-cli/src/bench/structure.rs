//! `csr bench`: times the library's operations on built-in generated matrices, side by side
//! in one run, against the machine's streaming read bandwidth measured in the same run.
//!
//! Operations run in rounds (each operation once per round, after a warm-up round) so that
//! machine noise spreads over all of them; the median of the rounds is reported.

use std::io::Write;
use std::time::{Duration, Instant};

use csr::generate::Generator;
use csr::{Csr, Duplicates};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::CmdResult;
use crate::args::BenchArgs;

/// Matrices of the full run.
const DEFAULT_MATRICES: [&str; 2] = ["poisson2d:2000", "powerlaw:1m"];
/// Matrices of a `--quick` run.
const QUICK_MATRICES: [&str; 2] = ["poisson2d:300", "powerlaw:50k"];
/// Size of the buffer the bandwidth probe streams through (f64 values): 512 MiB.
const BANDWIDTH_PROBE_LEN: usize = 64 << 20;

/// Runs `csr bench`.
pub fn run(args: &BenchArgs, out: &mut (impl Write + Send)) -> CmdResult {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t as usize);
    }
    let pool = pool.build()?;
    pool.install(|| run_in_pool(args, out))
}

fn run_in_pool(args: &BenchArgs, out: &mut impl Write) -> CmdResult {
    let reps = if args.quick { 3 } else { args.reps as usize };
    let matrices = if !args.matrices.is_empty() {
        args.matrices.clone()
    } else {
        let specs = if args.quick {
            QUICK_MATRICES
        } else {
            DEFAULT_MATRICES
        };
        specs
            .iter()
            .map(|s| s.parse())
            .collect::<Result<Vec<Generator>, _>>()?
    };
    let threads = rayon::current_num_threads();
    writeln!(
        out,
        "csr bench: f64 values, i32 indices, {threads} threads, median of {reps} rounds"
    )?;
    let probe_len = if args.quick {
        BANDWIDTH_PROBE_LEN / 8
    } else {
        BANDWIDTH_PROBE_LEN
    };
    let bandwidth = measure_read_bandwidth(probe_len, reps);
    writeln!(
        out,
        "streaming read bandwidth: {:.1} GB/s (sum over {} MiB)",
        bandwidth / 1e9,
        (probe_len * 8) >> 20
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<16} {:<20} {:>11} {:>10} {:>9} {:>8}",
        "matrix", "operation", "median ms", "min ms", "GB/s", "% of BW"
    )?;
    for generator in &matrices {
        let a: Csr<f64, i32> = generator.build(csr::generate::DEFAULT_SEED)?;
        for row in bench_matrix(&a, reps)? {
            let gbs = row.bytes as f64 / row.median.as_secs_f64();
            writeln!(
                out,
                "{:<16} {:<20} {:>11.2} {:>10.2} {:>9.1} {:>7.0}%",
                generator.to_string(),
                row.name,
                row.median.as_secs_f64() * 1e3,
                row.min.as_secs_f64() * 1e3,
                gbs / 1e9,
                100.0 * gbs / bandwidth
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "GB/s counts the minimal traffic of each operation: assembly reads 16 B per triplet"
    )?;
    writeln!(
        out,
        "and writes 12 B per entry + 4 B per row; transpose and sort read and write 12 B per"
    )?;
    writeln!(out, "entry + 4 B per row.")?;
    Ok(())
}

/// One line of the report.
struct Timing {
    name: &'static str,
    bytes: usize,
    median: Duration,
    min: Duration,
}

/// One timed operation: its name, minimal traffic in bytes, and a closure that runs it once
/// and returns the time it took (set-up such as copying an input stays outside the clock).
type Op<'a> = (
    &'static str,
    usize,
    Box<dyn FnMut() -> Result<Duration, BoxError> + 'a>,
);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn bench_matrix(a: &Csr<f64, i32>, reps: usize) -> Result<Vec<Timing>, BoxError> {
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
            "coo->csr (sum)",
            assembly_bytes,
            Box::new(|| assemble(Duplicates::Sum)),
        ),
        (
            "coo->csr (keep)",
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
            "sort rows",
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
        .map(|((name, bytes, _), mut t)| {
            t.sort();
            Timing {
                name,
                bytes: *bytes,
                median: t[t.len() / 2],
                min: t[0],
            }
        })
        .collect())
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

/// Streaming read bandwidth in bytes per second: the best of `reps` parallel sums over a
/// buffer of `len` f64 values (far larger than the caches).
fn measure_read_bandwidth(len: usize, reps: usize) -> f64 {
    let data: Vec<f64> = (0..len).into_par_iter().map(|i| (i % 7) as f64).collect();
    let mut best = f64::MAX;
    for _ in 0..reps.max(3) {
        let t = Instant::now();
        let s: f64 = data.par_chunks(1 << 16).map(sum_lanes).sum();
        let secs = t.elapsed().as_secs_f64();
        std::hint::black_box(s);
        best = best.min(secs);
    }
    (len * 8) as f64 / best
}

/// Sums a slice with eight independent accumulators, so the loop vectorises.
fn sum_lanes(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f64>() + tail
}
