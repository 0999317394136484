//! Multi-rank tests, run by `.ci/run` under `mpirun -n 1`, `-n 2`, `-n 3` and `-n 4`
//! (`harness = false`: MPI initialises once per process, so this binary has its own `main`;
//! run outside `mpirun`, it prints a skip line). Every rank runs every test; a failing
//! assertion on any rank aborts the whole job (nonzero exit), and the runner's timeout
//! catches a hang.
//!
//! `cargo test -p csr-mpi --test mpi -- NAME` under `mpirun` runs the tests whose name holds
//! `NAME`.

use std::path::{Path, PathBuf};

use csr::generate::{Generator, permute_symmetric};
use csr::io::mm::{self, ReadOptions};
use csr::kernel::{Kernel, KernelId, NativeKernel, ReferenceKernel};
use csr::{Csr, Strategy};
use csr_mpi::mpi::collective::SystemOperation;
use csr_mpi::mpi::topology::SimpleCommunicator;
use csr_mpi::mpi::traits::*;
use csr_mpi::{CgOptions, DistCsr, Error, RowPartition, SerialOperator, cg, read_mm};

type Test = fn(&SimpleCommunicator);

const TESTS: &[(&str, Test)] = &[
    (
        "spmv_matches_the_serial_kernel",
        spmv_matches_the_serial_kernel,
    ),
    (
        "every_strategy_runs_each_block",
        every_strategy_runs_each_block,
    ),
    ("constructors_agree", constructors_agree),
    ("vector_reductions_and_gather", vector_reductions_and_gather),
    ("cg_follows_the_serial_cg", cg_follows_the_serial_cg),
    (
        "parallel_read_matches_the_serial_reader",
        parallel_read_matches_the_serial_reader,
    ),
    (
        "bad_input_on_one_rank_fails_every_rank",
        bad_input_on_one_rank_fails_every_rank,
    ),
    (
        "mismatched_inputs_fail_every_rank",
        mismatched_inputs_fail_every_rank,
    ),
];

fn main() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_none() && std::env::var_os("PMI_SIZE").is_none()
    {
        println!("SKIP csr-mpi multi-rank tests: not launched by mpirun (.ci/run runs them)");
        return;
    }
    let universe = csr_mpi::mpi::initialize().expect("MPI initialises once");
    let world = universe.world();
    // A failed assertion on one rank must not leave the others waiting in a collective.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        SimpleCommunicator::world().abort(101);
    }));
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    for (name, test) in TESTS {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let start = std::time::Instant::now();
        test(&world);
        world.barrier();
        if world.rank() == 0 {
            let s = start.elapsed().as_secs_f64();
            println!("ok {name} ({} ranks, {s:.1} s)", world.size());
        }
    }
}

fn ranks(world: &SimpleCommunicator) -> (usize, usize) {
    (world.rank() as usize, world.size() as usize)
}

fn generated(spec: &str) -> Csr<f64, i32> {
    let (permuted, spec) = match spec.strip_prefix("permuted:") {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let a = spec
        .parse::<Generator>()
        .expect("spec")
        .build(11)
        .expect("builds");
    if permuted {
        permute_symmetric(&a, 5).expect("square")
    } else {
        a
    }
}

/// A matrix with empty rows (every third) and empty columns.
fn with_empty_rows() -> Csr<f64, i32> {
    let a = generated("random:40:40:3");
    let vals = a
        .iter()
        .map(|(i, j, v)| if i % 3 == 0 || j % 4 == 1 { 0.0 } else { v })
        .collect();
    let (n, m, p, c, _) = a.into_parts();
    let mut a = Csr::try_from_parts(n, m, p, c, vals).expect("valid");
    a.eliminate_zeros();
    a
}

/// The test matrices: stencils (natural and permuted), power-law, random rectangular,
/// empty rows, and fewer rows than ranks.
fn matrices() -> Vec<(String, Csr<f64, i32>)> {
    let mut out: Vec<(String, Csr<f64, i32>)> = [
        "poisson2d:12",
        "permuted:poisson2d:12",
        "poisson3d:5",
        "powerlaw:400",
        "random:60:35:4",
        "banded:3:1",
        "random:1:5:2",
    ]
    .iter()
    .map(|s| (s.to_string(), generated(s)))
    .collect();
    out.push(("empty rows".into(), with_empty_rows()));
    out.push(("0x0".into(), Csr::empty(0, 0).expect("empty")));
    out
}

/// Partitions of `n` rows over `p` ranks: balanced by entries, uniform, and all rows on the
/// last rank (the others empty).
fn partitions(a: &Csr<f64, i32>, p: usize) -> Vec<Option<RowPartition>> {
    let n = a.nrows();
    let mut last = vec![0; p];
    last.push(n);
    vec![
        None,
        Some(RowPartition::uniform(n, p)),
        Some(RowPartition::from_offsets(last).expect("valid")),
    ]
}

fn x_of(j: usize) -> f64 {
    ((j * 37) % 17) as f64 / 8.0 - 1.0
}

fn y0_of(i: usize) -> f64 {
    ((i * 13) % 7) as f64 - 3.0
}

/// `alpha·A·x + beta·y0` by the reference kernel, and `Σ|a||x|` per row (the error scale).
fn serial_spmv(a: &Csr<f64, i32>, alpha: f64, beta: f64) -> (Vec<f64>, Vec<f64>) {
    let k = ReferenceKernel;
    let h = k.to_handle(a.view()).expect("handle");
    let x: Vec<f64> = (0..a.ncols()).map(x_of).collect();
    let mut y: Vec<f64> = (0..a.nrows()).map(y0_of).collect();
    k.mult_vec(&h, alpha, &x, beta, &mut y).expect("spmv");
    let scale = (0..a.nrows())
        .map(|i| {
            let (c, v) = a.row(i);
            c.iter()
                .zip(v)
                .map(|(&j, v)| (v * x_of(j as usize)).abs())
                .sum::<f64>()
                + (beta * y0_of(i)).abs()
        })
        .collect();
    (y, scale)
}

/// Checks this rank's block of `alpha·A·x + beta·y0` against the serial result.
fn check_spmv(da: &DistCsr<f64, i32>, a: &Csr<f64, i32>, strategy: Option<Strategy>, what: &str) {
    let op = da.operator(&NativeKernel, strategy).expect("operator");
    let x = da.col_vector(x_of);
    for (alpha, beta) in [(1.0, 0.0), (-0.5, 2.0)] {
        let mut y = da.row_vector(y0_of);
        op.spmv(alpha, &x, beta, &mut y).expect("spmv");
        let (expected, scale) = serial_spmv(a, alpha, beta);
        let rows = da.my_rows();
        assert_eq!(y.local().len(), rows.len());
        for (k, i) in rows.enumerate() {
            let tol = 1e-14 * scale[i];
            assert!(
                (y.local()[k] - expected[i]).abs() <= tol,
                "{what}: row {i}: {} vs {}",
                y.local()[k],
                expected[i]
            );
        }
    }
}

fn spmv_matches_the_serial_kernel(world: &SimpleCommunicator) {
    let (rank, p) = ranks(world);
    for (name, a) in matrices() {
        for part in partitions(&a, p) {
            let da =
                DistCsr::scatter(world, (rank == 0).then_some(&a), part.as_ref()).expect("scatter");
            assert_eq!(da.shape(), a.shape());
            check_spmv(&da, &a, None, &format!("{name}, {part:?}"));
            // Ghost count and halo volume agree: what ranks receive is what they send.
            let (sent, _) = da.halo_sends();
            let mut totals = [sent as u64, da.ghosts().len() as u64];
            let mine = totals;
            world.all_reduce_into(&mine[..], &mut totals[..], SystemOperation::sum());
            assert_eq!(totals[0], totals[1], "{name}");
            if p == 1 {
                assert!(da.ghosts().is_empty() && da.nonlocal().nnz() == 0);
            }
        }
    }
}

fn every_strategy_runs_each_block(world: &SimpleCommunicator) {
    let rank = ranks(world).0;
    for spec in ["permuted:poisson2d:12", "powerlaw:400"] {
        let a = generated(spec);
        let da = DistCsr::scatter(world, (rank == 0).then_some(&a), None).expect("scatter");
        for s in Strategy::ALL {
            // `sparselib` runs MKL's inspector-executor: only where MKL loads.
            if s == Strategy::Sparselib && KernelId::Mkl.availability().is_err() {
                if rank == 0 {
                    println!("SKIP {spec} {s}: MKL is not installed");
                }
                continue;
            }
            check_spmv(&da, &a, Some(s), &format!("{spec} {s}"));
        }
    }
}

/// The three constructors give the same blocks.
fn constructors_agree(world: &SimpleCommunicator) {
    let (rank, p) = ranks(world);
    let a = generated("permuted:poisson2d:9");
    let uniform = RowPartition::uniform(a.nrows(), p);
    let scattered =
        DistCsr::scatter(world, (rank == 0).then_some(&a), Some(&uniform)).expect("scatter");
    let mine = a
        .submatrix(uniform.range(rank), 0..a.ncols())
        .expect("rows");
    let own = DistCsr::from_local_rows(world, mine).expect("own rows");
    assert_eq!(own.row_partition(), scattered.row_partition());
    assert_eq!(own.local(), scattered.local());
    assert_eq!(own.nonlocal(), scattered.nonlocal());
    assert_eq!(own.ghosts(), scattered.ghosts());
    // The ghosts are exactly the off-block columns of this rank's rows.
    let block = uniform.range(rank);
    let mut cols: Vec<usize> = a
        .submatrix(block.clone(), 0..a.ncols())
        .expect("rows")
        .col_idxs()
        .iter()
        .map(|&c| c as usize)
        .filter(|c| !block.contains(c))
        .collect();
    cols.sort_unstable();
    cols.dedup();
    assert_eq!(own.ghosts(), &cols[..]);
}

fn vector_reductions_and_gather(world: &SimpleCommunicator) {
    let rank = ranks(world).0;
    let a = generated("powerlaw:300");
    let da = DistCsr::scatter(world, (rank == 0).then_some(&a), None).expect("scatter");
    let x = da.col_vector(x_of);
    let mut y = da.col_vector(y0_of);
    let xs: Vec<f64> = (0..a.ncols()).map(x_of).collect();
    let ys: Vec<f64> = (0..a.ncols()).map(y0_of).collect();
    let dot: f64 = xs.iter().zip(&ys).map(|(a, b)| a * b).sum();
    assert!((x.dot(&y).expect("dot") - dot).abs() <= 1e-12 * dot.abs().max(1.0));
    let norm = xs.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((x.norm() - norm).abs() <= 1e-12 * norm);
    y.axpy(2.0, &x).expect("axpy");
    let gathered = y.gather(0).expect("gather");
    if rank == 0 {
        let expected: Vec<f64> = ys.iter().zip(&xs).map(|(y, x)| y + 2.0 * x).collect();
        assert_eq!(gathered, Some(expected));
    } else {
        assert_eq!(gathered, None);
    }
    // Vectors of different partitions do not mix.
    let b = generated("poisson2d:5");
    let db = DistCsr::scatter(world, (rank == 0).then_some(&b), None).expect("scatter");
    let z = db.col_vector(x_of);
    assert!(matches!(x.dot(&z), Err(Error::Mismatch { .. })));
}

/// `A + Aᵀ`: symmetric positive definite for the generated stencils.
fn spd(spec: &str) -> Csr<f64, i32> {
    let a = generated(spec);
    a.scale_add(1.0, 1.0, &a.transpose()).expect("same shape")
}

fn cg_follows_the_serial_cg(world: &SimpleCommunicator) {
    let (rank, p) = ranks(world);
    for spec in ["poisson2d:15", "permuted:poisson2d:15", "poisson3d:6"] {
        let a = spd(spec);
        let b: Vec<f64> = (0..a.nrows()).map(y0_of).collect();
        for jacobi in [false, true] {
            let options = CgOptions {
                tol: 1e-9,
                max_iter: 400,
                jacobi,
            };
            let serial = SerialOperator::new(&NativeKernel, a.view()).expect("handle");
            let s = cg(&serial, &b, &options).expect("serial cg");
            assert!(s.converged, "{spec}");
            let da = DistCsr::scatter(world, (rank == 0).then_some(&a), None).expect("scatter");
            let op = da.operator(&NativeKernel, None).expect("operator");
            let db = da.row_vector(y0_of);
            let d = cg(&op, &db, &options).expect("distributed cg");
            assert_eq!(d.iterations, s.iterations, "{spec} jacobi {jacobi}");
            for (k, (rd, rs)) in d.residuals.iter().zip(&s.residuals).enumerate() {
                if p == 1 {
                    assert_eq!(rd, rs, "{spec}: iteration {k}");
                } else {
                    assert!(
                        (rd - rs).abs() <= 1e-6 * rs,
                        "{spec}: iteration {k}: {rd} vs {rs}"
                    );
                }
            }
            for (k, i) in da.my_rows().enumerate() {
                assert!((d.x.local()[k] - s.x[i]).abs() <= 1e-7 * (1.0 + s.x[i].abs()));
            }
        }
    }
}

/// The shared corpus folder (`$CSR_TEST_DATA` or `../shared/data`), or `None` with a skip
/// line on rank 0.
fn corpus(rank: usize) -> Option<PathBuf> {
    let dir = std::env::var_os("CSR_TEST_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    let real = dir.join("matrices/real");
    if real.is_dir() {
        return Some(real);
    }
    if rank == 0 {
        println!(
            "SKIP real-matrix tests: no corpus at {} (set CSR_TEST_DATA)",
            dir.display()
        );
    }
    None
}

/// This rank's rows of `da` with global columns, each row sorted.
fn global_rows(da: &DistCsr<f64, i64>) -> Vec<Vec<(usize, f64)>> {
    let first_col = da.col_partition().range(da.rank().0).start;
    (0..da.local().nrows())
        .map(|i| {
            let (lc, lv) = da.local().row(i);
            let (gc, gv) = da.nonlocal().row(i);
            let mut row: Vec<(usize, f64)> = lc
                .iter()
                .zip(lv)
                .map(|(&c, &v)| (c as usize + first_col, v))
                .chain(
                    gc.iter()
                        .zip(gv)
                        .map(|(&g, &v)| (da.ghosts()[g as usize], v)),
                )
                .collect();
            row.sort_by_key(|e| e.0);
            row
        })
        .collect()
}

fn real_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".mtx") || name.ends_with(".mtx.gz")
        })
        .collect();
    files.sort();
    files
}

fn parallel_read_matches_the_serial_reader(world: &SimpleCommunicator) {
    let rank = ranks(world).0;
    let Some(dir) = corpus(rank) else { return };
    let options = ReadOptions::default();
    let files = real_files(&dir);
    assert!(!files.is_empty());
    let mut read = 0;
    for path in files {
        // Rank 0 reads serially; the error (if any) goes to every rank.
        let serial = if rank == 0 {
            Some(mm::read_csr_with::<f64, i64>(&path, &options))
        } else {
            None
        };
        let mut failed = u8::from(matches!(serial, Some(Err(_))));
        world.process_at_rank(0).broadcast_into(&mut failed);
        let dist = read_mm::<f64, i64>(world, &path, &options);
        if failed == 1 {
            // (complex files into f64): the same error on every rank, the serial one on 0.
            let err = dist
                .err()
                .unwrap_or_else(|| panic!("{} read", path.display()));
            if let Some(Err(s)) = serial {
                assert_eq!(err, Error::Csr(s), "{}", path.display());
            }
            continue;
        }
        let dist = dist.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let serial = serial.map(|s| s.expect("read"));
        // The serial matrix scattered by the same partition: the same rows on every rank.
        let scattered =
            DistCsr::scatter(world, serial.as_ref(), Some(dist.row_partition())).expect("scatter");
        assert_eq!(dist.shape(), scattered.shape(), "{}", path.display());
        assert_eq!(
            global_rows(&dist),
            global_rows(&scattered),
            "{}",
            path.display()
        );
        // SpMV on the parallel read's matrix against the reference kernel.
        let op = dist.operator(&NativeKernel, None).expect("operator");
        let x = dist.col_vector(x_of);
        let mut y = dist.row_vector(|_| 0.0);
        op.spmv(1.0, &x, 0.0, &mut y).expect("spmv");
        if let (Some(y), Some(a)) = (y.gather(0).expect("gather"), &serial) {
            let k = ReferenceKernel;
            let h = k.to_handle(a.view()).expect("handle");
            let xs: Vec<f64> = (0..a.ncols()).map(x_of).collect();
            let mut ys = vec![0.0; a.nrows()];
            k.mult_vec(&h, 1.0, &xs, 0.0, &mut ys).expect("spmv");
            for i in 0..a.nrows() {
                let (c, v) = a.row(i);
                let scale: f64 = c
                    .iter()
                    .zip(v)
                    .map(|(&j, v)| (v * xs[j as usize]).abs())
                    .sum();
                assert!(
                    (y[i] - ys[i]).abs() <= 1e-13 * scale,
                    "{}: row {i}",
                    path.display()
                );
            }
        }
        read += 1;
    }
    assert!(read > 0);
}

/// Writes `text` to a file all ranks can read (rank 0 writes; the name is rank 0's pid).
fn shared_file(world: &SimpleCommunicator, name: &str, text: &str) -> PathBuf {
    let mut pid = std::process::id() as u64;
    world.process_at_rank(0).broadcast_into(&mut pid);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("csr-mpi-{pid}-{name}"));
    if world.rank() == 0 {
        std::fs::write(&path, text).expect("writable");
    }
    world.barrier();
    path
}

fn bad_input_on_one_rank_fails_every_rank(world: &SimpleCommunicator) {
    let (rank, p) = ranks(world);
    // 200 entries; each defect sits in the last lines, so in the last rank's byte range.
    let lines: Vec<String> = (0..200)
        .map(|k| format!("{} {} {k}.5", k % 50 + 1, k / 4 + 1))
        .collect();
    let file = |lines: &[String]| {
        format!(
            "%%MatrixMarket matrix coordinate real general\n% a comment\n50 50 200\n{}\n",
            lines.join("\n")
        )
    };
    let with_line = |k: usize, line: &str| {
        let mut l = lines.clone();
        l[k] = line.to_string();
        file(&l)
    };
    let mut two = lines.clone();
    two[2] = "3 1 oops".to_string();
    two[198] = "49 x 198.5".to_string();
    let cases = [
        ("malformed", with_line(198, "49 x 198.5")),
        // Defects in the first and the last rank's ranges: the first in file order wins.
        ("two-defects", file(&two)),
        ("out-of-range", with_line(197, "51 50 197.5")),
        (
            "too-many",
            file(&[&lines[..], &["1 1 1".to_string()]].concat()),
        ),
        ("too-few", file(&lines[..197])),
    ];
    for (name, text) in cases {
        let path = shared_file(world, name, &text);
        let serial = mm::read_csr::<f64, i32>(&path).expect_err("bad input");
        assert!(
            matches!(serial, csr::Error::Parse { .. }),
            "{name}: {serial}"
        );
        let dist = read_mm::<f64, i32>(world, &path, &ReadOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name}: rank {rank} of {p} read bad input"));
        assert_eq!(dist, Error::Csr(serial), "{name} on rank {rank}");
        world.barrier();
        if rank == 0 {
            std::fs::remove_file(&path).expect("removable");
        }
    }
    // A file missing on every rank: the same I/O error everywhere.
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("csr-mpi-no-such-file.mtx");
    let err = read_mm::<f64, i32>(world, &missing, &ReadOptions::default()).err();
    assert!(matches!(
        err,
        Some(Error::Csr(csr::Error::Io { .. })) | Some(Error::OnRank { .. })
    ));
}

fn mismatched_inputs_fail_every_rank(world: &SimpleCommunicator) {
    let (rank, p) = ranks(world);
    // Rank 0 gives a partition of the wrong length: every rank fails alike.
    let a = generated("poisson2d:4");
    let bad = RowPartition::uniform(a.nrows() + 1, p);
    let err = DistCsr::scatter(world, (rank == 0).then_some(&a), Some(&bad)).err();
    assert!(err.is_some(), "rank {rank}");
    // Ranks disagreeing on the column count.
    let rows = Csr::<f64, i32>::empty(1, 3 + usize::from(rank == p - 1 && p > 1)).expect("empty");
    let err = DistCsr::from_local_rows(world, rows).err();
    if p > 1 {
        assert!(matches!(err, Some(Error::Mismatch { .. })), "rank {rank}");
    }
}
