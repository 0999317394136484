//! `csr bench`: times the library's operations on built-in generated matrices (or files),
//! side by side in one run, against the machine's streaming read bandwidth measured in the
//! same run.
//!
//! Every workload runs its implementations in rounds (each once per round, after a warm-up
//! round) so that machine noise spreads over all of them; the median is reported, with
//! GFLOP/s, effective GB/s, the share of measured bandwidth, the ratio to the fastest row of
//! the same operation, and the largest relative error against the reference kernel.

mod bandwidth;
mod formats;
mod kernels;
#[cfg(feature = "peers")]
mod peers;
mod report;
mod structure;
mod timed;
mod topk;

use std::io::Write;

use csr::Csr;
use csr::generate::{DEFAULT_SEED, Generator, permute_symmetric};

use crate::CmdResult;
use crate::args::BenchArgs;
use report::{Record, Report};

/// Spec prefix that permutes a generated matrix symmetrically at random (poor locality).
const PERMUTED_PREFIX: &str = "permuted:";

/// A workload: a matrix and the operations to run on it.
struct Workload {
    name: String,
    matrix: Csr<f64, i32>,
    ops: Ops,
}

/// Which operations a workload runs.
#[derive(Clone, Copy)]
struct Ops {
    structure: bool,
    spmv: bool,
    ab: bool,
    abt: bool,
}

const ALL_OPS: Ops = Ops::new(true, true, true, true);
const SPMV_ONLY: Ops = Ops::new(false, true, false, false);
const STRUCTURE_AND_SPMV: Ops = Ops::new(true, true, false, false);
const SPGEMM_ONLY: Ops = Ops::new(false, false, true, true);
const ABT_ONLY: Ops = Ops::new(false, false, false, true);

impl Ops {
    const fn new(structure: bool, spmv: bool, ab: bool, abt: bool) -> Self {
        Self {
            structure,
            spmv,
            ab,
            abt,
        }
    }
}

/// The built-in workloads of a full run: (spec, operations). SpGEMM on a power-law matrix
/// uses about 3 entries per row (like DESIGN's 200k-row block of the 1M matrix, 601k nnz):
/// with 16 per row, A·A would exceed 2³¹ entries.
const DEFAULT_WORKLOADS: [(&str, Ops); 5] = [
    ("poisson2d:2000", ALL_OPS),
    ("permuted:poisson2d:2000", SPMV_ONLY),
    ("powerlaw:1m", STRUCTURE_AND_SPMV),
    ("powerlaw:200k:3", SPGEMM_ONLY),
    ("items:ratings:50k:5k:20", ABT_ONLY),
];

/// The workloads of `--quick`.
const QUICK_WORKLOADS: [(&str, Ops); 4] = [
    ("poisson2d:300", ALL_OPS),
    ("permuted:poisson2d:300", SPMV_ONLY),
    ("powerlaw:50k", STRUCTURE_AND_SPMV),
    ("powerlaw:20k:3", SPGEMM_ONLY),
];

/// Spec prefix that transposes a generated matrix (a user×item rating matrix becomes
/// item×user, so that A·Aᵀ is the item-item similarity).
const ITEMS_PREFIX: &str = "items:";

/// Runs `csr bench`.
pub fn run(args: &BenchArgs, out: &mut (impl Write + Send)) -> CmdResult {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t as usize);
    }
    pool.build()?.install(|| run_in_pool(args, out))
}

fn run_in_pool(args: &BenchArgs, out: &mut impl Write) -> CmdResult {
    let reps = if args.quick { 3 } else { args.reps as usize };
    let specs: Vec<(String, Ops)> = if !args.matrices.is_empty() {
        args.matrices.iter().map(|s| (s.clone(), ALL_OPS)).collect()
    } else if args.quick {
        QUICK_WORKLOADS
            .iter()
            .map(|(s, o)| (s.to_string(), *o))
            .collect()
    } else {
        DEFAULT_WORKLOADS
            .iter()
            .map(|(s, o)| (s.to_string(), *o))
            .collect()
    };
    let specs: Vec<(String, Ops)> = if args.spmv_only {
        specs.into_iter().map(|(s, _)| (s, SPMV_ONLY)).collect()
    } else {
        specs
    };
    let threads = rayon::current_num_threads();
    let probe_len = if args.quick {
        bandwidth::PROBE_LEN / 8
    } else {
        bandwidth::PROBE_LEN
    };
    let bandwidth = bandwidth::measure_read(probe_len, reps);
    writeln!(
        out,
        "csr bench: f64 values, i32 indices, {threads} threads, median of {reps} rounds"
    )?;
    writeln!(
        out,
        "streaming read bandwidth: {:.1} GB/s (parallel sum over {} MiB)",
        bandwidth / 1e9,
        (probe_len * 8) >> 20
    )?;
    let mut report = Report::new(bandwidth);
    for (spec, ops) in &specs {
        eprintln!("csr bench: {spec} ...");
        let workload = build_workload(spec, *ops)?;
        let mut records: Vec<Record> = Vec::new();
        if ops.structure {
            records.extend(structure::bench(&workload.name, &workload.matrix, reps)?);
        }
        records.extend(kernels::bench(&workload, reps)?);
        if ops.abt {
            records.extend(topk::bench(&workload, reps)?);
        }
        if args.formats && ops.spmv {
            records.extend(formats::bench(&workload, reps)?);
        }
        if args.peers {
            records.extend(run_peers(&workload, reps)?);
        }
        report.add(records);
    }
    report.write_table(out)?;
    if let Some(path) = &args.json {
        report.write_json(path)?;
        writeln!(out, "\nwrote {}", path.display())?;
    }
    Ok(())
}

/// The peers' rows, when the `peers` feature is built in.
#[cfg(feature = "peers")]
fn run_peers(
    w: &Workload,
    reps: usize,
) -> Result<Vec<Record>, Box<dyn std::error::Error + Send + Sync>> {
    peers::bench(w, reps)
}

/// Without the `peers` feature, `--peers` is an error that says how to get it.
#[cfg(not(feature = "peers"))]
fn run_peers(
    _: &Workload,
    _: usize,
) -> Result<Vec<Record>, Box<dyn std::error::Error + Send + Sync>> {
    Err("--peers needs the `peers` feature: cargo run --release --features peers --bin csr -- bench --peers".into())
}

/// Builds a workload from a spec: a generator spec, optionally prefixed by `permuted:` or
/// `items:`.
fn build_workload(
    spec: &str,
    ops: Ops,
) -> Result<Workload, Box<dyn std::error::Error + Send + Sync>> {
    if spec.ends_with(".mtx") || spec.ends_with(".mtx.gz") {
        let matrix = csr::io::mm::read_csr(spec)?;
        return Ok(Workload {
            name: spec.to_owned(),
            matrix,
            ops,
        });
    }
    let (permuted, rest) = match spec.strip_prefix(PERMUTED_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let (items, rest) = match rest.strip_prefix(ITEMS_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let generator: Generator = rest.parse()?;
    let mut matrix: Csr<f64, i32> = generator.build(DEFAULT_SEED)?;
    if items {
        matrix = matrix.transpose();
    }
    if permuted {
        matrix = permute_symmetric(&matrix, DEFAULT_SEED)?;
    }
    Ok(Workload {
        name: spec.to_owned(),
        matrix,
        ops,
    })
}
