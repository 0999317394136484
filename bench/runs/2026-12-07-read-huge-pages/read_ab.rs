//! Scratch (outside the repository): Matrix Market reads, base commit's csr against the
//! working tree's, alternating call by call in one process.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let calls: usize = std::env::var("CALLS").ok().map(|s| s.parse().unwrap()).unwrap_or(21);
    let (mut tb, mut tn) = (vec![], vec![]);
    for i in 0..calls {
        for q in [i % 2, 1 - i % 2] {
            let s = Instant::now();
            let nnz = if q == 0 {
                csr_base::io::mm::read_csr::<f64, i32>(&path).expect("read").nnz()
            } else {
                csr::io::mm::read_csr::<f64, i32>(&path).expect("read").nnz()
            };
            let dt = s.elapsed().as_secs_f64() * 1e3;
            if q == 0 { tb.push(dt) } else { tn.push(dt) }
            assert!(nnz > 0);
        }
    }
    let mut r: Vec<f64> = tb.iter().zip(&tn).map(|(b, n)| b / n).collect();
    r.sort_by(|a, b| a.partial_cmp(b).unwrap());
    tb.sort_by(|a, b| a.partial_cmp(b).unwrap());
    tn.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("read {}: base median {:.1} ms, new {:.1} ms (of {calls}); per-pair base/new median {:.3}",
        path.rsplit('/').next().unwrap(), tb[calls / 2], tn[calls / 2], r[calls / 2]);
}
