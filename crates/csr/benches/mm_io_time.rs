//! One timed Matrix Market read or write per run, for side-by-side drivers
//! (`mm_io_vs_scipy.py` runs this binary and `scipy.io` alternately, in rounds).
//!
//! ```text
//! mm_io_time generate SPEC OUT        write a generated f64 matrix (e.g. random:200000:200000:10)
//! mm_io_time read-triplets FILE       csr::io::mm::read_matrix_data::<f64, i32>
//! mm_io_time read-csr FILE            csr::io::mm::read_csr::<f64, i32>
//! mm_io_time read-sprs FILE           sprs::io::read_matrix_market::<f64, i32, _>
//! mm_io_time write-csr FILE OUT       csr::io::mm::write_csr (matrix read first, untimed)
//! mm_io_time write-sprs FILE OUT      sprs::io::write_matrix_market (the same)
//! ```
//!
//! Each prints one JSON object: `{"op": .., "seconds": .., "bytes": .., "nnz": ..}`, where
//! `bytes` is the file read or written. Only the operation itself is timed (not process start).
//! Run through cargo (`cargo bench -p csr --bench mm_io_time`) it prints this usage and exits.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use csr::Csr;
use csr::generate::{DEFAULT_SEED, Generator};
use csr::io::mm::{self, ReadOptions, WriteOptions};

type Failure = Box<dyn std::error::Error>;

fn file_len(path: &Path) -> Result<u64, Failure> {
    Ok(std::fs::metadata(path)?.len())
}

/// Times `f`, returning its result and the seconds it took.
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

fn report(op: &str, seconds: f64, bytes: u64, nnz: usize) {
    println!(r#"{{"op": "{op}", "seconds": {seconds:.6}, "bytes": {bytes}, "nnz": {nnz}}}"#);
}

fn to_sprs(a: &Csr<f64, i32>) -> sprs::CsMatI<f64, i32> {
    sprs::CsMatI::new(
        a.shape(),
        a.row_ptrs().to_vec(),
        a.col_idxs().to_vec(),
        a.values().to_vec(),
    )
}

fn run(args: &[String]) -> Result<(), Failure> {
    let arg = |k: usize| -> Result<&str, Failure> {
        args.get(k)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument {k}; see the usage in mm_io_time.rs").into())
    };
    let op = arg(0)?;
    match op {
        "generate" => {
            let generator: Generator = arg(1)?.parse()?;
            let a: Csr<f64, i32> = generator.build(DEFAULT_SEED)?;
            mm::write_csr(arg(2)?, &a, &WriteOptions::default())?;
        }
        "read-triplets" => {
            let path = Path::new(arg(1)?);
            let (f, s) = timed(|| mm::read_matrix_data::<f64, i32>(path, &ReadOptions::default()));
            report(op, s, file_len(path)?, black_box(f?).data.len());
        }
        "read-csr" => {
            let path = Path::new(arg(1)?);
            let (a, s) = timed(|| mm::read_csr::<f64, i32>(path));
            report(op, s, file_len(path)?, black_box(a?).nnz());
        }
        "read-sprs" => {
            let path = Path::new(arg(1)?);
            let (t, s) = timed(|| sprs::io::read_matrix_market::<f64, i32, _>(path));
            report(op, s, file_len(path)?, black_box(t?).nnz());
        }
        "write-csr" | "write-sprs" => {
            let a = mm::read_csr::<f64, i32>(arg(1)?)?;
            let out = Path::new(arg(2)?);
            let s = if op == "write-csr" {
                let (r, s) = timed(|| mm::write_csr(out, &a, &WriteOptions::default()));
                r?;
                s
            } else {
                let b = to_sprs(&a);
                let (r, s) = timed(|| sprs::io::write_matrix_market(out, &b));
                r?;
                s
            };
            report(op, s, file_len(out)?, a.nnz());
        }
        _ => return Err(format!("unknown operation {op:?}; see mm_io_time.rs").into()),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args[0].starts_with("--") {
        // `cargo bench` runs every bench target with `--bench`: nothing to time without files.
        eprintln!("mm_io_time: driven by crates/csr/benches/mm_io_vs_scipy.py (see its header)");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mm_io_time: {e}");
            ExitCode::FAILURE
        }
    }
}
