// Scratch binary (`csr` as a path dependency on a worktree with the temporary switch
// described in README.md): `mm::read_csr::<f64, i32>` alternating with and without
// HACK_ROWS set, call by call, after two warm-up reads. Usage: read_ab FILE.mtx PAIRS
use std::time::Instant;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let (mut a, mut b) = (vec![], vec![]);
    for i in 0..2 * n + 2 {
        let hack = i % 2 == 1;
        // SAFETY: single-threaded at this point (no rayon work in flight)
        unsafe { if hack { std::env::set_var("HACK_ROWS", "1") } else { std::env::remove_var("HACK_ROWS") } }
        let t = Instant::now();
        let m = csr::io::mm::read_csr::<f64, i32>(&p).unwrap();
        let e = t.elapsed().as_secs_f64() * 1e3;
        drop(m);
        if i >= 2 { if hack { b.push(e) } else { a.push(e) } }
    }
    a.sort_by(f64::total_cmp); b.sort_by(f64::total_cmp);
    println!("base median {:.1} (min {:.1})  no-rows median {:.1} (min {:.1})  ratio {:.3}", a[a.len()/2], a[0], b[b.len()/2], b[0], a[a.len()/2]/b[b.len()/2]);
}
