//! Top-k SpGEMM: each row of `A·B` is accumulated as in [`spgemm`](super::spgemm) (same
//! flop-balanced chunks, same per-thread accumulators, same summation order), then only
//! its top entries are kept: with AVX-512 (`f64`, `i32`) by vector passes, a row summed
//! densely read straight from the accumulator ([`select_dense_row`]); otherwise from the
//! list of its columns ([`select_columns_fast`]: a heap of the best `k` over long rows, a
//! selection of integer keys over short ones, then a sort of the kept).
//!
//! Memory: the output (at most `k` entries per row, written once to per-thread buffers,
//! then copied into place) and one accumulator per thread (`ncols(B)` values and markers);
//! the product itself is never held.

use std::ops::Range;
use std::sync::Mutex;

use super::spgemm::{self, Workspace, Workspaces};
use crate::error::Result;
use crate::kernel::topk::{
    TopK, Touched, empty_result, select_columns_fast, select_dense_row, select_row_in_one_pass,
};
use crate::{Csr, CsrRef, Index, Scalar};

/// The top entries of each row of `A·B` (shapes checked by the caller: `a.ncols() ==
/// b.nrows()`; values real, checked by the caller). `cache` as for
/// [`spgemm::multiply`].
pub(super) fn multiply_topk<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    opts: &TopK<T::Real>,
) -> Result<Csr<T, I>> {
    debug_assert_eq!(a.ncols(), b.nrows());
    if opts.k == 0 {
        return empty_result(a.nrows(), b.ncols());
    }
    let (work, chunks) = spgemm::plan(a, b);
    let workspaces = Workspaces::<T, I>::take(cache);
    // At most k entries per row, and no more than the row's flops.
    let bound = |rows: Range<usize>| {
        let flops = work[rows.end] - work[rows.start] - rows.len();
        flops.min(opts.k.saturating_mul(rows.len()))
    };
    let sorted = spgemm::sorts_rows(b.ncols(), work[a.nrows()] - a.nrows());
    let sentinel = spgemm::dense_rows_use_sentinel(a, b, &work);
    let width = if sorted { 0 } else { b.ncols() };
    let c = spgemm::one_phase_product(a, b, &chunks, &workspaces, width, bound, |r, ws| {
        if sorted {
            let Workspace {
                pairs,
                out_cols,
                out_vals,
                ..
            } = ws;
            spgemm::sorted_row(a, b, r, pairs);
            let n = select_row_in_one_pass(pairs, r, opts, |p| p.0.to_usize(), |p| p.1.re());
            out_cols.extend(pairs[..n].iter().map(|p| p.0));
            out_vals.extend(pairs[..n].iter().map(|p| p.1));
            return n;
        }
        let flops = work[r + 1] - work[r] - 1;
        if spgemm::is_dense(flops, b.ncols()) {
            // SAFETY: r < nrows(A) (a chunk row), a.ncols() == b.nrows() (caller), and
            // `one_phase_product` sized the workspace to ncols(B) before calling.
            return unsafe { dense_row_topk(a, b, r, sentinel, opts, ws) };
        }
        // SAFETY: as for the dense sum above.
        let (start, _) =
            unsafe { spgemm::accumulate_row(a, b, (r, flops), (0, |_| 0), sentinel, ws) };
        keep_best(start, r, opts, ws)
    });
    workspaces.give_back(cache);
    // Top-k rows keep zeros that rank: nothing to report.
    c.map(|p| p.matrix)
}

/// Row `r` of `A·B` summed densely, then its top entries appended to the workspace's
/// output: selected straight from the accumulator ([`select_dense_row`]) where that
/// applies, else from the list of the columns it touched ([`keep_best`]). Returns how many
/// were kept.
///
/// # Safety
/// As for [`spgemm::sum_dense_row`] (the whole row: nothing skipped).
unsafe fn dense_row_topk<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    sentinel: bool,
    opts: &TopK<T::Real>,
    ws: &mut Workspace<T, I>,
) -> usize {
    let ncols = b.ncols();
    // SAFETY: forwarded from the caller.
    let stamp = unsafe { spgemm::sum_dense_row(a, b, r, (0, |_| 0), sentinel, ws) };
    let start = ws.out_cols.len();
    let Workspace {
        marks,
        acc,
        out_cols,
        out_vals,
        select,
        ..
    } = ws;
    let (marks, acc) = (&marks[..ncols], &acc[..ncols]);
    let touched = Touched::of(sentinel, stamp, marks);
    if let Some(n) = select_dense_row(acc, touched, r, opts, out_cols, select) {
        out_vals.extend(out_cols[start..].iter().map(|c| acc[c.to_usize()]));
        return n;
    }
    spgemm::append_touched((stamp, marks, acc), sentinel, 0, out_cols);
    keep_best(start, r, opts, ws)
}

/// Selects the top entries of row `r` among the columns it touched, listed in the
/// workspace's output from `start` on (their sums in its accumulator): the kept stay there,
/// their values are appended. Returns how many were kept.
fn keep_best<T: Scalar, I: Index>(
    start: usize,
    r: usize,
    opts: &TopK<T::Real>,
    ws: &mut Workspace<T, I>,
) -> usize {
    let Workspace {
        acc,
        out_cols,
        out_vals,
        select,
        ..
    } = ws;
    let n = select_columns_fast(&mut out_cols[start..], r, opts, acc, select);
    out_cols.truncate(start + n);
    out_vals.extend(out_cols[start..].iter().map(|c| acc[c.to_usize()]));
    n
}
