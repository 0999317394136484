//! Core structural operations, side by side with sprs: COO→CSR assembly, transpose, and
//! row sorting on poisson2d(2000) (4M rows, 20M entries) and powerlaw(1M).
//!
//! Throughput is the minimal traffic of each operation, so criterion reports effective GB/s.
//! Run: `cargo bench -p csr --bench core`. The scipy equivalents are timed by
//! `bench/scipy_core.py`; see `benches/README.md` for a recorded run.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use csr::generate::{DEFAULT_SEED, Generator};
use csr::{Csr, Duplicates};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64Mcg;

const MATRICES: [&str; 2] = ["poisson2d:2000", "powerlaw:1m"];

fn matrix(spec: &str) -> Csr<f64, i32> {
    let generator: Generator = spec.parse().expect("valid built-in spec");
    generator
        .build(DEFAULT_SEED)
        .expect("built-in matrix fits i32")
}

/// The entries of `a` as COO arrays in a random order.
fn shuffled_triplets(a: &Csr<f64, i32>) -> (Vec<i32>, Vec<i32>, Vec<f64>) {
    let (rows, cols, vals) = (a.row_indices(), a.col_idxs(), a.values());
    let mut order: Vec<usize> = (0..a.nnz()).collect();
    order.shuffle(&mut Pcg64Mcg::seed_from_u64(DEFAULT_SEED));
    (
        order.iter().map(|&k| rows[k]).collect(),
        order.iter().map(|&k| cols[k]).collect(),
        order.iter().map(|&k| vals[k]).collect(),
    )
}

/// `a` with every row's entries in a random order.
fn shuffled_rows(a: &Csr<f64, i32>) -> Csr<f64, i32> {
    let mut rng = Pcg64Mcg::seed_from_u64(DEFAULT_SEED);
    let (mut cols, mut vals) = (a.col_idxs().to_vec(), a.values().to_vec());
    for r in 0..a.nrows() {
        let range = a.view().row_range(r);
        let mut pairs: Vec<(i32, f64)> = range.clone().map(|k| (cols[k], vals[k])).collect();
        pairs.shuffle(&mut rng);
        for (k, (c, v)) in range.zip(pairs) {
            cols[k] = c;
            vals[k] = v;
        }
    }
    Csr::try_from_parts(a.nrows(), a.ncols(), a.row_ptrs().to_vec(), cols, vals).expect("valid")
}

fn to_usize(xs: &[i32]) -> Vec<usize> {
    xs.iter()
        .map(|&x| usize::try_from(x).expect("non-negative"))
        .collect()
}

fn bench_core(c: &mut Criterion) {
    for spec in MATRICES {
        let a = matrix(spec);
        let (nrows, ncols, nnz) = (a.nrows(), a.ncols(), a.nnz());
        let id = spec.replace(':', "-");
        let (rows, cols, vals) = shuffled_triplets(&a);

        let mut g = c.benchmark_group("assembly");
        g.sample_size(10);
        g.throughput(Throughput::Bytes((28 * nnz + 4 * nrows) as u64));
        for (name, dup) in [("csr:sum", Duplicates::Sum), ("csr:keep", Duplicates::Keep)] {
            g.bench_function(BenchmarkId::new(&id, name), |b| {
                b.iter(|| Csr::try_from_coo(nrows, ncols, &rows, &cols, &vals, dup).expect("valid"))
            });
        }
        let (urows, ucols) = (to_usize(&rows), to_usize(&cols));
        g.bench_function(BenchmarkId::new(&id, "sprs:tocsr"), |b| {
            b.iter_batched(
                || (urows.clone(), ucols.clone(), vals.clone()),
                |(r, c, v)| sprs::TriMat::from_triplets((nrows, ncols), r, c, v).to_csr::<usize>(),
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();

        let mut g = c.benchmark_group("transpose");
        g.sample_size(10);
        g.throughput(Throughput::Bytes((24 * nnz + 4 * (nrows + ncols)) as u64));
        g.bench_function(BenchmarkId::new(&id, "csr"), |b| {
            b.iter(|| black_box(&a).transpose())
        });
        let sp = sprs::CsMatI::<f64, i32, i32>::new(
            (nrows, ncols),
            a.row_ptrs().to_vec(),
            a.col_idxs().to_vec(),
            a.values().to_vec(),
        );
        g.bench_function(BenchmarkId::new(&id, "sprs"), |b| {
            b.iter(|| black_box(&sp).transpose_view().to_csr())
        });
        g.finish();

        let unsorted = shuffled_rows(&a);
        let mut g = c.benchmark_group("sort");
        g.sample_size(10);
        g.throughput(Throughput::Bytes((24 * nnz + 4 * nrows) as u64));
        g.bench_function(BenchmarkId::new(&id, "csr"), |b| {
            b.iter_batched(
                || unsorted.clone(),
                |mut m| {
                    m.sort_by_column_index();
                    m
                },
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_function(BenchmarkId::new(&id, "sprs:new_from_unsorted"), |b| {
            b.iter_batched(
                || unsorted.clone().into_parts(),
                |(nr, nc, p, ci, v)| {
                    sprs::CsMatI::<f64, i32, i32>::new_from_unsorted((nr, nc), p, ci, v)
                },
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench_core);
criterion_main!(benches);
