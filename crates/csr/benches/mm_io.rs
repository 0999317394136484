//! Matrix Market read and write throughput, side by side with sprs, on generated coordinate
//! real files with random values: `random:200k:200k:10` (2M entries) and, with
//! `CSR_MM_BENCH_BIG=1`, `random:2m:2m:10` (20M entries).
//!
//! The files are written once into `$CSR_MM_BENCH_DIR` (default: the system temp folder) by
//! this crate's writer, and reused. Throughput is the file's size, so criterion reports MB/s.
//! Run: `cargo bench -p csr --bench mm_io`; csr, sprs and scipy side by side in rounds:
//! `benches/mm_io_vs_scipy.py` (same files). See `benches/README.md` for a recorded run.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use csr::Csr;
use csr::generate::{DEFAULT_SEED, Generator};
use csr::io::mm::{self, ReadOptions, WriteOptions};

fn bench_dir() -> PathBuf {
    std::env::var_os("CSR_MM_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// The benchmark file for `spec`, written on first use.
fn file(spec: &str) -> PathBuf {
    let path = bench_dir().join(format!("csr-mm-{}.mtx", spec.replace(':', "_")));
    if !path.exists() {
        let generator: Generator = spec.parse().expect("valid spec");
        let a: Csr<f64, i32> = generator.build(DEFAULT_SEED).expect("fits i32");
        mm::write_csr(&path, &a, &WriteOptions::default()).expect("write bench file");
    }
    path
}

fn specs() -> Vec<&'static str> {
    let mut v = vec!["random:200000:200000:10"];
    if std::env::var_os("CSR_MM_BENCH_BIG").is_some() {
        v.push("random:2000000:2000000:10");
    }
    v
}

fn bench_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("mm_read");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for spec in specs() {
        let path = file(spec);
        let bytes = std::fs::metadata(&path).expect("bench file").len();
        g.throughput(Throughput::Bytes(bytes));
        let name = spec.split(':').take(2).collect::<Vec<_>>().join(":");
        g.bench_with_input(BenchmarkId::new("csr:triplets", &name), &path, |b, p| {
            b.iter(|| {
                black_box(
                    mm::read_matrix_data::<f64, i32>(p, &ReadOptions::default()).expect("read"),
                )
            });
        });
        g.bench_with_input(BenchmarkId::new("csr:csr", &name), &path, |b, p| {
            b.iter(|| black_box(mm::read_csr::<f64, i32>(p).expect("read")));
        });
        g.bench_with_input(BenchmarkId::new("sprs:triplets", &name), &path, |b, p| {
            b.iter(|| black_box(sprs::io::read_matrix_market::<f64, i32, _>(p).expect("read")));
        });
    }
    g.finish();
}

fn bench_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("mm_write");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for spec in specs() {
        let path = file(spec);
        let bytes = std::fs::metadata(&path).expect("bench file").len();
        let a = mm::read_csr::<f64, i32>(&path).expect("read");
        let s = sprs::CsMatI::<f64, i32>::new(
            a.shape(),
            a.row_ptrs().to_vec(),
            a.col_idxs().to_vec(),
            a.values().to_vec(),
        );
        g.throughput(Throughput::Bytes(bytes));
        let name = spec.split(':').take(2).collect::<Vec<_>>().join(":");
        let out = bench_dir().join("csr-mm-bench-out.mtx");
        g.bench_with_input(BenchmarkId::new("csr", &name), &a, |b, a| {
            b.iter(|| mm::write_csr(&out, a, &WriteOptions::default()).expect("write"));
        });
        g.bench_with_input(BenchmarkId::new("sprs", &name), &s, |b, s| {
            b.iter(|| sprs::io::write_matrix_market(&out, s).expect("write"));
        });
        std::fs::remove_file(&out).ok();
    }
    g.finish();
}

criterion_group!(benches, bench_read, bench_write);
criterion_main!(benches);
