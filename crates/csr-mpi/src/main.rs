//! `csr-mpi`: distributed SpMV, CG and SpMV benchmarks, run under `mpirun`:
//!
//! ```text
//! mpirun -n 2 csr-mpi spmv  matrix.mtx -o y.mtx
//! mpirun -n 2 csr-mpi cg    poisson2d:500 --symmetrize --jacobi
//! mpirun -n 2 csr-mpi bench poisson2d:2000 permuted:poisson2d:2000 powerlaw:1m
//! mpirun -n 1 csr-mpi write poisson2d:2000 poisson2d-2000.mtx
//! ```
//!
//! A MATRIX is a Matrix Market file (read in parallel, each rank parsing its byte range) or
//! a generator spec such as `poisson2d:2000`, optionally prefixed `permuted:` (built on rank
//! 0 and scattered). Rank 0 prints; every rank exits with the same status.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use csr::io::mm::{self, Format, ReadOptions, WriteOptions};
use csr::kernel::{Kernel, KernelId};
use csr::{Csr, Dense, Strategy};
use csr_mpi::mpi::collective::SystemOperation;
use csr_mpi::mpi::topology::SimpleCommunicator;
use csr_mpi::mpi::traits::*;
use csr_mpi::{CgOptions, DistCsr, cg, read_mm};

/// Distributed sparse matrices over MPI: SpMV, CG, benchmarks.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Worker threads per rank (the rayon pool of each process).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: u32,
    /// The SpMV strategy of both blocks (native kernel): classical, load_balance,
    /// merge_path, sparselib, compressed, tiled or automatic.
    #[arg(long, value_parser = parse_strategy)]
    strategy: Option<Strategy>,
    /// The kernel: native (default), reference or mkl.
    #[arg(long, default_value = "native", value_parser = parse_kernel)]
    kernel: KernelId,
    /// Seed of generated matrices.
    #[arg(long, default_value_t = csr::generate::DEFAULT_SEED)]
    seed: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// y = A·1; rank 0 writes y (Matrix Market array) to a file or stdout.
    Spmv {
        /// The matrix: a Matrix Market file or a generator spec.
        matrix: String,
        /// Write y here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Solves A·x = b (b = A·1) by conjugate gradients and reports the iterations and the
    /// residual.
    Cg {
        /// The matrix (symmetric positive definite): a Matrix Market file or a spec.
        matrix: String,
        /// Stop at ‖r‖ ≤ TOL·‖b‖.
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// Iteration limit.
        #[arg(long, default_value_t = 10_000)]
        max_iter: usize,
        /// Jacobi (inverse diagonal) preconditioning.
        #[arg(long)]
        jacobi: bool,
        /// Solve with A + Aᵀ (generated matrices have random, unsymmetric values).
        #[arg(long)]
        symmetrize: bool,
        /// Print ‖r‖ after every iteration.
        #[arg(long)]
        history: bool,
    },
    /// Writes MATRIX (built on rank 0) to a Matrix Market file: the matrix `bench SPEC`
    /// times, for other programs to read (bench/petsc_matmult.c).
    Write {
        /// A generator spec (or a file, copied).
        matrix: String,
        /// The file to write (`.gz` compresses).
        output: PathBuf,
    },
    /// Times SpMV on each matrix: max over ranks per call, median of REPS; the halo bytes
    /// sent per SpMV, the local / wait / non-local split, and the serial kernel on rank 0
    /// alone (one process, same thread count) for speedup and parallel efficiency.
    Bench {
        /// Matrices: Matrix Market files or generator specs.
        #[arg(required = true)]
        matrices: Vec<String>,
        /// Timed calls per matrix (the median is reported).
        #[arg(long, default_value_t = 21, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        reps: u32,
    },
}

fn parse_strategy(s: &str) -> Result<Strategy, String> {
    s.parse().map_err(|e: csr::Error| e.to_string())
}

fn parse_kernel(s: &str) -> Result<KernelId, String> {
    s.parse().map_err(|e: csr::Error| e.to_string())
}

type BoxError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(universe) = csr_mpi::mpi::initialize() else {
        eprintln!("csr-mpi: MPI is already initialised");
        return ExitCode::from(2);
    };
    let world = universe.world();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cli.threads as usize)
        .build_global();
    let result = pool
        .map_err(BoxError::from)
        .and_then(|()| run(&cli, &world));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Collective errors are the same on every rank: rank 0 tells.
            if world.rank() == 0 {
                eprintln!("csr-mpi: {e}");
            }
            ExitCode::from(2)
        }
    }
}

/// A matrix as given on the command line, with the serial copy rank 0 holds (the
/// generated matrix, or the file read serially when `serial` is asked).
struct Loaded {
    dist: DistCsr<f64, i32>,
    serial: Option<Csr<f64, i32>>,
}

/// Builds MATRIX: a file read in parallel, or a spec built on rank 0 and scattered.
fn load(
    cli: &Cli,
    world: &SimpleCommunicator,
    matrix: &str,
    symmetrize: bool,
    serial: bool,
) -> Result<Loaded, BoxError> {
    let root = world.rank() == 0;
    let path = PathBuf::from(matrix);
    if path.is_file() {
        if symmetrize {
            return Err(
                format!("--symmetrize needs a generator spec, not the file {matrix}").into(),
            );
        }
        let dist = read_mm::<f64, i32>(world, &path, &ReadOptions::default())?;
        let serial = if serial && root {
            Some(mm::read_csr::<f64, i32>(&path)?)
        } else {
            None
        };
        return Ok(Loaded { dist, serial });
    }
    let (permuted, spec) = match matrix.strip_prefix("permuted:") {
        Some(spec) => (true, spec),
        None => (false, matrix),
    };
    let generator: csr::generate::Generator = spec
        .parse()
        .map_err(|e| format!("{matrix} is neither a file nor a generator spec: {e}"))?;
    let build = || -> Result<Csr<f64, i32>, csr::Error> {
        let mut a = generator.build(cli.seed)?;
        if permuted {
            a = csr::generate::permute_symmetric(&a, cli.seed)?;
        }
        if symmetrize {
            a = a.scale_add(1.0, 1.0, &a.transpose())?;
        }
        Ok(a)
    };
    let a = if root { Some(build()?) } else { None };
    let dist = DistCsr::scatter(world, a.as_ref(), None)?;
    Ok(Loaded { dist, serial: a })
}

fn run(cli: &Cli, world: &SimpleCommunicator) -> Result<(), BoxError> {
    let kernel = csr::kernel::kernel_for::<f64, i32>(cli.kernel)?;
    match &cli.command {
        Command::Spmv { matrix, output } => {
            let a = load(cli, world, matrix, false, false)?.dist;
            let op = a.operator(kernel, cli.strategy)?;
            let x = a.col_vector(|_| 1.0);
            let mut y = a.row_vector(|_| 0.0);
            let start = Instant::now();
            op.spmv(1.0, &x, 0.0, &mut y)?;
            let elapsed = start.elapsed();
            let Some(y) = y.gather(0)? else {
                return Ok(());
            };
            let n = y.len();
            let y = Dense::try_from_row_major(n, 1, y)?;
            let options = WriteOptions::default().format(Format::Array);
            let (rows, cols) = a.shape();
            match output {
                Some(path) => {
                    mm::write_dense(path, &y, &options)?;
                    println!(
                        "y = A·x: {n} values, {rows}x{cols} matrix on {} ranks, kernel {}, {:.3} ms -> {}",
                        a.rank().1,
                        kernel.name(),
                        elapsed.as_secs_f64() * 1e3,
                        path.display()
                    );
                }
                None => {
                    let mut text = Vec::new();
                    mm::write_dense_to(&mut text, &y, &options)?;
                    std::io::stdout().write_all(&text)?;
                }
            }
        }
        Command::Cg {
            matrix,
            tol,
            max_iter,
            jacobi,
            symmetrize,
            history,
        } => {
            let a = load(cli, world, matrix, *symmetrize, false)?.dist;
            let op = a.operator(kernel, cli.strategy)?;
            let ones = a.col_vector(|_| 1.0);
            let mut b = a.row_vector(|_| 0.0);
            op.spmv(1.0, &ones, 0.0, &mut b)?;
            let options = CgOptions {
                tol: *tol,
                max_iter: *max_iter,
                jacobi: *jacobi,
            };
            world.barrier();
            let start = Instant::now();
            let out = cg(&op, &b, &options)?;
            let elapsed = start.elapsed();
            // The error against the exact solution (all ones).
            let mut e = out.x.clone();
            e.axpy(-1.0, &ones)?;
            let err = e.norm() / ones.norm();
            if world.rank() == 0 {
                if *history {
                    for (k, r) in out.residuals.iter().enumerate() {
                        println!("{k} {r:.6e}");
                    }
                }
                let rel = out.residuals.last().copied().unwrap_or(0.0)
                    / out.residuals[0].max(f64::MIN_POSITIVE);
                println!(
                    "cg{}: {} iterations, {}, ‖r‖/‖b‖ = {rel:.3e}, ‖x - 1‖/‖1‖ = {err:.3e}, {} ranks, {:.1} ms",
                    if *jacobi { " (jacobi)" } else { "" },
                    out.iterations,
                    if out.converged {
                        "converged"
                    } else {
                        "not converged"
                    },
                    a.rank().1,
                    elapsed.as_secs_f64() * 1e3
                );
            }
        }
        Command::Write { matrix, output } => {
            let loaded = load(cli, world, matrix, false, true)?;
            if let Some(a) = loaded.serial.filter(|_| world.rank() == 0) {
                mm::write_csr(output, &a, &WriteOptions::default())?;
                println!(
                    "{matrix}: {}x{}, {} entries -> {}",
                    a.nrows(),
                    a.ncols(),
                    a.nnz(),
                    output.display()
                );
            }
        }
        Command::Bench { matrices, reps } => {
            if world.rank() == 0 {
                println!(
                    "| matrix | ranks | rows | nnz | SpMV ms (max over ranks) | serial ms | speedup | efficiency | halo bytes/SpMV | local ms | wait ms | non-local ms | ‖y‖ |"
                );
                println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            }
            for m in matrices {
                bench(cli, world, kernel, m, *reps as usize)?;
            }
        }
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The maximum over ranks (collective).
fn max_over_ranks(world: &SimpleCommunicator, x: f64) -> f64 {
    let mut m = 0.0;
    world.all_reduce_into(&x, &mut m, SystemOperation::max());
    m
}

fn bench(
    cli: &Cli,
    world: &SimpleCommunicator,
    kernel: &'static dyn Kernel<f64, i32>,
    matrix: &str,
    reps: usize,
) -> Result<(), BoxError> {
    let Loaded { dist: a, serial } = load(cli, world, matrix, false, true)?;
    let op = a.operator(kernel, cli.strategy)?;
    let x = a.col_vector(|j| 1.0 + (j % 7) as f64 / 8.0);
    let mut y = a.row_vector(|_| 0.0);
    for _ in 0..3 {
        op.spmv(1.0, &x, 0.0, &mut y)?;
    }
    let (mut times, mut local, mut wait, mut nonlocal) = (vec![], vec![], vec![], vec![]);
    for _ in 0..reps {
        world.barrier();
        let start = Instant::now();
        let phases = op.spmv_phases(1.0, &x, 0.0, &mut y)?;
        times.push(max_over_ranks(world, start.elapsed().as_secs_f64()));
        local.push(phases.post.as_secs_f64() + phases.local.as_secs_f64());
        wait.push(phases.wait.as_secs_f64());
        nonlocal.push(phases.nonlocal.as_secs_f64());
    }
    let ms = |s: f64| s * 1e3;
    let dist_ms = ms(median(times));
    let [local, wait, nonlocal] =
        [local, wait, nonlocal].map(|v| ms(max_over_ranks(world, median(v))));
    let ynorm = y.norm();
    let mut halo = [
        (a.halo_sends().0 * std::mem::size_of::<f64>()) as u64,
        a.local_nnz() as u64,
    ];
    let mine = halo;
    world.all_reduce_into(&mine[..], &mut halo[..], SystemOperation::sum());
    // The serial kernel on rank 0 alone, while the others wait.
    world.barrier();
    if let Some(s) = serial.filter(|_| world.rank() == 0) {
        let s = match cli.strategy {
            Some(st) => s.with_strategy(st),
            None => s,
        };
        let h = kernel.to_handle(s.view())?;
        let xs: Vec<f64> = (0..s.ncols()).map(|j| 1.0 + (j % 7) as f64 / 8.0).collect();
        let mut ys = vec![0.0; s.nrows()];
        for _ in 0..3 {
            kernel.mult_vec(&h, 1.0, &xs, 0.0, &mut ys)?;
        }
        let serial_ms = ms(median(
            (0..reps)
                .map(|_| {
                    let start = Instant::now();
                    kernel
                        .mult_vec(&h, 1.0, &xs, 0.0, &mut ys)
                        .map(|()| start.elapsed().as_secs_f64())
                })
                .collect::<Result<Vec<f64>, _>>()?,
        ));
        let p = a.rank().1;
        println!(
            "| {matrix} | {p} | {} | {} | {dist_ms:.3} | {serial_ms:.3} | {:.2} | {:.0}% | {} | {local:.3} | {wait:.3} | {nonlocal:.3} | {ynorm:.12e} |",
            a.shape().0,
            halo[1],
            serial_ms / dist_ms,
            100.0 * serial_ms / (p as f64 * dist_ms),
            halo[0],
        );
    }
    world.barrier();
    Ok(())
}
