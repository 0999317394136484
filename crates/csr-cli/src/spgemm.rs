//! `csr spgemm`: `C = A·B` or `C = A·Bᵀ` (or only the top K entries of each of its rows)
//! with a chosen kernel, written as Matrix Market.

use std::io::Write;
use std::time::Instant;

use csr::io::mm::{self, Field, ReadOptions, WriteOptions};
use csr::kernel::{TopK, TopKOrder};
use csr::{Complex, Index, Scalar};

use crate::CmdResult;
use crate::args::{IndexType, SpgemmArgs};
use crate::kernels::choose;
use crate::progress::with_progress;

/// Runs `csr spgemm`. Values are complex if `A` or `B` is, else real (`f64`).
pub fn run(args: &SpgemmArgs, out: &mut impl Write) -> CmdResult {
    let complex = mm::read_header(&args.a)?.field == Field::Complex
        || mm::read_header(&args.b)?.field == Field::Complex;
    match (complex, args.index) {
        (false, IndexType::I32) => spgemm::<f64, i32>(args, out),
        (false, IndexType::I64) => spgemm::<f64, i64>(args, out),
        (true, IndexType::I32) => spgemm::<Complex<f64>, i32>(args, out),
        (true, IndexType::I64) => spgemm::<Complex<f64>, i64>(args, out),
    }
}

fn spgemm<T: Scalar, I: Index>(args: &SpgemmArgs, out: &mut impl Write) -> CmdResult {
    let k = choose::<T, I>(args.kernel)?;
    let a = with_progress(&args.a, "reading", |p| {
        mm::read_csr_with_progress::<T, I>(&args.a, &ReadOptions::default(), p)
    })?;
    // One file on both sides (`A·Aᵀ`, item-item similarity) is read once and multiplied
    // through one handle, which lets the kernel use the product's symmetry.
    let same_file = matches!(
        (std::fs::canonicalize(&args.a), std::fs::canonicalize(&args.b)),
        (Ok(a), Ok(b)) if a == b
    );
    let b = if same_file {
        None
    } else {
        Some(with_progress(&args.b, "reading", |p| {
            mm::read_csr_with_progress::<T, I>(&args.b, &ReadOptions::default(), p)
        })?)
    };
    let ha = k.to_handle(a.view())?;
    let hb_own = b.as_ref().map(|b| k.to_handle(b.view())).transpose()?;
    let hb = hb_own.as_ref().unwrap_or(&ha);
    let topk = args.top_k.map(|n| {
        let mut opts = TopK::new(n).exclude_diagonal(args.exclude_diagonal);
        if let Some(t) = args.threshold {
            opts = opts.threshold(T::Real::from_re_im(t, 0.0));
        }
        if args.sort_by_value {
            opts = opts.order(TopKOrder::ByValueDescending);
        }
        opts
    });
    let start = Instant::now();
    let hc = match (&topk, args.transpose_b) {
        (None, false) if args.any_order => k.mult_ab_unsorted(&ha, hb)?,
        (None, true) if args.any_order => k.mult_abt_unsorted(&ha, hb)?,
        (None, false) => k.mult_ab(&ha, hb)?,
        (None, true) => k.mult_abt(&ha, hb)?,
        (Some(opts), false) => k.mult_ab_topk(&ha, hb, opts)?,
        (Some(opts), true) => k.mult_abt_topk(&ha, hb, opts)?,
    };
    let elapsed = start.elapsed();
    let c = k.from_handle(&hc)?;
    drop(hc);
    with_progress(&args.output, "writing", |p| {
        mm::write_csr_with_progress(&args.output, &c, &WriteOptions::default(), p)
    })?;
    writeln!(
        out,
        "C = {}A·B{}: {}x{}, {} stored entries, kernel {}, {:.3} ms -> {}",
        args.top_k
            .map_or_else(String::new, |n| format!("top {n} per row of ")),
        if args.transpose_b { "ᵀ" } else { "" },
        c.nrows(),
        c.ncols(),
        c.nnz(),
        k.name(),
        elapsed.as_secs_f64() * 1e3,
        args.output.display()
    )?;
    Ok(())
}
