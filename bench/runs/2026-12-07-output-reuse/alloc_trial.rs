//! Scratch (outside the repository): does reusing freed outputs pay? Outputs zeroed (as the
//! library asks) or left uninitialized (a temporary switch), alternating call by call;
//! allocator: system, or jemalloc with the `jemalloc` feature.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use csr::kernel::{Kernel, NativeKernel};
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let op = std::env::var("OP").unwrap_or("transpose".into());
    let calls: usize = std::env::var("CALLS").ok().map(|s| s.parse().unwrap()).unwrap_or(21);
    let a = csr::io::mm::read_csr::<f64, i32>(&path).expect("read");
    let k = NativeKernel;
    let ha = Kernel::<f64, i32>::to_handle(&k, a.view()).unwrap();
    let mut t = [vec![], vec![]];
    let mut check = [0u64; 2];
    for i in 0..calls {
        for q0 in 0..2 {
            let q = (q0 + i) % 2;
            csr::UNINIT_TRIAL.store(q == 1, std::sync::atomic::Ordering::Relaxed);
            let s = Instant::now();
            let m = if op == "transpose" {
                a.view().transpose()
            } else {
                let c = k.mult_ab_unsorted(&ha, &ha).unwrap();
                k.from_handle(&c).unwrap()
            };
            let dt = s.elapsed().as_secs_f64() * 1e3;
            t[q].push(dt);
            check[q] = m.values().iter().zip(m.col_idxs()).fold(0u64, |h, (v, &c)| h.rotate_left(3) ^ v.to_bits() ^ c as u64);
            drop(m);
        }
    }
    let mut r: Vec<f64> = t[0].iter().zip(&t[1]).map(|(z, u)| z / u).collect();
    r.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for q in 0..2 {
        t[q].sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    println!("{op} {}: zeroed median {:.1} ms (min {:.1}), uninit median {:.1} (min {:.1}); per-call zeroed/uninit median {:.3}; same result: {}",
        if cfg!(feature = "jemalloc") { "jemalloc" } else { "system" },
        t[0][calls / 2], t[0][0], t[1][calls / 2], t[1][0], r[calls / 2], check[0] == check[1]);
}
