//! Read bandwidth of 1 vs 2 threads over 320 MB (about the bytes a one-call SpMV of
//! poisson2d(2000) reads): a wrapping sum of `u64`s, which the compiler vectorises.
//! Scratch crate outside the repository (`rayon` its only dependency).
use rayon::prelude::*;
use std::time::Instant;
fn main() {
    let n = 40_000_000usize; // 320 MB of f64
    let v: Vec<u64> = (0..n as u64).map(|i| i % 13).collect();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for round in 0..5 {
        let mut r = vec![];
        for pool in [&one, &two] {
            let t = Instant::now();
            let s: u64 = pool.install(|| v.par_chunks(1 << 20).map(|c| c.iter().fold(0u64, |a, &x| a.wrapping_add(x))).reduce(|| 0, u64::wrapping_add));
            std::hint::black_box(s);
            r.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!("round {round}: 320 MB read, 1 thread {:.1} ms ({:.1} GB/s), 2 threads {:.1} ms ({:.1} GB/s), ratio {:.2}", r[0], 320.0 / r[0], r[1], 320.0 / r[1], r[0] / r[1]);
    }
}
