// Scratch binary (a crate outside the repository, `csr` as a path dependency on a worktree
// where `is_dense` of `kernel/native/spgemm.rs` divides the column count by the public
// atomic DENSE_DIV, and `accumulate` takes a branch-free loop when the public atomic
// BRANCH_FREE is set; not committed): a product of a file's matrix with itself on kept
// handles (A·B; ABT=1: A·Bᵀ; SORTED=1: rows sorted, else any order; TOPK=1: top 20 of
// A·Aᵀ), the settings ("div,branchfree") alternated call by call after two warm-up rounds;
// every setting's product checked equal (bits, order) to the first's.
// Usage: dense-ab FILE.mtx CALLS SETTING...
use csr::kernel::native::spgemm::{BRANCH_FREE, DENSE_DIV};
use csr::kernel::{Kernel, NativeKernel};
use std::sync::atomic::Ordering;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let calls: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let settings: Vec<(usize, bool)> = std::env::args()
        .skip(3)
        .map(|s| {
            let (a, b) = s.split_once(',').unwrap();
            (a.parse().unwrap(), b == "1")
        })
        .collect();
    let a = csr::io::mm::read_csr::<f64, i32>(&path).unwrap();
    let k = NativeKernel;
    let ha = Kernel::<f64, i32>::to_handle(&k, a.view()).unwrap();
    let hb = Kernel::<f64, i32>::to_handle(&k, a.view()).unwrap();
    let abt = std::env::var_os("ABT").is_some();
    let sorted = std::env::var_os("SORTED").is_some();
    let run = || {
        let c = if std::env::var_os("TOPK").is_some() {
            k.mult_abt_topk(&ha, &ha, &csr::kernel::TopK::new(20)).unwrap()
        } else if abt && sorted {
            k.mult_abt(&ha, &hb).unwrap()
        } else if abt {
            k.mult_abt_unsorted(&ha, &hb).unwrap()
        } else if sorted {
            k.mult_ab(&ha, &hb).unwrap()
        } else {
            k.mult_ab_unsorted(&ha, &hb).unwrap()
        };
        c
    };
    let mut first: Option<csr::Csr<f64, i32>> = None;
    for &(d, bf) in &settings {
        DENSE_DIV.store(d, Ordering::Relaxed);
        BRANCH_FREE.store(bf, Ordering::Relaxed);
        let c = Kernel::<f64, i32>::from_handle(&k, &run()).unwrap();
        if let Some(f) = &first {
            assert_eq!(f.row_ptrs(), c.row_ptrs(), "row pointers differ for {d},{bf}");
            let same = f.col_idxs() == c.col_idxs()
                && f.values().iter().zip(c.values()).all(|(x, y)| x.to_bits() == y.to_bits());
            println!("setting {d},{} same bits and order as the first: {same}", bf as u8);
        } else {
            println!("nnz {}", c.nnz());
            first = Some(c);
        }
    }
    let mut t = vec![vec![]; settings.len()];
    for i in 0..calls + 2 {
        for q in 0..settings.len() {
            let q = (q + i) % settings.len();
            DENSE_DIV.store(settings[q].0, Ordering::Relaxed);
            BRANCH_FREE.store(settings[q].1, Ordering::Relaxed);
            let s = Instant::now();
            let c = run();
            let e = s.elapsed().as_secs_f64() * 1e3;
            drop(c);
            if i >= 2 {
                t[q].push(e);
            }
        }
    }
    let base = t[0].clone();
    for q in 0..settings.len() {
        let mut r: Vec<f64> = base.iter().zip(&t[q]).map(|(b, x)| b / x).collect();
        r.sort_by(f64::total_cmp);
        let mut v = t[q].clone();
        v.sort_by(f64::total_cmp);
        println!(
            "div {:2} branch-free {}: median {:.2} ms min {:.2}; per-call first/this median {:.3}",
            settings[q].0, settings[q].1 as u8, v[v.len() / 2], v[0], r[r.len() / 2]
        );
    }
}
