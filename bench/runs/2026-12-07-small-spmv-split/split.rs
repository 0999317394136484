// Scratch binary (a crate outside the repository, `csr` and `rayon` as dependencies):
// serial row loop against the same loop split in two row halves of equal entries on a
// two-thread rayon pool, called from the main thread (not a pool worker, as calls from
// Python are), alternating call by call, with a busy gap between calls.
// Usage: split FILE.mtx GAP_US
use std::time::{Duration, Instant};
fn naive(ptr: &[i32], cols: &[i32], vals: &[f64], x: &[f64], y: &mut [f64]) {
    for i in 0..y.len() {
        let (s, e) = (ptr[i] as usize, ptr[i + 1] as usize);
        let mut sum = 0.0;
        for j in s..e {
            unsafe { sum += vals.get_unchecked(j) * x.get_unchecked(*cols.get_unchecked(j) as usize); }
        }
        y[i] = sum;
    }
}
fn spin(us: u64) { let t = Instant::now(); while t.elapsed() < Duration::from_micros(us) { std::hint::spin_loop(); } }
fn med(mut v: Vec<f64>) -> f64 { v.sort_by(f64::total_cmp); v[v.len() / 2] }
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let gap: u64 = std::env::args().nth(2).unwrap().parse().unwrap();
    let a = csr::io::mm::read_csr::<f64, i32>(&p).unwrap();
    let x: Vec<f64> = (0..a.ncols()).map(|i| (i % 7) as f64 * 0.1).collect();
    let mut y = vec![0.0; a.nrows()];
    let (ptr, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    let nnz = cols.len();
    let half = ptr.partition_point(|&p| (p as usize) < nnz / 2).min(a.nrows());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let (mut s, mut j) = (vec![], vec![]);
    for it in 0..4000 {
        let t = Instant::now();
        if it % 2 == 0 {
            naive(ptr, cols, vals, &x, &mut y);
        } else {
            let (y0, y1) = y.split_at_mut(half);
            pool.install(|| rayon::join(|| naive(&ptr[..=half], cols, vals, &x, y0), || naive(&ptr[half..], cols, vals, &x, y1)));
        }
        let e = t.elapsed().as_secs_f64() * 1e6;
        std::hint::black_box(&mut y);
        if it >= 100 { if it % 2 == 0 { s.push(e) } else { j.push(e) } }
        if gap > 0 { spin(gap) }
    }
    println!("gap {gap} us: serial {:.1} us, split2 {:.1} us (ratio {:.2})", med(s.clone()), med(j.clone()), med(s) / med(j));
}
