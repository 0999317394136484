//! The machine's streaming read bandwidth, measured in the same run as the benchmarks.

use std::time::Instant;

use rayon::prelude::*;

/// Size of the buffer the probe streams through (f64 values): 512 MiB, far beyond the caches.
pub const PROBE_LEN: usize = 64 << 20;

/// Streaming read bandwidth in bytes per second: the best of `reps` (at least 3) parallel
/// sums over a buffer of `len` f64 values.
pub fn measure_read(len: usize, reps: usize) -> f64 {
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
