// Cargo.toml: package `spin`, edition 2024, dependencies `csr = { path = "<repo>/crates/csr" }`, `rayon = "1"`.
//! Scratch: SpMV (the AVX-512 gather row loop) over nnz-balanced row blocks, from the
//! main thread: serially; on a two-thread rayon pool (`install` + `par_iter`, as the
//! library); on a "team" of the caller plus one helper thread that spins for SPIN_US after
//! each job before parking (blocks taken from a shared counter). Variants alternate call by
//! call; GAP_US of busy waiting between calls. Usage: spin FILE.mtx CALLS BLOCKS
use std::arch::x86_64::*;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[target_feature(enable = "avx512f")]
unsafe fn row(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        for b in 0..blocks {
            let j = s + b * 8;
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast());
            let xs = _mm512_i32gather_pd::<8>(c, x.as_ptr().cast());
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        let mut l = [0.0f64; 8];
        _mm512_storeu_pd(l.as_mut_ptr(), sums);
        let mut sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        for j in s + blocks * 8..e {
            sum += vals[j] * x[cols[j] as usize];
        }
        sum
    }
}

fn rows_into(p: &[i32], c: &[i32], v: &[f64], x: &[f64], rows: std::ops::Range<usize>, y: *mut f64) {
    for r in rows {
        let (s, e) = (p[r] as usize, p[r + 1] as usize);
        let val = if e - s >= 16 {
            unsafe { row(c, v, x, s, e) }
        } else {
            let mut sum = 0.0;
            for j in s..e {
                sum += v[j] * x[c[j] as usize];
            }
            sum
        };
        unsafe { *y.add(r) = val };
    }
}

struct Shared {
    epoch: AtomicUsize,
    done: AtomicUsize,
    parked: AtomicBool,
    job: UnsafeCell<Option<*const (dyn Fn() + Sync)>>,
}
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

struct Team {
    shared: Arc<Shared>,
    helper: std::thread::JoinHandle<()>,
    epoch: usize,
}

impl Team {
    fn new(spin: Duration) -> Team {
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            parked: AtomicBool::new(false),
            job: UnsafeCell::new(None),
        });
        let s = shared.clone();
        let helper = std::thread::spawn(move || {
            let mut seen = 0;
            loop {
                let mut start = Instant::now();
                let mut spins = 0u32;
                let e = loop {
                    let e = s.epoch.load(Acquire);
                    if e != seen {
                        break e;
                    }
                    spins += 1;
                    if spins % 64 == 0 && start.elapsed() > spin {
                        s.parked.store(true, SeqCst);
                        if s.epoch.load(SeqCst) == seen {
                            std::thread::park();
                        }
                        s.parked.store(false, SeqCst);
                        start = Instant::now();
                    }
                    std::hint::spin_loop();
                };
                seen = e;
                let f = unsafe { &*(*s.job.get()).unwrap() };
                f();
                s.done.store(e, Release);
            }
        });
        Team { shared, helper, epoch: 0 }
    }
    fn run(&mut self, f: &(dyn Fn() + Sync)) {
        self.epoch += 1;
        // The helper reads the job only after seeing the new epoch (Acquire/SeqCst).
        unsafe {
            *self.shared.job.get() = Some(std::mem::transmute::<&(dyn Fn() + Sync), &'static (dyn Fn() + Sync)>(f) as *const _)
        };
        self.shared.epoch.store(self.epoch, SeqCst);
        if self.shared.parked.load(SeqCst) {
            self.helper.thread().unpark();
        }
        f();
        while self.shared.done.load(Acquire) != self.epoch {
            std::hint::spin_loop();
        }
    }
}

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let calls: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let nblocks: usize = std::env::args().nth(3).unwrap().parse().unwrap();
    let gap = Duration::from_micros(std::env::var("GAP_US").ok().and_then(|v| v.parse().ok()).unwrap_or(0));
    let spin = Duration::from_micros(std::env::var("SPIN_US").ok().and_then(|v| v.parse().ok()).unwrap_or(50));
    let a: csr::Csr<f64, i32> = csr::io::mm::read_csr(&path).unwrap();
    let (p, c, v) = (a.row_ptrs(), a.col_idxs(), a.values());
    let m = a.nrows();
    let x: Vec<f64> = (0..a.ncols()).map(|i| ((i as f64) * 0.37).sin()).collect();
    // nnz + rows balanced blocks
    let total = c.len() + m;
    let mut bounds = vec![0usize];
    for b in 1..nblocks {
        let target = total * b / nblocks;
        let r = (0..=m).position(|r| p[r] as usize + r >= target).unwrap_or(m);
        bounds.push(r.max(*bounds.last().unwrap()));
    }
    bounds.push(m);
    let blocks: Vec<_> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut team = Team::new(spin);
    let mut y = vec![0.0; m];
    struct P(*mut f64);
    unsafe impl Sync for P {}
    let mut t = vec![vec![]; 3];
    let mut reference = vec![0.0; m];
    rows_into(p, c, v, &x, 0..m, reference.as_mut_ptr());
    for i in 0..calls + 50 {
        for q in 0..3 {
            let q = (q + i) % 3;
            y.iter_mut().for_each(|v| *v = 0.0);
            let yp = P(y.as_mut_ptr());
            let yp = &yp;
            let g = Instant::now();
            while g.elapsed() < gap {
                std::hint::spin_loop();
            }
            let s = Instant::now();
            match q {
                0 => rows_into(p, c, v, &x, 0..m, yp.0),
                1 => pool.install(|| {
                    use rayon::prelude::*;
                    blocks.par_iter().for_each(|b| rows_into(p, c, v, &x, b.clone(), yp.0))
                }),
                _ => {
                    let next = AtomicUsize::new(0);
                    let f = || loop {
                        let i = next.fetch_add(1, Relaxed);
                        if i >= blocks.len() {
                            break;
                        }
                        rows_into(p, c, v, &x, blocks[i].clone(), yp.0);
                    };
                    team.run(&f);
                }
            }
            let e = s.elapsed().as_secs_f64() * 1e6;
            assert!(y.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()));
            if i >= 50 {
                t[q].push(e);
            }
        }
    }
    for (q, name) in ["serial", "rayon", "team"].iter().enumerate() {
        let mut s = t[q].clone();
        s.sort_by(f64::total_cmp);
        let r: Vec<f64> = t[0].iter().zip(&t[q]).map(|(a, b)| a / b).collect();
        let mut r = r;
        r.sort_by(f64::total_cmp);
        println!("{name:>7}: median {:8.1} us  min {:8.1}  serial/this per call {:.2}", s[s.len() / 2], s[0], r[r.len() / 2]);
    }
}
