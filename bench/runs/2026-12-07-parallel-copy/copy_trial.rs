//! Scratch (outside the repository): a matrix's arrays copied serially (`to_vec`, as
//! `CsrRef::to_csr` does) against a parallel copy into fresh zero pages (huge-page advised
//! as the library's `zeroed_output`), alternating call by call.
use rayon::prelude::*;
use std::time::Instant;
fn fresh<X: bytemuck::Zeroable>(len: usize) -> Vec<X> {
    let v: Vec<X> = bytemuck::zeroed_vec(len);
    let bytes = v.capacity() * size_of::<X>();
    if bytes >= 2 << 20 {
        let h = 2usize << 20;
        let s = v.as_ptr() as usize;
        let (lo, hi) = (s.next_multiple_of(h), (s + bytes) / h * h);
        if hi > lo { unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) }; }
    }
    v
}
fn par_copy<X: bytemuck::Zeroable + Copy + Send + Sync>(src: &[X]) -> Vec<X> {
    let mut out = fresh(src.len());
    let piece = src.len().div_ceil(rayon::current_num_threads()).max(1);
    out.par_chunks_mut(piece).zip(src.par_chunks(piece)).for_each(|(d, s)| d.copy_from_slice(s));
    out
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    if path == "sweep" {
        for mb in [1usize, 2, 4, 8, 16, 24, 32, 48, 64, 128] {
            let src: Vec<f64> = (0..mb << 17).map(|i| i as f64).collect();
            let mut t = [vec![], vec![]];
            for i in 0..41 {
                for q0 in 0..2 {
                    let q = (q0 + i) % 2;
                    let s = Instant::now();
                    let c = if q == 0 { src.to_vec() } else { par_copy(&src) };
                    t[q].push(s.elapsed().as_secs_f64() * 1e3);
                    assert!(c[c.len() - 1] == src[src.len() - 1]);
                }
            }
            let mut r: Vec<f64> = t[0].iter().zip(&t[1]).map(|(s, p)| s / p).collect();
            r.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for q in 0..2 { t[q].sort_by(|a, b| a.partial_cmp(b).unwrap()); }
            println!("{mb:4} MB: serial median {:.3} ms, parallel {:.3}; per-call serial/parallel median {:.2}", t[0][20], t[1][20], r[20]);
        }
        return;
    }
    let calls: usize = std::env::var("CALLS").ok().map(|s| s.parse().unwrap()).unwrap_or(21);
    let a = csr::io::mm::read_csr::<f64, i32>(&path).expect("read");
    let (rp, ci, vs) = (a.row_ptrs(), a.col_idxs(), a.values());
    let mut t = [vec![], vec![]];
    for i in 0..calls {
        for q0 in 0..2 {
            let q = (q0 + i) % 2;
            let s = Instant::now();
            let c = if q == 0 { (rp.to_vec(), ci.to_vec(), vs.to_vec()) } else { (par_copy(rp), par_copy(ci), par_copy(vs)) };
            t[q].push(s.elapsed().as_secs_f64() * 1e3);
            assert!(c.0 == rp && c.1 == ci && c.2 == vs);
        }
    }
    let mut r: Vec<f64> = t[0].iter().zip(&t[1]).map(|(s, p)| s / p).collect();
    r.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for q in 0..2 { t[q].sort_by(|a, b| a.partial_cmp(b).unwrap()); }
    println!("{} ({} entries): serial median {:.1} ms (min {:.1}), parallel {:.1} (min {:.1}); per-call serial/parallel median {:.2}",
        path.rsplit('/').next().unwrap(), ci.len(), t[0][calls / 2], t[0][0], t[1][calls / 2], t[1][0], r[calls / 2]);
}
