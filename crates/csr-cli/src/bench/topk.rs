//! Top-k rows of `csr bench` (item-item similarity on `A·Aᵀ`): the full product followed by
//! a selection of each row's top [`K`], against the top-k product that never holds the
//! full product, and `cosine_topk` (centre, normalise, top-k), with the peak memory of
//! each.
//!
//! Peak memory is the growth of the process's resident set during one extra, untimed run:
//! the kernel's high-water mark (`VmHWM` in `/proc/self/status`) is reset by writing `5`
//! to `/proc/self/clear_refs`, and the growth is `VmHWM` after the run minus `VmRSS`
//! before it. It counts pages touched, not bytes allocated (memory the allocator kept from
//! earlier rows and reuses does not count), and is not available off Linux.

use std::time::{Duration, Instant};

use csr::kernel::{self, Cosine, Kernel, KernelId, TopK, cosine_topk, select_topk};
use csr::{Csr, CsrRef, Index};

use super::Workload;
use super::kernels::{max_rel_err, row_block};
use super::report::Record;
use super::structure::median;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One way of computing the top-k result.
type Run<'a> = &'a dyn Fn() -> Result<Csr<f64, i32>, BoxError>;

/// Entries kept per row: LensKit's item-item k-NN keeps about 20 neighbours.
const K: usize = 20;

/// Rows compared with the reference kernel's top-k product, per sampled block (the
/// reference forms and sorts full rows with ordered maps: too slow for whole products).
const CHECK_ROWS: usize = 200;

/// Times the three ways, for every kernel (except the reference) that supports them.
pub fn bench(w: &Workload, reps: usize) -> Result<Vec<Record>, BoxError> {
    let a = w.matrix.view();
    let opts = TopK::new(K).exclude_diagonal(true);
    let cosine = Cosine {
        topk: opts,
        center: true,
    };
    let flops = 2.0 * super::kernels::products_of(a, true) as f64;
    let mut records = Vec::new();
    for id in KernelId::ALL {
        let Ok(k) = kernel::kernel_for::<f64, i32>(id) else {
            continue;
        };
        if id == KernelId::Reference {
            continue;
        }
        let h = k.to_handle(a)?;
        let full = || -> Result<Csr<f64, i32>, BoxError> {
            let c = k.from_handle(&k.mult_abt(&h, &h)?)?;
            Ok(select_topk(c.view(), &opts)?)
        };
        let topk = || -> Result<Csr<f64, i32>, BoxError> {
            Ok(k.from_handle(&k.mult_abt_topk(&h, &h, &opts)?)?)
        };
        let cos = || -> Result<Csr<f64, i32>, BoxError> { Ok(cosine_topk(k, a, &cosine)?) };
        let runs: [(&'static str, Run<'_>); 3] = [
            ("abt_top20_full+select", &full),
            ("abt_top20", &topk),
            ("cosine_top20", &cos),
        ];
        let mut selected: Option<Csr<f64, i32>> = None;
        for (op, run) in runs {
            let (times, c) = match time(run, reps) {
                Ok(x) => x,
                Err(e) if e.downcast_ref::<csr::Error>().is_some_and(is_unsupported) => {
                    eprintln!("NOTE: kernel {} does not support {op}: skipped", k.name());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let err = match op {
                "cosine_top20" => None,
                _ => Some(check(a, &c, &opts, selected.as_ref())?),
            };
            let peak = peak_rss_growth(run)?;
            records.push(Record {
                workload: w.name.clone(),
                op,
                kernel: k.name().to_owned(),
                strategy: String::new(),
                median: median(times),
                flops,
                bytes: 12.0 * (2 * a.nnz() + c.nnz()) as f64 + 16.0 * a.nrows() as f64,
                max_rel_err: err,
                note: format!(
                    "k = {K}, diagonal excluded; nnz(C) = {}; peak RSS +{}",
                    c.nnz(),
                    peak.map_or_else(|| "n/a".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6))
                ),
            });
            if selected.is_none() {
                selected = Some(c);
            }
        }
    }
    Ok(records)
}

fn is_unsupported(e: &csr::Error) -> bool {
    matches!(e, csr::Error::Unsupported { .. })
}

/// `reps` timed runs after a warm-up; the times and the last result.
fn time(run: Run<'_>, reps: usize) -> Result<(Vec<Duration>, Csr<f64, i32>), BoxError> {
    let mut times = Vec::with_capacity(reps);
    let mut last = run()?;
    for _ in 0..reps {
        super::timed::settle();
        let t = Instant::now();
        last = run()?;
        times.push(t.elapsed());
    }
    Ok((times, last))
}

/// The largest relative error of `c` against the reference kernel's top-k product on
/// sampled row blocks, and against `first` (the first row's result) when given; a
/// different pattern is an error.
fn check(
    a: CsrRef<'_, f64, i32>,
    c: &Csr<f64, i32>,
    opts: &TopK<f64>,
    first: Option<&Csr<f64, i32>>,
) -> Result<f64, BoxError> {
    let reference: &dyn Kernel<f64, i32> = &kernel::ReferenceKernel;
    let hb = reference.to_handle(a)?;
    let n = a.nrows();
    let mut worst = 0.0f64;
    for start in [0, n / 2, n.saturating_sub(CHECK_ROWS)] {
        let rows = start..(start + CHECK_ROWS).min(n);
        let block = row_block(a, rows.clone())?;
        // Row r of the block is row start + r of A: shift the diagonal by checking with
        // the diagonal kept and dropping column start + r here.
        let keep_all = TopK::new(opts.k + 1);
        let ha = reference.to_handle(block.view())?;
        let full = reference.from_handle(&reference.mult_abt_topk(&ha, &hb, &keep_all)?)?;
        let got = row_block(c.view(), rows.clone())?;
        for r in 0..rows.len() {
            let (cols, vals) = full.row(r);
            let mut exp: Vec<(i32, f64)> = cols
                .iter()
                .zip(vals)
                .filter(|(c, _)| c.to_usize() != start + r)
                .map(|(c, v)| (*c, *v))
                .collect();
            let (gc, gv) = got.row(r);
            exp.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            exp.truncate(opts.k);
            exp.sort_by_key(|e| e.0);
            let (ec, ev): (Vec<i32>, Vec<f64>) = exp.into_iter().unzip();
            if gc != ec.as_slice() {
                return Err(format!(
                    "top-k pattern differs from the reference in row {}",
                    start + r
                )
                .into());
            }
            worst = worst.max(max_rel_err(gv, &ev));
        }
    }
    if let Some(first) = first {
        if first.row_ptrs() != c.row_ptrs() || first.col_idxs() != c.col_idxs() {
            return Err("top-k product and full product + selection differ".into());
        }
        worst = worst.max(max_rel_err(c.values(), first.values()));
    }
    Ok(worst)
}

/// Growth of the resident set while `run` runs once (see the module docs), or `None` where
/// `/proc/self` cannot tell.
fn peak_rss_growth(run: Run<'_>) -> Result<Option<u64>, BoxError> {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        run()?;
        return Ok(None);
    }
    let before = status_kb("VmRSS:");
    let c = run()?;
    let peak = status_kb("VmHWM:");
    drop(c);
    Ok(before.zip(peak).map(|(b, p)| p.saturating_sub(b) * 1024))
}

/// A `kB` field of `/proc/self/status`.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
