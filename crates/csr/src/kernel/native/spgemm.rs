//! Sparse times sparse (`C = A·B`): row-wise Gustavson, symbolic then numeric.
//!
//! 1. **Flops.** Each row of `C` costs `flops(r) = Σ len(B row k)` over the entries `k` of
//!    row `r` of `A`. A parallel prefix sum of `flops(r) + 1` splits the rows into
//!    [`CHUNKS_PER_THREAD`] contiguous chunks per rayon thread of about equal work, which the
//!    pool schedules dynamically (skewed rows, e.g. power-law, leave no thread idle).
//! 2. **Symbolic.** Each chunk counts the distinct columns of its rows with a dense marker
//!    array stamped with a per-row generation number (never cleared between rows), without
//!    a branch per product. A
//!    parallel prefix sum gives the row pointers; a total that does not fit `I` is
//!    [`Error::IndexTooNarrow`], never a wrap.
//! 3. **Numeric.** The output is allocated exactly once (fresh zeroed pages, first touched by
//!    the thread that fills them); each chunk owns the disjoint slice of its rows.
//!    Products are accumulated in a dense value array (first touch of a column in a row
//!    stores, later ones add), the row's columns are put in order (sorted, or for a row of
//!    at least a thirty-second of `B`'s columns found by one scan of the markers:
//!    [`SCAN_FOR_ORDER_RATIO`]), and the values gathered in that order. A row with at
//!    least as many flops as `B` has columns, or (symbolic then numeric, where the row's
//!    count is known) one that a scan will order, sums densely, without a branch per
//!    product on whether its column is new, and finds its columns by one scan, of the
//!    markers, or (when no product of two stored values can be zero: [`sentinel_applies`])
//!    of the sums themselves, which start at -0.0 and leave it only when touched, saving a
//!    store per flop.
//!
//! In the two-phase product, rows of a stencil or banded product that repeat the row above
//! them one column to the right ([`stencil`](super::stencil)) skip both the symbolic
//! count and the accumulator: a template made once per run of such rows gives each row's
//! length, columns and the slot of each product.
//!
//! Workspaces (markers and the dense values, `ncols(B)` each) are one per rayon thread and
//! reused by every chunk the thread runs within a call; between calls they wait in `B`'s
//! handle or in the process's spare set ([`spare`]). Unsorted rows and duplicates in
//! either operand are accepted: duplicates simply add. Sums that cancel stay as explicit
//! zeros. Every output value is the sum of its products in a fixed order (row of `A` left
//! to right, then row of `B` left to right), so results do not depend on the thread count.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::spare;
use super::stencil::{Segments, Shifts};
use crate::error::{Error, Extent, Result, check_fits};
use crate::kernel::topk::SelectScratch;
use crate::parallel::{MIN_PARALLEL_WORK, cut_by, cut_output, even_ranges};
use crate::parallel::{try_output_room, try_room, try_zeroed, zeroed_output};
use crate::scalar::real_to_f64;
use crate::{Csr, CsrRef, Index, Scalar};

/// Chunks per rayon thread in the flop-balanced row partition. Several chunks per thread
/// let the pool rebalance rows whose cost the flop count mispredicts (accumulator cache
/// misses) or a thread that the OS delays. 8 came from the prototype study
/// (`shared/anchors/kernel-techniques.md` B5); in Rust, settings alternated call by call on
/// kept handles, 2 threads, per-call ratios to 8 (above 1: faster; 8 against itself
/// 1.035–1.036): rating 5k × 50k `A·Aᵀ` any order 16: 1.049–1.087 (four runs), 32:
/// 1.071–1.139, sorted 16: 1.067, 32: 1.096; poisson2d(1000) `A·A` 16: 1.004–1.008, 32:
/// 0.962–1.009 (four runs); power-law 200k products level (at most 22 chunks of
/// `MIN_CHUNK_WORK`) (`bench/runs/2026-12-07-spgemm-chunks`).
pub(super) const CHUNKS_PER_THREAD: usize = 16;

/// Smallest work (flops + rows) worth a chunk of its own: below ~64k the rayon overhead
/// and the extra workspace outweigh the gain (same measure as
/// [`MIN_PARALLEL_WORK`]).
const MIN_CHUNK_WORK: usize = MIN_PARALLEL_WORK;

/// How many entries of `A` ahead the row pointers of `B` are prefetched, and (below) how
/// many ahead the start of `B`'s row itself. The accesses form a dependent chain per entry of
/// `A` (B row pointer, then B row, then marker), which prefetching pipelines. Distances from
/// the C prototype (`shared/anchors/kernel-techniques.md` B9), re-measured here in one
/// process, settings alternated call by call on kept handles, rows in any order, per-call
/// ratios to 16/8 (above 1: faster): power-law 200k `A·A` on 2 threads, no prefetch 0.71
/// (twice), 32/16 0.99–1.00, 8/4 0.98–0.99, 16/4 0.93; one thread, no prefetch 0.75;
/// power-law 800k, no prefetch 0.55, 8/4 0.89; poisson2d(1000) level (1.02 without)
/// (`bench/runs/2026-12-07-spgemm-prefetch`).
const PREFETCH_PTRS_AHEAD: usize = 16;
/// See [`PREFETCH_PTRS_AHEAD`].
const PREFETCH_ROW_AHEAD: usize = 8;

/// Prefetches what entry `j` of `A` will need: with `far`, B's row pointer for the entry
/// [`PREFETCH_PTRS_AHEAD`] further on; the start of B's row (columns and values) for the
/// entry [`PREFETCH_ROW_AHEAD`] further on. Entries past the end of `A` are skipped; rows of
/// `A` are crossed freely (entries are contiguous).
#[inline(always)]
fn prefetch_ahead<T, I: Index>(j: usize, ac: &[I], bp: &[I], bc: &[I], bv: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        if let Some(k) = ac.get(j + PREFETCH_PTRS_AHEAD) {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is only a hint: it
            // never faults or changes memory, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(bp.as_ptr().wrapping_add(k.to_usize()).cast()) };
        }
        if let Some(s) = ac
            .get(j + PREFETCH_ROW_AHEAD)
            .and_then(|k| bp.get(k.to_usize()))
        {
            let s = s.to_usize();
            // SAFETY: as above.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(bc.as_ptr().wrapping_add(s).cast());
                _mm_prefetch::<_MM_HINT_T0>(bv.as_ptr().wrapping_add(s).cast());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (j, ac, bp, bc, bv);
}

/// A thread's accumulator: generation-stamped markers and dense values over `B`'s columns.
/// Kept in `B`'s handle between calls (fresh workspaces cost page faults: 48 MB per thread
/// for a 4M-column `B`).
#[derive(Debug)]
pub(crate) struct Workspace<T, I> {
    /// The current row's stamp; `marks[c] == stamp` iff column `c` was touched in this row.
    stamp: u32,
    pub(super) marks: Vec<u32>,
    /// The current row's sums, valid at the columns it touched.
    pub(super) acc: Vec<T>,
    /// One-phase output of the chunks this thread ran (columns, values), in run order.
    pub(super) out_cols: Vec<I>,
    pub(super) out_vals: Vec<T>,
    /// The current row's `(column, sum)` when rows accumulate by sorting ([`sorted_row`]).
    pub(super) pairs: Vec<(I, T)>,
    /// Top-k products: the selection's scratch.
    pub(super) select: SelectScratch<I>,
}

impl<T: Scalar, I: Index> Workspace<T, I> {
    pub(super) fn new() -> Self {
        Self {
            stamp: 0,
            marks: Vec::new(),
            acc: Vec::new(),
            out_cols: Vec::new(),
            out_vals: Vec::new(),
            pairs: Vec::new(),
            select: SelectScratch::default(),
        }
    }

    /// Makes room for `ncols` columns (fresh zeroed memory, faulted in lazily).
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] if they cannot be allocated (a `B` of 2⁴⁰ columns).
    pub(super) fn ensure(&mut self, ncols: usize, values: bool) -> Result<()> {
        if self.marks.len() < ncols {
            self.marks = try_zeroed(ncols, "SpGEMM column marks")?;
            self.stamp = 0;
        }
        if values && self.acc.len() < ncols {
            // Zero bits are `T::zero()` for every scalar. No parallel fill: this runs while the
            // thread holds its workspace's lock, and a rayon worker that waits for parallel
            // work steals tasks, one of which may need this same workspace (a deadlock).
            self.acc = try_zeroed(ncols, "SpGEMM accumulator")?;
        }
        Ok(())
    }

    /// The bytes the workspace holds (its buffers' capacities).
    pub(super) fn bytes(&self) -> usize {
        self.marks.capacity() * size_of::<u32>()
            + (self.acc.capacity() + self.out_vals.capacity()) * size_of::<T>()
            + self.out_cols.capacity() * size_of::<I>()
            + self.pairs.capacity() * size_of::<(I, T)>()
            + self.select.bytes()
    }

    /// Cuts the output buffers to what the last product wrote in them (its pages, the ones
    /// faulted in): a one-phase product reserves room for a bound on its output, and
    /// buffers grow by doubling, so their capacity can be twice what they ever held.
    pub(super) fn shrink_output(&mut self) {
        self.out_cols.shrink_to_fit();
        self.out_vals.shrink_to_fit();
    }

    /// Frees what holds a product's output rather than its accumulator: the one-phase
    /// buffers, the sorted rows' pairs and the selection's scratch.
    pub(super) fn drop_output(&mut self) {
        self.out_cols = Vec::new();
        self.out_vals = Vec::new();
        self.pairs = Vec::new();
        self.select = SelectScratch::default();
    }

    /// A stamp no column carries yet.
    #[inline]
    fn next_stamp(&mut self) -> u32 {
        if self.stamp == u32::MAX {
            self.marks.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
        self.stamp
    }
}

/// One workspace per rayon thread, handed to whichever task runs on that thread.
pub(super) struct Workspaces<T, I>(Vec<Mutex<Workspace<T, I>>>);

impl<T: Scalar, I: Index> Workspaces<T, I> {
    /// One workspace per thread of the current pool, taken from `cache` where it has some,
    /// else from the spare set ([`spare::take`]).
    pub(super) fn take(cache: Option<&Mutex<Vec<Workspace<T, I>>>>) -> Self {
        let n = rayon::current_num_threads().max(1);
        let mut kept = cache
            .and_then(|c| c.try_lock().ok().map(|mut g| std::mem::take(&mut *g)))
            .filter(|kept| !kept.is_empty())
            .unwrap_or_else(spare::take);
        kept.truncate(n);
        kept.resize_with(n, Workspace::new);
        Self(kept.into_iter().map(Mutex::new).collect())
    }

    /// Returns the workspaces to `cache`, or where it has another call's already (or there
    /// is none), to the spare set ([`spare::keep`]).
    pub(super) fn give_back(self, cache: Option<&Mutex<Vec<Workspace<T, I>>>>) {
        let set: Vec<_> = self
            .0
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        match cache.and_then(|c| c.try_lock().ok()) {
            Some(mut g) if g.is_empty() => *g = set,
            _ => spare::keep(set),
        }
    }

    /// Empties every workspace's one-phase output buffers (keeping their memory).
    fn clear_output(&self) {
        for m in &self.0 {
            let mut ws = m.lock().unwrap_or_else(|p| p.into_inner());
            ws.out_cols.clear();
            ws.out_vals.clear();
        }
    }

    /// Moves every workspace's output buffers out (columns, values), by workspace index.
    fn take_output(&self) -> Vec<(Vec<I>, Vec<T>)> {
        self.0
            .iter()
            .map(|m| {
                let mut ws = m.lock().unwrap_or_else(|p| p.into_inner());
                (
                    std::mem::take(&mut ws.out_cols),
                    std::mem::take(&mut ws.out_vals),
                )
            })
            .collect()
    }

    /// Gives back the buffers [`take_output`](Self::take_output) moved out, as they are
    /// (the next product clears them; the spare set keeps what they hold:
    /// [`Workspace::shrink_output`]), so that their memory serves the next product.
    fn put_back_output(&self, buffers: Vec<(Vec<I>, Vec<T>)>) {
        for (m, (cols, vals)) in self.0.iter().zip(buffers) {
            let mut ws = m.lock().unwrap_or_else(|p| p.into_inner());
            ws.out_cols = cols;
            ws.out_vals = vals;
        }
    }

    /// Runs `f` with the calling thread's workspace and its index.
    pub(super) fn with<R>(&self, f: impl FnOnce(usize, &mut Workspace<T, I>) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        // A poisoned lock only means another task panicked (a bug); the workspace holds no
        // invariant beyond "stamps below `stamp`", which a fresh stamp restores.
        let mut ws = match self.0[i].lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(i, &mut ws)
    }
}

/// Exclusive prefix sums `out[r] = Σ_{s<r} f(s)` for `r` in `0..=n`, in parallel.
pub(super) fn prefix_sums(n: usize, f: impl Fn(usize) -> usize + Sync) -> Vec<usize> {
    let mut out = vec![0usize; n + 1];
    let pieces = (n / MIN_PARALLEL_WORK).clamp(1, rayon::current_num_threads().max(1));
    let ranges = even_ranges(n, pieces);
    let mut slices = cut_by(&mut out[1..], &ranges);
    let totals: Vec<usize> = slices
        .par_iter_mut()
        .map(|(r, s)| {
            let mut run = 0usize;
            for (i, o) in r.clone().zip(s.iter_mut()) {
                run = run.saturating_add(f(i));
                *o = run;
            }
            run
        })
        .collect();
    let mut offset = 0usize;
    let offsets: Vec<usize> = totals
        .iter()
        .map(|&t| {
            let o = offset;
            offset = offset.saturating_add(t);
            o
        })
        .collect();
    slices
        .into_par_iter()
        .zip(offsets)
        .for_each(|((_, s), o)| s.iter_mut().for_each(|v| *v = v.saturating_add(o)));
    out
}

/// Turns per-row counts (in `ptrs[1..]`, each fitting `I`) into row pointers in place, in
/// parallel over `chunks` (contiguous row ranges covering all rows).
///
/// # Errors
/// [`Error::IndexTooNarrow`] (`Extent::Nnz`) if the total does not fit `I`.
fn counts_to_ptrs<I: Index>(ptrs: &mut [I], chunks: &[Range<usize>]) -> Result<usize> {
    let totals: Vec<usize> = chunks
        .par_iter()
        .map(|r| {
            ptrs[r.start + 1..r.end + 1]
                .iter()
                .fold(0usize, |s, c| s.saturating_add(c.to_usize()))
        })
        .collect();
    let total = totals.iter().fold(0usize, |s, &t| s.saturating_add(t));
    check_fits::<I>(Extent::Nnz, total)?;
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut offset = 0usize;
    for t in &totals {
        offsets.push(offset);
        offset += t;
    }
    let slices = cut_by(&mut ptrs[1..], chunks);
    slices.into_par_iter().zip(offsets).for_each(|((_, s), o)| {
        let mut run = o;
        for p in s {
            run += p.to_usize();
            // run <= total, which fits I (checked above).
            *p = I::truncate(run);
        }
    });
    Ok(total)
}

/// Splits rows into chunks of about equal work, given `work[r]` = work of rows `0..r`.
pub(super) fn flop_chunks(work: &[usize]) -> Vec<Range<usize>> {
    let nrows = work.len() - 1;
    let total = work[nrows];
    let threads = rayon::current_num_threads().max(1);
    let parts = if threads == 1 {
        1
    } else {
        (total / MIN_CHUNK_WORK).clamp(1, threads * CHUNKS_PER_THREAD)
    };
    let mut bounds = Vec::with_capacity(parts + 1);
    bounds.push(0);
    for p in 1..parts {
        let target = (total as u128 * p as u128 / parts as u128) as usize;
        let r = work.partition_point(|&w| w < target).min(nrows);
        bounds.push(r.max(bounds[bounds.len() - 1]));
    }
    bounds.push(nrows);
    bounds.dedup();
    if bounds.len() == 1 {
        bounds.push(nrows);
    }
    bounds.windows(2).map(|w| w[0]..w[1]).collect()
}

/// The distinct columns of row `r` of `A·B`.
///
/// # Safety
/// `r < a.nrows()`, `a.ncols() == b.nrows()`, `ws.marks.len() >= b.ncols()`.
#[inline]
unsafe fn symbolic_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    ws: &mut Workspace<T, I>,
) -> usize {
    let (ap, ac) = (a.row_ptrs(), a.col_idxs());
    let (bp, bc) = (b.row_ptrs(), b.col_idxs());
    let stamp = ws.next_stamp();
    let marks = ws.marks.as_mut_slice();
    let mut count = 0usize;
    let no_values: &[T] = &[];
    // SAFETY: r < nrows(A) (caller) and row_ptrs has nrows + 1 entries; every j in the row
    // range is < nnz(A) = col_idxs.len(); every column k of A is < ncols(A) = nrows(B), so
    // k + 1 indexes B's row_ptrs; every i in B's row range is < nnz(B); every column c of B
    // is < ncols(B) <= marks.len() (caller). All CsrRef invariants are checked at
    // construction and the fields are private.
    unsafe {
        for j in ap.get_unchecked(r).to_usize()..ap.get_unchecked(r + 1).to_usize() {
            prefetch_ahead(j, ac, bp, bc, no_values);
            let k = ac.get_unchecked(j).to_usize();
            for i in bp.get_unchecked(k).to_usize()..bp.get_unchecked(k + 1).to_usize() {
                let c = bc.get_unchecked(i).to_usize();
                // Without a branch: where rows overlap (item-item A·Aᵀ), whether a column
                // is new is a coin toss the predictor loses.
                let m = marks.get_unchecked_mut(c);
                count += usize::from(*m != stamp);
                *m = stamp;
            }
        }
    }
    count
}

/// Computes row `r` of `A·B` into `cols`/`vals` (exactly the row's distinct column count
/// long, from the symbolic pass), its columns in `order`.
///
/// # Safety
/// As for [`symbolic_row`], and `ws.acc.len() >= b.ncols()`.
#[inline]
unsafe fn numeric_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    (r, flops): (usize, usize),
    order: Order,
    ws: &mut Workspace<T, I>,
    cols: &mut [I],
    vals: &mut [T],
) {
    if let Some((x, bcols, bvals)) = scaled_row(a, b, r) {
        for ((c, v), (&bc, &bv)) in cols.iter_mut().zip(vals).zip(bcols.iter().zip(bvals)) {
            *c = bc;
            *v = T::zero() + x * bv;
        }
        return;
    }
    let stamp = ws.next_stamp();
    let ncols = b.ncols();
    let (marks, acc) = (&mut ws.marks[..ncols], &mut ws.acc[..ncols]);
    // A row that will be found by a scan sums densely too: no branch per product on
    // whether its column is new (a coin toss in wide rows).
    let scans = order == Order::Sorted && scans_for_order(cols.len(), ncols);
    if is_dense(flops, ncols) || scans {
        // SAFETY: forwarded from the caller.
        unsafe { accumulate_dense::<false, _, _>(a, b, r, (stamp, marks, acc), 0, |_| 0) };
        write_touched(stamp, marks, cols);
    } else {
        // SAFETY: forwarded from the caller; `cols` (initialized) viewed as possibly
        // uninitialized stays initialized, since `accumulate` writes only values.
        let n = unsafe {
            let slots = std::slice::from_raw_parts_mut(
                cols.as_mut_ptr().cast::<std::mem::MaybeUninit<I>>(),
                cols.len(),
            );
            accumulate(a, b, r, (stamp, marks, acc), |_| 0, slots)
        };
        debug_assert_eq!(n, cols.len());
        if order == Order::Sorted {
            cols.sort_unstable();
        }
    }
    for (v, c) in vals.iter_mut().zip(cols.iter()) {
        // SAFETY: c is a column of B, < ncols(B) = acc.len().
        *v = unsafe { *acc.get_unchecked(c.to_usize()) };
    }
}

/// Row `r` of `A·B` when it is one row of `B` scaled: `A`'s row holds a single entry `x`
/// at `k`, and `B`'s row `k` is strictly increasing (sorted, no duplicates). Then the
/// product's row is `B`'s columns with values `0 + x·v`, in order, the very sums the
/// accumulators give (each column touched once, from zero), and it is copied straight out:
/// no markers, no sums, no sort. Most rows of a power-law `A·A` are such rows (65% of
/// `powerlaw-200k-3`'s). `None` for any other row.
#[inline(always)]
fn scaled_row<'b, T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'b, T, I>,
    r: usize,
) -> Option<(T, &'b [I], &'b [T])> {
    let (ap, bp) = (a.row_ptrs(), b.row_ptrs());
    let j = ap[r].to_usize();
    if ap[r + 1].to_usize() != j + 1 {
        return None;
    }
    // The rows ahead still need theirs fetched, as in `accumulate`.
    prefetch_ahead(j, a.col_idxs(), bp, b.col_idxs(), b.values());
    let k = a.col_idxs()[j].to_usize();
    let span = bp[k].to_usize()..bp[k + 1].to_usize();
    let cols = &b.col_idxs()[span.clone()];
    let increasing = cols
        .iter()
        .zip(cols.iter().skip(1))
        .fold(true, |inc, (c, d)| inc & (c < d));
    increasing.then(|| (a.values()[j], cols, &b.values()[span]))
}

/// A row of `n` distinct columns out of `ncols` at least this fraction wide
/// (`n · SCAN_FOR_ORDER_RATIO >= ncols`) finds its columns in order by one scan of the
/// markers ([`write_touched`]: 64 markers per few instructions, plus a step per marked
/// column) instead of sorting them (`n log n` comparisons). Item-item A·Aᵀ of
/// `bench/compare.py`'s rating matrix (5k columns, rows of ~850 entries) is such a
/// product. Where the row's count is known before it is summed (the numeric pass after the
/// symbolic one), such a row also sums densely. The sweep behind the value (with the
/// masked scan, scanning wins down to a fifteenth of the columns and loses at a
/// thirty-sixth only from a ratio of 64) is in `docs/spgemm-row-order.md`.
pub(super) const SCAN_FOR_ORDER_RATIO: usize = 32;

/// Whether a row of `n` distinct columns out of `ncols` orders them by a scan of the
/// markers ([`SCAN_FOR_ORDER_RATIO`]).
fn scans_for_order(n: usize, ncols: usize) -> bool {
    n.saturating_mul(SCAN_FOR_ORDER_RATIO) >= ncols
}

/// Writes the columns from `lo` on that are marked with `stamp` into `slots`, in
/// increasing order, until `slots` is full; returns how many it wrote. The markers are
/// compared 64 at a time into a bit mask ([`marked_mask`]), whose set bits give the
/// columns: a few instructions per 64 columns plus one step per marked column, where a
/// branch-free step per column cost about four times as much
/// (`docs/spgemm-row-order.md`).
fn write_marked<I: Index>(stamp: u32, marks: &[u32], lo: usize, slots: &mut [I]) -> usize {
    let marks = &marks[lo..];
    let mut n = 0;
    let mut blocks = marks.chunks_exact(MASK_BLOCK);
    for (b, block) in (&mut blocks).enumerate() {
        let mut mask = marked_mask(stamp, block);
        while mask != 0 {
            let Some(slot) = slots.get_mut(n) else {
                return n;
            };
            *slot = I::truncate(lo + b * MASK_BLOCK + mask.trailing_zeros() as usize);
            n += 1;
            mask &= mask - 1;
        }
    }
    let base = lo + marks.len() - blocks.remainder().len();
    for (c, &m) in blocks.remainder().iter().enumerate() {
        let Some(slot) = slots.get_mut(n) else { break };
        *slot = I::truncate(base + c);
        n += usize::from(m == stamp);
    }
    n
}

/// Markers compared at a time by [`marked_mask`]: one bit each in a `u64`.
const MASK_BLOCK: usize = 64;

/// Bit `i` set iff `block[i] == stamp`, for a block of [`MASK_BLOCK`] markers.
#[inline(always)]
fn marked_mask(stamp: u32, block: &[u32]) -> u64 {
    let block: &[u32; MASK_BLOCK] = block.try_into().expect("a block of MASK_BLOCK markers");
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_castsi128_ps, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_movemask_ps,
            _mm_set1_epi32,
        };
        let mut mask = 0u64;
        let p = block.as_ptr().cast::<__m128i>();
        // SAFETY: SSE2 is part of the x86_64 baseline. Load q reads markers 4q..4q + 4,
        // within the block of 64 (q < 16); unaligned loads need no alignment.
        unsafe {
            let wanted = _mm_set1_epi32(i32::from_ne_bytes(stamp.to_ne_bytes()));
            for q in 0..MASK_BLOCK / 4 {
                let equal = _mm_cmpeq_epi32(_mm_loadu_si128(p.add(q)), wanted);
                let bits = _mm_movemask_ps(_mm_castsi128_ps(equal)) as u64;
                mask |= bits << (4 * q);
            }
        }
        mask
    }
    #[cfg(not(target_arch = "x86_64"))]
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &m)| mask | (u64::from(m == stamp) << i))
}

/// Writes the columns marked with `stamp` into `cols` (exactly their count long: the
/// symbolic pass's count), in increasing order ([`write_marked`]).
fn write_touched<I: Index>(stamp: u32, marks: &[u32], cols: &mut [I]) {
    let n = write_marked(stamp, marks, 0, cols);
    debug_assert_eq!(n, cols.len());
}

/// Columns of `B` from which a product may accumulate its rows by sorting ([`sorts_rows`]).
const SORTED_MIN_COLS: usize = 1 << 22;

/// Whether `A·B` (`flops` products in all) accumulates its rows by sorting their products
/// ([`sorted_row`]) instead of in workspaces of `ncols(B)` markers and sums: when `B` has at
/// least 2²² columns and more than 16 per flop (a 1 × 2⁴⁰ matrix with `i64` indices), so
/// that memory follows the flops, not the column count.
pub(super) fn sorts_rows(ncols: usize, flops: usize) -> bool {
    ncols >= SORTED_MIN_COLS && ncols / 16 > flops
}

/// Row `r` of `A·B` by sorting its products: `pairs` gets the row's `(column, sum)` in
/// column order. Each sum starts from zero and adds the column's products in the order the
/// workspaces add them (A's, then B's storage order; the sort is stable), so the sums are
/// theirs bit for bit. Memory: the row's flops.
pub(super) fn sorted_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    pairs: &mut Vec<(I, T)>,
) {
    pairs.clear();
    let (acols, avals) = a.row(r);
    for (&k, &x) in acols.iter().zip(avals) {
        let (cols, vals) = b.row(k.to_usize());
        pairs.extend(cols.iter().zip(vals).map(|(&c, &v)| (c, x * v)));
    }
    pairs.sort_by_key(|p| p.0);
    let mut kept = 0;
    for i in 0..pairs.len() {
        let (c, p) = pairs[i];
        if kept > 0 && pairs[kept - 1].0 == c {
            pairs[kept - 1].1 += p;
        } else {
            pairs[kept] = (c, T::zero() + p);
            kept += 1;
        }
    }
    pairs.truncate(kept);
}

/// Whether a row of `flops` products over `ncols` columns is summed densely
/// ([`accumulate_dense`]): when the flops reach the column count, the row's columns are
/// found by one scan of the markers, in column order (no sort), and the scan and the
/// zeroing of the accumulator cost no more than the products. Item-item A·Aᵀ of
/// `items:ratings:50k:5k:20` (5k columns, 56k flops per row on average) is such a product.
pub(super) fn is_dense(flops: usize, ncols: usize) -> bool {
    flops >= ncols
}

/// Sums row `r` of `A·B` densely: `acc` (exactly `ncols(B)` long) is zeroed from column
/// `lo` on, then every product is added at its column and the column is marked with
/// `stamp`, without the test whether it was seen before (a branch that mispredicts while
/// the row fills). The sums equal [`accumulate`]'s bit for bit (both start from zero and
/// add in the same order); the touched columns are [`touched`]'s.
///
/// `skip(j)` is how many leading entries of the row of `B` that entry `j` of `A` selects are
/// left out (0 for the whole product; [`gram`](super::gram) leaves out columns below `lo`).
///
/// With `SENTINEL` (only where [`sentinel_applies`]), no column is marked: `acc` starts at
/// -0.0, which no sum of products reaches, so the touched columns are those no longer -0.0
/// ([`append_touched`]), and each flop costs one store instead of two. The sums are the
/// same: `-0.0 + p == +0.0 + p` for every product `p` that is not zero.
///
/// # Safety
/// As for [`symbolic_row`], `acc.len() == marks.len() == b.ncols()`, `skip(j)` at most the
/// length of its row of `B`, and every column reached at least `lo`.
#[inline(always)]
pub(super) unsafe fn accumulate_dense<const SENTINEL: bool, T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    (stamp, marks, acc): (u32, &mut [u32], &mut [T]),
    lo: usize,
    skip: impl Fn(usize) -> usize,
) {
    let (ap, ac, av) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (bp, bc, bv) = (b.row_ptrs(), b.col_idxs(), b.values());
    acc[lo..].fill(if SENTINEL { negative_zero() } else { T::zero() });
    // SAFETY: indices into A and B as in `symbolic_row` (a start moved by `skip` stays
    // within the row, caller); every column of B is below ncols(B) == marks.len() ==
    // acc.len() (caller).
    unsafe {
        for j in ap.get_unchecked(r).to_usize()..ap.get_unchecked(r + 1).to_usize() {
            prefetch_ahead(j, ac, bp, bc, bv);
            let k = ac.get_unchecked(j).to_usize();
            let x = *av.get_unchecked(j);
            let span = bp.get_unchecked(k).to_usize() + skip(j)..bp.get_unchecked(k + 1).to_usize();
            let (cols, vals) = (bc.get_unchecked(span.clone()), bv.get_unchecked(span));
            let mut add = |c: I, v: T| {
                let c = c.to_usize();
                if !SENTINEL {
                    *marks.get_unchecked_mut(c) = stamp;
                }
                *acc.get_unchecked_mut(c) += x * v;
            };
            // Four at a time: the loop's count and branch once per four products. Each
            // still loads, adds and stores in turn (a row of B may repeat a column).
            let (cols4, vals4) = (cols.chunks_exact(4), vals.chunks_exact(4));
            let (cols_rest, vals_rest) = (cols4.remainder(), vals4.remainder());
            for (c, v) in cols4.zip(vals4) {
                add(c[0], v[0]);
                add(c[1], v[1]);
                add(c[2], v[2]);
                add(c[3], v[3]);
            }
            for (&c, &v) in cols_rest.iter().zip(vals_rest) {
                add(c, v);
            }
        }
    }
}

/// -0.0: where an accumulator starts when no product can be zero ([`sentinel_applies`]).
pub(super) fn negative_zero<T: Scalar>() -> T {
    T::from_re_im(-0.0, 0.0)
}

/// Whether the dense rows of `A·B` may find their columns by the -0.0 they start from
/// instead of markers ([`accumulate_dense`]): real values, and no product of two stored
/// values can be zero (the smallest magnitudes of `A` and `B` have a non-zero product, so
/// every other product is larger; NaN is not zero). Then a sum is -0.0 only if it was
/// never touched: adding non-zero values to -0.0 or cancelling gives a non-zero or +0.0.
/// Costs one pass over the values: the products ask through [`dense_rows_use_sentinel`].
pub(super) fn sentinel_applies<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
) -> bool {
    let smallest = |m: CsrRef<'_, T, I>| {
        m.values()
            .par_iter()
            .map(|v| real_to_f64(v.re()).abs())
            .filter(|x| !x.is_nan())
            .reduce(|| f64::INFINITY, f64::min)
    };
    if T::IS_COMPLEX {
        return false;
    }
    // In T's own precision: the product of the two smallest magnitudes, rounded as T rounds.
    let (sa, sb) = (smallest(a), smallest(b));
    T::from_re_im(sa, 0.0) * T::from_re_im(sb, 0.0) != T::zero()
}

/// Whether the dense rows of `A·B` find their columns by the sentinel
/// ([`sentinel_applies`]), given `work` as [`plan`] returns it: asked only where some row
/// sums densely, since only then is the pass over the values worth making. Call it
/// outside a workspace's lock (both scans run on the pool).
pub(super) fn dense_rows_use_sentinel<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    work: &[usize],
) -> bool {
    let ncols = b.ncols();
    work.par_windows(2)
        .any(|w| is_dense(w[1] - w[0] - 1, ncols))
        && sentinel_applies(a, b)
}

/// Appends to `out` the columns from `lo` on that a dense row touched, in increasing
/// order: those marked with `stamp`, or with `sentinel` those whose sum is no longer -0.0
/// ([`accumulate_dense`]). Without a branch per column (each is written, and kept if
/// touched): a dense row's touched columns are found by this scan, which an iterator of
/// pushes made cost about as much as a flop per column (item-item A·Aᵀ, `cachegrind`).
pub(super) fn append_touched<T: Scalar, I: Index>(
    (stamp, marks, acc): (u32, &[u32], &[T]),
    sentinel: bool,
    lo: usize,
    out: &mut Vec<I>,
) {
    let start = out.len();
    out.resize(start + marks.len() - lo, I::ZERO);
    let slots = &mut out[start..];
    let n = if sentinel {
        let untouched = negative_zero::<T>();
        let mut n = 0;
        for (c, v) in acc[lo..].iter().enumerate() {
            // n <= c < slots.len(): in bounds.
            slots[n] = I::truncate(lo + c);
            n += usize::from(bytemuck::bytes_of(v) != bytemuck::bytes_of(&untouched));
        }
        n
    } else {
        write_marked(stamp, marks, lo, slots)
    };
    out.truncate(start + n);
}

/// The inner loop of every numeric SpGEMM row: sums row `r` of `A·B` into `acc` at the
/// columns it touches (from zero, in A's then B's storage order), marking them with
/// `stamp` and writing them to `cols` in first-touch order. Returns how many it wrote:
/// the slots `..n` of `cols`, which need not be initialized before (a buffer's spare
/// capacity) and which it writes only with values. `cols` must have room for them
/// (bounds-checked).
///
/// The arrays come as slices, not through the workspace, so that the compiler keeps their
/// addresses in registers across the loop. `skip` as for [`accumulate_dense`].
///
/// # Safety
/// As for [`symbolic_row`], `acc.len() >= b.ncols()`, and `skip(j)` at most the length of
/// its row of `B`.
#[inline(always)]
unsafe fn accumulate<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    (stamp, marks, acc): (u32, &mut [u32], &mut [T]),
    skip: impl Fn(usize) -> usize,
    cols: &mut [std::mem::MaybeUninit<I>],
) -> usize {
    let (ap, ac, av) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (bp, bc, bv) = (b.row_ptrs(), b.col_idxs(), b.values());
    let mut n = 0usize;
    // SAFETY: indices into A and B and the workspace as in `symbolic_row` (values arrays
    // have nnz entries like col_idxs; acc.len() >= ncols(B) by the caller).
    unsafe {
        for j in ap.get_unchecked(r).to_usize()..ap.get_unchecked(r + 1).to_usize() {
            prefetch_ahead(j, ac, bp, bc, bv);
            let k = ac.get_unchecked(j).to_usize();
            let x = *av.get_unchecked(j);
            let start = bp.get_unchecked(k).to_usize() + skip(j);
            for i in start..bp.get_unchecked(k + 1).to_usize() {
                let ci = *bc.get_unchecked(i);
                let c = ci.to_usize();
                let p = x * *bv.get_unchecked(i);
                let m = marks.get_unchecked_mut(c);
                if *m != stamp {
                    *m = stamp;
                    // From zero, as every sum here and in the reference kernel: a lone
                    // product of -0.0 sums to +0.0.
                    *acc.get_unchecked_mut(c) = T::zero() + p;
                    // Bounds-checked: the room comes from the caller's count or bound.
                    cols[n] = std::mem::MaybeUninit::new(ci);
                    n += 1;
                } else {
                    *acc.get_unchecked_mut(c) += p;
                }
            }
        }
    }
    n
}

/// Sums row `r` of `A·B` densely into `ws.acc` ([`accumulate_dense`], with markers or,
/// with `sentinel`, without), from column `lo` on with `skip` as there; returns the stamp
/// that marks the touched columns (unused with `sentinel`: those are the columns whose sum
/// is no longer [`negative_zero`]). For a row whose flops reach its width ([`is_dense`]).
///
/// # Safety
/// As for [`accumulate_dense`], the workspace sized to `ncols(B)` ([`Workspace::ensure`]).
#[inline]
pub(super) unsafe fn sum_dense_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    (lo, skip): (usize, impl Fn(usize) -> usize),
    sentinel: bool,
    ws: &mut Workspace<T, I>,
) -> u32 {
    let stamp = ws.next_stamp();
    let ncols = b.ncols();
    let (marks, acc) = (&mut ws.marks[..ncols], &mut ws.acc[..ncols]);
    // SAFETY: forwarded from the caller.
    unsafe {
        if sentinel {
            accumulate_dense::<true, _, _>(a, b, r, (stamp, marks, acc), lo, skip);
        } else {
            accumulate_dense::<false, _, _>(a, b, r, (stamp, marks, acc), lo, skip);
        }
    }
    stamp
}

/// Accumulates row `r` of `A·B` into the workspace: appends the columns it touches to
/// `ws.out_cols` and leaves their sums in `ws.acc`. Returns where the row's columns start
/// in `ws.out_cols`, and whether they are in column order (a dense row's are; others are
/// in first-touch order). `flops` is the row's flop count (a bound on its length).
/// `(lo, skip)` restrict the row to columns from `lo` on as for [`accumulate_dense`]
/// (`flops` then counts the products left). `sentinel`: [`sentinel_applies`] to `A·B`.
///
/// # Safety
/// As for [`numeric_row`], and for `lo` and `skip` as for [`accumulate_dense`].
#[inline]
pub(super) unsafe fn accumulate_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    (r, flops): (usize, usize),
    (lo, skip): (usize, impl Fn(usize) -> usize),
    sentinel: bool,
    ws: &mut Workspace<T, I>,
) -> (usize, bool) {
    let start = ws.out_cols.len();
    let ncols = b.ncols();
    if is_dense(flops, ncols - lo) {
        // SAFETY: forwarded from the caller.
        let stamp = unsafe { sum_dense_row(a, b, r, (lo, skip), sentinel, ws) };
        let (marks, acc) = (&ws.marks[..ncols], &ws.acc[..ncols]);
        append_touched((stamp, marks, acc), sentinel, lo, &mut ws.out_cols);
        return (start, true);
    }
    let stamp = ws.next_stamp();
    let room = flops.min(ncols - lo);
    // Room without zeroing it: `accumulate` writes every slot it counts (zeroing cost a
    // `memset` call per row, 4% of power-law A·A).
    ws.out_cols.reserve(room);
    let row = &mut ws.out_cols.spare_capacity_mut()[..room];
    // SAFETY: forwarded from the caller.
    let n = unsafe { accumulate(a, b, r, (stamp, &mut ws.marks, &mut ws.acc), skip, row) };
    // SAFETY: `accumulate` wrote the first n slots past the length (each before counting
    // it), and n <= room, within the capacity reserved.
    unsafe { ws.out_cols.set_len(start + n) };
    (start, false)
}

/// Rows of at most this many products, in any order, sum by [`append_few`]. Power-law
/// 200k `A·A` (`bench/compare.py`'s file), rows in any order, medians of 60 calls in one
/// process with the threshold switched between calls (a temporary switch), 2 threads:
/// 10.2–10.5 ms at 0 (off), 9.8–10.0 at 8, 9.7–9.9 at 12, 9.8 at 16; its `A·Aᵀ` 11.7–11.9
/// at 0, 11.0–11.2 at 12 and 16; one thread level within noise (18.3 at 0 and 8, 18.5–18.9
/// at 16). `bench/runs/2026-12-06-unsorted-products`.
const FEW_PRODUCTS: usize = 16;

/// Appends row `r` of `A·B` to `cols` / `vals` in first-touch order without the
/// workspace's markers and sums: each product's column is looked for among the row's
/// columns so far (a short linear scan), and added there or appended. The row's columns,
/// their order and every sum's bits are the accumulator's (sums from zero, in `A`'s then
/// `B`'s storage order), without its two random accesses per product into arrays as wide
/// as `B`. For rows of few products, in any order ([`Order::Any`]); returns the row's length.
///
/// # Safety
/// `r < a.nrows()`, `a.ncols() == b.nrows()` (the indices are read unchecked).
#[inline]
unsafe fn append_few<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    r: usize,
    cols: &mut Vec<I>,
    vals: &mut Vec<T>,
) -> usize {
    let (ap, ac, av) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (bp, bc, bv) = (b.row_ptrs(), b.col_idxs(), b.values());
    let start = cols.len();
    // SAFETY: as in `accumulate`: r < nrows(A) and its row range lies in A's entries; every
    // column k of A is < nrows(B), so k + 1 indexes B's row pointers, whose ranges lie in
    // B's entries (CsrRef invariants, checked at construction).
    unsafe {
        for j in ap.get_unchecked(r).to_usize()..ap.get_unchecked(r + 1).to_usize() {
            prefetch_ahead(j, ac, bp, bc, bv);
            let k = ac.get_unchecked(j).to_usize();
            let x = *av.get_unchecked(j);
            for i in bp.get_unchecked(k).to_usize()..bp.get_unchecked(k + 1).to_usize() {
                let c = *bc.get_unchecked(i);
                let p = x * *bv.get_unchecked(i);
                match cols[start..].iter().position(|&d| d == c) {
                    Some(q) => vals[start + q] += p,
                    None => {
                        cols.push(c);
                        // From zero, as in `accumulate`.
                        vals.push(T::zero() + p);
                    }
                }
            }
        }
    }
    cols.len() - start
}

/// Computes row `r` of `A·B`, appending its columns (in `order`) and values to the
/// workspace's output buffers; returns the row's length.
///
/// # Safety
/// As for [`numeric_row`].
#[inline]
unsafe fn numeric_row_append<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    (r, flops): (usize, usize),
    (sentinel, order): (bool, Order),
    ws: &mut Workspace<T, I>,
) -> usize {
    if let Some((x, cols, vals)) = scaled_row(a, b, r) {
        // Pushed one by one: most such rows are a few entries long, too short for a copy
        // call to pay.
        for (&c, &v) in cols.iter().zip(vals) {
            ws.out_cols.push(c);
            ws.out_vals.push(T::zero() + x * v);
        }
        return cols.len();
    }
    if order == Order::Any && flops <= FEW_PRODUCTS {
        // SAFETY: forwarded from the caller.
        return unsafe { append_few(a, b, r, &mut ws.out_cols, &mut ws.out_vals) };
    }
    // SAFETY: forwarded from the caller (the whole row: nothing skipped).
    let (start, sorted) = unsafe { accumulate_row(a, b, (r, flops), (0, |_| 0), sentinel, ws) };
    let Workspace {
        acc,
        out_cols,
        out_vals,
        ..
    } = ws;
    let ncols = b.ncols();
    let sort = !sorted && order == Order::Sorted;
    if sort && scans_for_order(out_cols.len() - start, ncols) {
        out_cols.truncate(start);
        append_touched(
            (ws.stamp, &ws.marks[..ncols], &acc[..ncols]),
            false,
            0,
            out_cols,
        );
    } else if sort {
        out_cols[start..].sort_unstable();
    }
    let row = &mut out_cols[start..];
    // SAFETY: every c is a column of B, < ncols(B) <= acc.len().
    out_vals.extend(
        row.iter()
            .map(|&c| unsafe { *acc.get_unchecked(c.to_usize()) }),
    );
    row.len()
}

/// Up to this many bytes of bounded output (`Σ min(row flops, ncols(B)) · (size_of I +
/// size_of T)`: a row holds at most its products and at most every column) a product runs
/// in one phase (no symbolic pass; the output goes to per-thread buffers kept in the handle,
/// then is copied into place); above it, symbolic then numeric, which allocates exactly and
/// writes in place. One phase saves the symbolic pass (a second walk of the dependent
/// A→B→marker chain) and pays for the copy and, where its buffers are fresh, for faulting
/// them in: it wins where the buffers are warm, and the 64 MB is also what the process's
/// spare set keeps between products (`spare::SPARE_MAX_BYTES`), so that products from
/// handles made for one call (Python's `CSR.multiply`) find them warm too. Above it, on
/// a handle kept for more products (buffers warm) one phase was level or up to 28% faster,
/// but with a fresh handle per call it lost: rows in any order, 2 threads, medians of 11
/// calls, three runs, two phases → one phase, rating 5k × 50k `A·Aᵀ` (100 MB bound) 79–87
/// → 85–99 ms, uniform 200k × 200k, 10 per row (228 MB) 232–275 → 354–421
/// (`docs/spgemm-phases.md`).
/// Stencil products take two phases whatever the bound (their templates make the symbolic
/// pass nearly free).
const ONE_PHASE_MAX_BYTES: usize = 64 << 20;

/// The order of the columns within each output row of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Order {
    /// Sorted by column (the kernel's `mult_ab`).
    Sorted,
    /// As the accumulator found them (first-touch order in the sparse accumulator, column
    /// order where a row was summed densely or by sorting): `mult_ab_unsorted`. Skipping
    /// the sort took a quarter off power-law `A·A`
    /// (`bench/runs/2026-12-06-unsorted-products`).
    Any,
}

/// A product and what its numeric pass saw of it.
#[derive(Debug)]
pub(super) struct Product<T, I> {
    pub(super) matrix: Csr<T, I>,
    /// Whether some stored value is zero (a sum that cancelled, or products of zeros):
    /// checked row by row as each is written, while it is in cache, so that callers that
    /// drop stored zeros need not scan the whole output again.
    pub(super) holds_zeros: bool,
}

/// Whether `vals` (a row just written) holds a zero, without a branch per value.
fn holds_zero<T: Scalar>(vals: &[T]) -> bool {
    let zero = T::zero();
    vals.iter().fold(false, |z, v| z | (*v == zero))
}

/// `A·B` with output rows in `order`, explicit zeros from cancellation kept (and reported:
/// [`Product::holds_zeros`]).
///
/// # Errors
/// [`Error::DimensionMismatch`] unless `A.ncols == B.nrows`; [`Error::IndexTooNarrow`] if
/// the product's nnz does not fit `I`.
///
/// `cache` holds workspaces kept from earlier calls with the same `B` (its handle's); they
/// are borrowed for the call and put back.
pub(super) fn multiply<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    op: &'static str,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    order: Order,
) -> Result<Product<T, I>> {
    if a.ncols() != b.nrows() {
        return Err(Error::DimensionMismatch {
            op,
            lhs: a.shape(),
            rhs: b.shape(),
        });
    }
    multiply_with_limit(a, b, cache, ONE_PHASE_MAX_BYTES, order)
}

/// [`multiply`] (shapes checked) with the one-phase limit as a parameter (tests force each
/// path with it; a stencil product takes two phases whatever the limit).
pub(super) fn multiply_with_limit<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    one_phase_max_bytes: usize,
    order: Order,
) -> Result<Product<T, I>> {
    multiply_with_limits(a, b, cache, (one_phase_max_bytes, STASH_MAX_BYTES), order)
}

/// [`multiply_with_limit`] with the two-phase product's budget for dense rows summed by
/// its symbolic pass ([`STASH_MAX_BYTES`]) as a parameter too.
pub(super) fn multiply_with_limits<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    (one_phase_max_bytes, stash_max_bytes): (usize, usize),
    order: Order,
) -> Result<Product<T, I>> {
    debug_assert_eq!(a.ncols(), b.nrows());
    let (work, chunks) = plan(a, b);
    let workspaces = Workspaces::<T, I>::take(cache);

    let sorted = sorts_rows(b.ncols(), work[a.nrows()] - a.nrows());
    // A stencil product takes two phases whatever its size: its templates make the
    // symbolic pass nearly free (poisson2d:300 `A·A`, 2 threads, medians of 60 calls:
    // one phase 8.4–9.4 ms, two phases with templates 5.1–6.8;
    // `bench/runs/2026-12-06-stencil-spgemm`).
    let shifts = if sorted { None } else { Shifts::find(a, b) };
    let fits =
        |entries: usize| entries.saturating_mul(entry_bytes::<T, I>()) <= one_phase_max_bytes;
    // A row holds at most its flops and at most ncols(B) entries: the flops alone where
    // their sum fits (one subtraction per chunk), else each row's lesser of the two.
    let flops_fit = fits(work[a.nrows()] - a.nrows());
    let bound = |rows: Range<usize>| {
        if flops_fit {
            work[rows.end] - work[rows.start] - rows.len()
        } else {
            rows.map(|r| (work[r + 1] - work[r] - 1).min(b.ncols()))
                .sum::<usize>()
        }
    };
    let one_phase = sorted
        || (shifts.is_none()
            && (flops_fit || fits(chunks.par_iter().map(|rows| bound(rows.clone())).sum())));
    let c = if one_phase {
        let width = if sorted { 0 } else { b.ncols() };
        let sentinel = dense_rows_use_sentinel(a, b, &work);
        one_phase_product(a, b, &chunks, &workspaces, width, bound, |r, ws| {
            if sorted {
                sorted_row(a, b, r, &mut ws.pairs);
                ws.out_cols.extend(ws.pairs.iter().map(|p| p.0));
                ws.out_vals.extend(ws.pairs.iter().map(|p| p.1));
                return ws.pairs.len();
            }
            // SAFETY: r < nrows, shapes agree (checked by `multiply`), workspace sized to
            // ncols(B) by `one_phase_product`.
            unsafe {
                numeric_row_append(a, b, (r, work[r + 1] - work[r] - 1), (sentinel, order), ws)
            }
        })
    } else {
        let schedule = (&work[..], &chunks[..]);
        two_phase_product(
            a,
            b,
            schedule,
            (order, stash_max_bytes),
            shifts.as_ref(),
            &workspaces,
        )
    };
    workspaces.give_back(cache);
    c
}

/// The work of rows `0..r` of `A·B` (flops plus one per row; `nrows + 1` prefix sums) and
/// the rows split into chunks of about equal work.
pub(super) fn plan<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
) -> (Vec<usize>, Vec<Range<usize>>) {
    let (ap, ac, bp) = (a.row_ptrs(), a.col_idxs(), b.row_ptrs());
    let work = prefix_sums(a.nrows(), |r| {
        let mut f = 1usize;
        for &k in &ac[ap[r].to_usize()..ap[r + 1].to_usize()] {
            let k = k.to_usize();
            f += bp[k + 1].to_usize() - bp[k].to_usize();
        }
        f
    });
    let chunks = flop_chunks(&work);
    (work, chunks)
}

/// Entries (column and value) of the dense rows that the symbolic pass of
/// [`two_phase_product`] sums and keeps for the numeric pass, in all threads' buffers
/// together: at most the spare set's size, so that a product from a handle made for one
/// call (Python's `CSR.multiply`) finds the buffers warm from the previous one.
const STASH_MAX_BYTES: usize = spare::SPARE_MAX_BYTES;

/// Bytes of one output entry (column and value).
fn entry_bytes<T, I>() -> usize {
    size_of::<I>() + size_of::<T>()
}

/// Where a chunk of [`two_phase_product`] left the dense rows its symbolic pass summed:
/// in workspace `workspace`'s output buffers from `start` on, one after the other, every
/// dense row of the chunk below `rows_before`.
struct Stashed {
    workspace: usize,
    start: usize,
    rows_before: usize,
}

/// Symbolic then numeric: exact output allocation, each chunk writes its rows in place,
/// in `order`. `work` and `chunks` as [`plan`] returns them; `shifts` (a stencil's, from
/// [`Shifts::find`]) give the rows that repeat the row above them their templates.
///
/// A dense row ([`is_dense`]) is summed by the symbolic pass itself (its count is then
/// its length) and kept in the thread's output buffers, up to `stash_max_bytes` in all
/// threads; the numeric pass copies it into place. Its products are walked once, not
/// twice: the symbolic pass over such rows took a fifth of item-item `A·Aᵀ`
/// (`docs/spgemm-phases.md`).
fn two_phase_product<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    (work, chunks): (&[usize], &[Range<usize>]),
    (order, stash_max_bytes): (Order, usize),
    shifts: Option<&Shifts>,
    workspaces: &Workspaces<T, I>,
) -> Result<Product<T, I>> {
    let (nrows, ncols) = (a.nrows(), b.ncols());
    let dense = |flops: usize| flops > 1 && is_dense(flops, ncols);
    let sentinel = dense_rows_use_sentinel(a, b, work);
    // Entries each thread may keep.
    let stash_room = stash_max_bytes / workspaces.0.len() / entry_bytes::<T, I>();
    workspaces.clear_output();
    // Symbolic: per-row counts into row_ptrs[r + 1], each chunk's stencil segments, and
    // the dense rows summed already (each chunk's, in row order, in its thread's buffers).
    let mut row_ptrs = vec![I::ZERO; nrows + 1];
    let (segments, stashed): (Vec<Segments>, Vec<Stashed>) = {
        let slices = cut_by(&mut row_ptrs[1..], chunks);
        slices
            .into_par_iter()
            .map(|(rows, counts)| {
                workspaces.with(|wi, ws| {
                    ws.ensure(ncols, false)?;
                    let segments = shifts
                        .as_ref()
                        .map(|s| s.segments(a, b, rows.clone()))
                        .unwrap_or_default();
                    let mut templates = segments.cursor();
                    let mut stashed = Stashed {
                        workspace: wi,
                        start: ws.out_cols.len(),
                        rows_before: rows.start,
                    };
                    let mut stashing = true;
                    for (r, cnt) in rows.zip(counts.iter_mut()) {
                        let flops = work[r + 1] - work[r] - 1;
                        stashing &=
                            !dense(flops) || ws.out_cols.len() + flops.min(ncols) <= stash_room;
                        let n = if let Some(t) = templates.at(r) {
                            t.len()
                        } else if stashing && dense(flops) {
                            ws.ensure(ncols, true)?;
                            // Room for the row (at most ncols(B) entries), or an error:
                            // the buffers grow as rows come, not by a bound made first.
                            let what = "SpGEMM dense rows kept";
                            try_room(&mut ws.out_cols, ncols, what)?;
                            try_room(&mut ws.out_vals, ncols, what)?;
                            // SAFETY: r < nrows, shapes agree (checked by `multiply`),
                            // workspace sized to ncols(B) just above.
                            unsafe { numeric_row_append(a, b, (r, flops), (sentinel, order), ws) }
                        } else if flops <= 1 {
                            flops
                        } else if let Some((_, cols, _)) = scaled_row(a, b, r) {
                            cols.len()
                        } else {
                            // SAFETY: r < nrows, shapes agree (checked above), marks sized
                            // to ncols(B) by `ensure`.
                            unsafe { symbolic_row(a, b, r, ws) }
                        };
                        if stashing {
                            stashed.rows_before = r + 1;
                        }
                        // n <= ncols(B), which fits I.
                        *cnt = I::truncate(n);
                    }
                    Ok((segments, stashed))
                })
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip()
    };
    let nnz = counts_to_ptrs(&mut row_ptrs, chunks)?;

    // Numeric: each chunk fills its own slice of the output, which its thread faults in
    // as it writes it (huge-page advised, never filled first: each byte written once;
    // poisson2d(2000) A·A on 2 threads 374-376 -> 298-351 ms against a parallel fill
    // first, `bench/runs/2026-12-06-zeroed-output`).
    let mut col_idxs: Vec<I> = zeroed_output(nnz);
    let mut values: Vec<T> = zeroed_output(nnz);
    // The stashed rows, out of the workspaces while their accumulators run.
    let stashes = workspaces.take_output();
    let holds_zeros = {
        let slices = cut_output(&row_ptrs, chunks, (&mut col_idxs, &mut values));
        let row_ptrs = &row_ptrs;
        let stashes = &stashes;
        slices
            .into_par_iter()
            .zip(&segments)
            .zip(&stashed)
            .map(|(((rows, cols, vals), segments), stashed)| {
                workspaces.with(|_, ws| {
                    ws.ensure(ncols, true)?;
                    let base = row_ptrs[rows.start].to_usize();
                    let mut zeros = false;
                    let mut templates = segments.cursor();
                    let (stash_cols, stash_vals) = &stashes[stashed.workspace];
                    let mut from = stashed.start;
                    for r in rows {
                        let s = row_ptrs[r].to_usize() - base;
                        let e = row_ptrs[r + 1].to_usize() - base;
                        let flops = work[r + 1] - work[r] - 1;
                        let (cols, vals) = (&mut cols[s..e], &mut vals[s..e]);
                        if let Some(t) = templates.at(r) {
                            // `vals` is still zero: rows are written once.
                            t.fill(a, b, r, cols, vals);
                        } else if r < stashed.rows_before && dense(flops) {
                            let to = from + cols.len();
                            cols.copy_from_slice(&stash_cols[from..to]);
                            vals.copy_from_slice(&stash_vals[from..to]);
                            from = to;
                        } else {
                            // SAFETY: r < nrows, shapes agree, workspace sized to ncols(B).
                            unsafe { numeric_row(a, b, (r, flops), order, ws, cols, vals) };
                        }
                        zeros |= holds_zero(vals);
                    }
                    Ok(zeros)
                })
            })
            .try_reduce(|| false, |x, y| Ok(x | y))?
    };
    workspaces.put_back_output(stashes);
    // SAFETY: row_ptrs starts at 0, is non-decreasing (prefix sums of counts) and ends at
    // nnz = col_idxs.len() = values.len(); every column is a column of B (< ncols); nrows
    // and ncols fit I because they did for A and B, and nnz was checked by
    // `counts_to_ptrs`.
    let matrix = unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, col_idxs, values) };
    Ok(Product {
        matrix,
        holds_zeros,
    })
}

/// One pass: each chunk appends its rows to its thread's reusable buffers (reserving
/// `bound(rows)` entries for them), then the row pointers are summed and the chunks copied
/// into place. `row(r, ws)` appends row `r` to `ws.out_cols` / `ws.out_vals` (using the
/// workspace's accumulator, sized here to `width` columns: `ncols(B)`, or 0 when rows
/// accumulate by sorting) and returns its length, at most `ncols(B)`.
#[allow(
    clippy::too_many_arguments,
    reason = "operands, schedule, workspaces, row"
)]
pub(super) fn one_phase_product<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    chunks: &[Range<usize>],
    workspaces: &Workspaces<T, I>,
    width: usize,
    bound: impl Fn(Range<usize>) -> usize + Sync,
    row: impl Fn(usize, &mut Workspace<T, I>) -> usize + Sync,
) -> Result<Product<T, I>> {
    let (nrows, ncols) = (a.nrows(), b.ncols());
    let mut row_ptrs = vec![I::ZERO; nrows + 1];
    let slices = cut_by(&mut row_ptrs[1..], chunks);
    workspaces.clear_output();
    // Where each chunk's output went (workspace, start in its buffers), and whether it
    // holds a zero.
    let placed: Vec<(usize, usize, bool)> = slices
        .into_par_iter()
        .map(|(rows, counts)| {
            workspaces.with(|wi, ws| {
                ws.ensure(width, true)?;
                let start = ws.out_cols.len();
                let bound = bound(rows.clone());
                try_room(&mut ws.out_cols, bound, "SpGEMM one-phase buffers")?;
                try_room(&mut ws.out_vals, bound, "SpGEMM one-phase buffers")?;
                let mut zeros = false;
                for (r, cnt) in rows.zip(counts.iter_mut()) {
                    let n = row(r, ws);
                    zeros |= holds_zero(&ws.out_vals[ws.out_vals.len() - n..]);
                    // n <= ncols(B), which fits I.
                    *cnt = I::truncate(n);
                }
                Ok((wi, start, zeros))
            })
        })
        .collect::<Result<_>>()?;
    let nnz = counts_to_ptrs(&mut row_ptrs, chunks)?;
    // Faulted in by the copies below (as in `two_phase_product`), never cleared first.
    let mut col_idxs: Vec<I> = try_output_room(nnz, "SpGEMM output columns")?;
    let mut values: Vec<T> = try_output_room(nnz, "SpGEMM output values")?;
    let guards: Vec<_> = workspaces
        .0
        .iter()
        .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
        .collect();
    let bufs: Vec<(&[I], &[T])> = guards
        .iter()
        .map(|g| (g.out_cols.as_slice(), g.out_vals.as_slice()))
        .collect();
    let holds_zeros = placed.iter().any(|p| p.2);
    let room = (
        &mut col_idxs.spare_capacity_mut()[..nnz],
        &mut values.spare_capacity_mut()[..nnz],
    );
    let jobs = cut_output(&row_ptrs, chunks, room);
    debug_assert_eq!(jobs.len(), placed.len());
    jobs.into_par_iter()
        .zip(placed)
        .for_each(|((_, cols, vals), (wi, start, _))| {
            let (bc, bv) = bufs[wi];
            let end = start + vals.len();
            for (slot, &c) in cols.iter_mut().zip(&bc[start..end]) {
                slot.write(c);
            }
            for (slot, &v) in vals.iter_mut().zip(&bv[start..end]) {
                slot.write(v);
            }
        });
    drop(bufs);
    drop(guards);
    // SAFETY: the chunks' slots partition 0..nnz (`cut_output` by the row pointers, whose
    // last is nnz), and each chunk wrote all of its slots: its buffers hold exactly its
    // rows' entries (the counts the row pointers were summed from).
    unsafe {
        col_idxs.set_len(nnz);
        values.set_len(nnz);
    }
    // SAFETY: as in `two_phase_product`: row_ptrs are prefix sums of the row counts ending
    // at nnz = col_idxs.len() = values.len(), columns come from B (< ncols), and nrows,
    // ncols, nnz fit I (nnz checked by `counts_to_ptrs`).
    let matrix = unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, col_idxs, values) };
    Ok(Product {
        matrix,
        holds_zeros,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_to_ptrs_refuses_nnz_overflowing_i32() {
        let mut ptrs: Vec<i32> = vec![0, i32::MAX, 1];
        let err = counts_to_ptrs(&mut ptrs, &[0..1, 1..2]).unwrap_err();
        assert!(matches!(
            err,
            Error::IndexTooNarrow {
                extent: Extent::Nnz,
                value,
                ..
            } if value == i32::MAX as usize + 1
        ));
        let mut ok: Vec<i32> = vec![0, i32::MAX - 1, 1];
        let whole: Vec<Range<usize>> = std::iter::once(0..2).collect();
        assert_eq!(counts_to_ptrs(&mut ok, &whole).unwrap(), i32::MAX as usize);
        assert_eq!(ok, vec![0, i32::MAX - 1, i32::MAX]);
    }

    #[test]
    fn prefix_sums_are_exclusive() {
        assert_eq!(prefix_sums(4, |i| i + 1), vec![0, 1, 3, 6, 10]);
        assert_eq!(prefix_sums(0, |_| 1), vec![0]);
        let big = prefix_sums(300_000, |_| 2);
        assert_eq!(big[300_000], 600_000);
        assert_eq!(big[123_457], 246_914);
    }

    #[test]
    fn write_marked_lists_the_stamped_columns_in_order() {
        let marks = [3u32, 7, 7, 0, 7, 2, 7];
        let mut cols = [0i32; 4];
        write_touched(7, &marks, &mut cols);
        assert_eq!(cols, [1, 2, 4, 6]);
        let mut none: [i64; 0] = [];
        write_touched(9, &marks, &mut none);
        let mut first = [0i64; 1];
        write_touched(3, &marks, &mut first);
        assert_eq!(first, [0]);
        // From column 2 on, into room for every column: stops at the last marked one.
        let mut room = [0i32; 5];
        assert_eq!(write_marked(7, &marks, 2, &mut room), 3);
        assert_eq!(room[..3], [2, 4, 6]);
        // A full buffer stops the scan.
        let mut two = [0i32; 2];
        assert_eq!(write_marked(7, &marks, 0, &mut two), 2);
        assert_eq!(two, [1, 2]);
    }

    #[test]
    fn write_marked_agrees_with_a_plain_filter_across_mask_blocks() {
        // Markers over several 64-column blocks and a remainder, stamps of every kind
        // (the stamp, others, u32::MAX, 0), read from every start `lo` and into buffers
        // too short, exact and too long.
        let ncols = 3 * MASK_BLOCK + 21;
        let marks: Vec<u32> = (0..ncols)
            .map(|c| match (c * 7919) % 11 {
                0 | 3 | 4 => 5,
                1 => u32::MAX,
                2 => 0,
                k => k as u32,
            })
            .collect();
        for stamp in [5, u32::MAX, 0, 6] {
            for lo in [0, 1, 63, 64, 65, 130, ncols - 3, ncols] {
                let want: Vec<i32> = (lo..ncols)
                    .filter(|&c| marks[c] == stamp)
                    .map(|c| c as i32)
                    .collect();
                for room in [0, want.len() / 2, want.len(), want.len() + 3] {
                    let mut slots = vec![-1i32; room];
                    let n = write_marked(stamp, &marks, lo, &mut slots);
                    let kept = room.min(want.len());
                    assert_eq!(n, kept, "stamp {stamp} lo {lo} room {room}");
                    assert_eq!(
                        slots[..n],
                        want[..kept],
                        "stamp {stamp} lo {lo} room {room}"
                    );
                }
            }
        }
        let block: Vec<u32> = (0..MASK_BLOCK as u32).map(|c| c % 3).collect();
        let want = (0..MASK_BLOCK)
            .filter(|c| c % 3 == 1)
            .fold(0u64, |m, c| m | 1 << c);
        assert_eq!(marked_mask(1, &block), want);
    }

    #[test]
    fn flop_chunks_cover_rows_in_order() {
        let work = prefix_sums(1000, |r| if r == 500 { 1 << 20 } else { 1 });
        let chunks = flop_chunks(&work);
        assert_eq!(chunks[0].start, 0);
        assert_eq!(chunks[chunks.len() - 1].end, 1000);
        assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
        assert!(flop_chunks(&[0]).iter().all(|c| c.is_empty()));
    }
}
