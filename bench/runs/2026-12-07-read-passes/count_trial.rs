// Scratch binary (a crate outside the repository, `memmap2` and `rayon` as dependencies):
// counts the line ends of a file mapped with MAP_POPULATE in 4 MB chunks on the pool (what
// the reader's first pass does), once, and twice per chunk (the second count from cache).
// Usage: count-trial FILE.mtx
use rayon::prelude::*;
use std::time::Instant;
fn count_line_ends(s: &[u8]) -> (usize, usize) {
    const LANES: usize = 32;
    let fold = |acc: &[u8; LANES]| acc.iter().map(|&x| usize::from(x)).sum::<usize>();
    let (mut nl, mut cr) = (0, 0);
    let mut blocks = s.chunks_exact(LANES * 255);
    for block in &mut blocks {
        let (mut an, mut ar) = ([0_u8; LANES], [0_u8; LANES]);
        for v in block.chunks_exact(LANES) {
            for k in 0..LANES {
                an[k] += u8::from(v[k] == b'\n');
                ar[k] += u8::from(v[k] == b'\r');
            }
        }
        nl += fold(&an);
        cr += fold(&ar);
    }
    let rest = blocks.remainder();
    nl += rest.iter().filter(|&&b| b == b'\n').count();
    cr += rest.iter().filter(|&&b| b == b'\r').count();
    (nl, cr)
}
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let f = std::fs::File::open(p).unwrap();
    let m = unsafe { memmap2::MmapOptions::new().populate().map(&f).unwrap() };
    let chunk = 4 << 20;
    for round in 0..5 {
        let t = Instant::now();
        let s: usize = m.par_chunks(chunk).map(|c| count_line_ends(c).0).sum();
        let a = t.elapsed();
        // count twice per chunk: second pass hits cache
        let t = Instant::now();
        let s2: usize = m.par_chunks(chunk).map(|c| { let x = count_line_ends(c).0; std::hint::black_box(x); count_line_ends(c).0 }).sum();
        let b = t.elapsed();
        // cached count: 1 MB subchunks twice
        let t = Instant::now();
        let s3: usize = m.par_chunks(1<<20).map(|c| { let x = count_line_ends(c).0; std::hint::black_box(x); count_line_ends(c).0 }).sum();
        let c = t.elapsed();
        println!("round {round}: once {:.1} ms, twice(4MB) {:.1} ms, twice(1MB) {:.1} ms  {s} {s2} {s3}", a.as_secs_f64()*1e3, b.as_secs_f64()*1e3, c.as_secs_f64()*1e3);
    }
}
