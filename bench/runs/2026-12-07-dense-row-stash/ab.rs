//! Scratch (outside the repository): the working tree's csr against the base commit's, calls
//! alternating in one process. OP = abt | abt-sorted | ab | ab-sorted; MODE = fresh | kept.
use std::time::Instant;
macro_rules! product {
    ($k:path, $kt:path, $a:expr, $op:expr, $fresh:expr, $kept:expr) => {{
        use $kt as K;
        let h = if $fresh { Some(K::<f64, i32>::to_handle(&$k, $a).unwrap()) } else { None };
        let h = h.as_ref().unwrap_or($kept);
        let t = Instant::now();
        let c = match $op {
            "abt" => $k.mult_abt_unsorted(h, h).unwrap(),
            "abt-sorted" => $k.mult_abt(h, h).unwrap(),
            "ab" => $k.mult_ab_unsorted(h, h).unwrap(),
            _ => $k.mult_ab(h, h).unwrap(),
        };
        let dt = t.elapsed().as_secs_f64() * 1e3;
        let m = $k.from_handle(&c).unwrap();
        (dt, m.nnz(), m.values().iter().sum::<f64>())
    }};
}
fn med(v: &mut Vec<f64>) -> f64 { v.sort_by(|a, b| a.partial_cmp(b).unwrap()); v[v.len() / 2] }
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let op = std::env::var("OP").unwrap_or("abt".into());
    let fresh = std::env::var("MODE").map(|m| m == "fresh").unwrap_or(true);
    let calls: usize = std::env::var("CALLS").ok().map(|s| s.parse().unwrap()).unwrap_or(15);
    let a = csr::io::mm::read_csr::<f64, i32>(&path).expect("read");
    let b = csr_base::io::mm::read_csr::<f64, i32>(&path).expect("read");
    let kn = { use csr::kernel::Kernel; Kernel::<f64, i32>::to_handle(&csr::kernel::NativeKernel, a.view()).unwrap() };
    let kb = { use csr_base::kernel::Kernel; Kernel::<f64, i32>::to_handle(&csr_base::kernel::NativeKernel, b.view()).unwrap() };
    let (mut tn, mut tb) = (vec![], vec![]);
    for i in 0..calls {
        let (x, y) = if i % 2 == 0 {
            let y = { product!(csr_base::kernel::NativeKernel, csr_base::kernel::Kernel, b.view(), op.as_str(), fresh, &kb) };
            let x = { product!(csr::kernel::NativeKernel, csr::kernel::Kernel, a.view(), op.as_str(), fresh, &kn) };
            (x, y)
        } else {
            let x = { product!(csr::kernel::NativeKernel, csr::kernel::Kernel, a.view(), op.as_str(), fresh, &kn) };
            let y = { product!(csr_base::kernel::NativeKernel, csr_base::kernel::Kernel, b.view(), op.as_str(), fresh, &kb) };
            (x, y)
        };
        assert_eq!((x.1, x.2.to_bits()), (y.1, y.2.to_bits()), "results differ");
        tn.push(x.0); tb.push(y.0);
    }
    let ratios: Vec<f64> = tb.iter().zip(&tn).map(|(b, n)| b / n).collect();
    let mut r = ratios.clone();
    println!("{op} {}: base {:.1} ms, new {:.1} ms (medians of {calls}); per-pair base/new median {:.3}, min {:.3}, max {:.3}",
        path.rsplit('/').next().unwrap(), med(&mut tb), med(&mut tn), med(&mut r), ratios.iter().cloned().fold(f64::MAX, f64::min), ratios.iter().cloned().fold(0.0, f64::max));
}
