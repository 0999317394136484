//! Operations on CSR: symmetric and row permutation, SpGEAM (`scale_add`) beside sprs'
//! addition, on poisson2d(2000) (4M rows, 20M entries) and powerlaw(1M).
//!
//! Throughput is the minimal traffic of each operation (f64 values, i32 indices: read and
//! write 12 bytes per entry, plus row pointers), so criterion reports effective GB/s. Each
//! group also times `clone` of the input, a copy with about the same traffic, as the
//! streaming reference measured in the same run.
//! Run: `cargo bench -p csr --bench ops`; see `benches/README.md`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use csr::generate::{DEFAULT_SEED, Generator};
use csr::{Csr, Permutation, PermuteMode};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64Mcg;

const MATRICES: [&str; 2] = ["poisson2d:2000", "powerlaw:1m"];

fn random_permutation(n: usize) -> Permutation<i32> {
    let mut p: Vec<i32> = (0..n).map(|i| i32::try_from(i).expect("fits")).collect();
    p.shuffle(&mut Pcg64Mcg::seed_from_u64(DEFAULT_SEED));
    Permutation::try_new(p).expect("a shuffle is a permutation")
}

fn sprs_of(a: &Csr<f64, i32>) -> sprs::CsMatI<f64, i32, i32> {
    sprs::CsMatI::new(
        a.shape(),
        a.row_ptrs().to_vec(),
        a.col_idxs().to_vec(),
        a.values().to_vec(),
    )
}

fn bench_ops(c: &mut Criterion) {
    for spec in MATRICES {
        let generator: Generator = spec.parse().expect("valid built-in spec");
        let a: Csr<f64, i32> = generator.build(DEFAULT_SEED).expect("fits i32");
        let (n, nnz) = (a.nrows(), a.nnz());
        let id = spec.replace(':', "-");
        let p = random_permutation(n);

        let mut g = c.benchmark_group("permute");
        g.sample_size(10);
        g.throughput(Throughput::Bytes((24 * nnz + 8 * n) as u64));
        g.bench_function(BenchmarkId::new(&id, "clone"), |b| {
            b.iter(|| black_box(&a).clone())
        });
        for (name, mode) in [
            ("symmetric", PermuteMode::Symmetric),
            ("rows", PermuteMode::Rows),
        ] {
            g.bench_function(BenchmarkId::new(&id, name), |b| {
                b.iter(|| black_box(&a).permute(&p, mode).expect("square"))
            });
        }
        g.finish();

        // B: the transpose with other values (for powerlaw a different pattern, so the
        // union is larger than either input).
        let mut bm = a.transpose();
        bm.scale(0.5);
        let out = a.scale_add(2.0, -1.0, &bm).expect("same shape").nnz();
        let mut g = c.benchmark_group("spgeam");
        g.sample_size(10);
        g.throughput(Throughput::Bytes((12 * (2 * nnz + out) + 12 * n) as u64));
        g.bench_function(BenchmarkId::new(&id, "clone"), |b| {
            b.iter(|| black_box(&a).clone())
        });
        g.bench_function(BenchmarkId::new(&id, "csr"), |b| {
            b.iter(|| black_box(&a).scale_add(2.0, -1.0, &bm).expect("same shape"))
        });
        let (sa, sb) = (sprs_of(&a), sprs_of(&bm));
        g.bench_function(BenchmarkId::new(&id, "sprs"), |b| {
            b.iter(|| sprs::binop::csmat_binop(sa.view(), sb.view(), |x, y| 2.0 * x - y))
        });
        g.finish();
    }
}

criterion_group!(benches, bench_ops);
criterion_main!(benches);
