// Scratch binary (a crate outside the repository, `csr` as a path dependency on a worktree
// where the two prefetch distances of `kernel/native/spgemm.rs` were atomics, made public
// for this program; not committed): `mult_ab_unsorted` of a file's matrix by itself on
// kept handles, the DIST settings ("ptrs,row") alternated call by call after two warm-up
// rounds. Usage: pf-ab FILE.mtx CALLS DIST...
use csr::kernel::{Kernel, NativeKernel};
use std::sync::atomic::Ordering;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let calls: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let settings: Vec<(usize, usize)> = std::env::args().skip(3).map(|s| { let (a, b) = s.split_once(',').unwrap(); (a.parse().unwrap(), b.parse().unwrap()) }).collect();
    let a = csr::io::mm::read_csr::<f64, i32>(&path).unwrap();
    let k = NativeKernel;
    let ha = Kernel::<f64, i32>::to_handle(&k, a.view()).unwrap();
    let hb = Kernel::<f64, i32>::to_handle(&k, a.view()).unwrap();
    let mut t = vec![vec![]; settings.len()];
    for i in 0..calls + 2 {
        for q in 0..settings.len() {
            let q = (q + i) % settings.len();
            csr::kernel::native::spgemm::PF_PTRS.store(settings[q].0, Ordering::Relaxed);
            csr::kernel::native::spgemm::PF_ROW.store(settings[q].1, Ordering::Relaxed);
            let s = Instant::now();
            let c = k.mult_ab_unsorted(&ha, &hb).unwrap();
            let e = s.elapsed().as_secs_f64() * 1e3;
            drop(c);
            if i >= 2 { t[q].push(e); }
        }
    }
    let base = t[0].clone();
    for q in 0..settings.len() {
        let mut r: Vec<f64> = base.iter().zip(&t[q]).map(|(b, x)| b / x).collect();
        r.sort_by(f64::total_cmp);
        let mut v = t[q].clone();
        v.sort_by(f64::total_cmp);
        println!("ptrs {:2} row {:2}: median {:.2} ms min {:.2}; per-call base/this median {:.3}", settings[q].0, settings[q].1, v[v.len() / 2], v[0], r[r.len() / 2]);
    }
}
