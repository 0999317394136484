//! Top-k of a Gram product `A·Aᵀ` (item-item similarity) computing each pair once.
//!
//! `S = A·Aᵀ` is symmetric, so row `i` sums only the columns `j >= i` (each product of row
//! `i` of `A` with a row `u` of `Aᵀ` skips the entries of row `u` below column `i`: as many
//! as rows before `i` hold column `u`, counted for every entry of `A` in one pass): half the
//! flops of [`topk`](super::topk). A sum `S[i, j]` is then a
//! candidate twice: for row `i` at column `j` (kept in `own`, at most `k` per row, selected
//! as in [`topk`](super::topk)), and for row `j` at column `i`, offered to the calling
//! thread's heap of row `j` (`Incoming`, `k` per row). Last, each row keeps the best `k`
//! of its own candidates and every thread's heap for it.
//!
//! **Same result as [`topk`](super::topk), bit for bit**, whatever the thread count: with
//! rows of `A` sorted and free of duplicates (checked; otherwise the caller runs the
//! general product), `S[i, j]` and `S[j, i]` add the same products (`a_iu·a_ju`, equal in
//! either order) over the same `u`, in increasing `u`, from zero. The union of the
//! candidates holds each row's best `k`, and the ranking is a total order (value, then the
//! lower column), so the selection does not depend on which thread offered what.
//!
//! Memory: the output (`own`, `nrows·k` entries), the workspaces of the general product,
//! and one heap set per thread (`nrows·k` entries and two counters per row); the product
//! runs only when the heaps fit [`GRAM_HEAPS_MAX_BYTES`].

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::spgemm::{self, Workspace, Workspaces};
use crate::error::Result;
use crate::kernel::topk::{
    OnePass, SelectScratch, TopK, Touched, concat_row_blocks, heap_offer, is_candidate, rank,
    select_columns_fast, select_dense_row, select_row_fast,
};
use crate::parallel::{cut_by, even_ranges, piece_count, try_zeroed};
use crate::{Csr, CsrRef, Index, Scalar};

/// The most bytes the per-thread heaps may take together. Beyond it (many rows, large `k`,
/// many threads) the caller runs the general product, whose memory is the output and the
/// workspaces only.
pub(super) const GRAM_HEAPS_MAX_BYTES: usize = 64 << 20;

/// One thread's candidates for rows it does not compute: a heap of at most `k` entries
/// `(column, value)` per row, worst at the root.
struct Incoming<T: Scalar, I> {
    heaps: Vec<(I, T)>,
    lens: Vec<u32>,
    /// Per row: -∞ while its heap has room, else its worst value, which a candidate must
    /// reach to be compared at all.
    bars: Vec<T::Real>,
}

impl<T: Scalar, I: Index> Incoming<T, I> {
    fn new(nrows: usize, k: usize) -> Result<Self> {
        Ok(Self {
            heaps: try_zeroed(nrows.saturating_mul(k), "top-k candidate heaps")?,
            lens: try_zeroed(nrows, "top-k candidate heaps")?,
            bars: {
                let mut bars = try_zeroed(nrows, "top-k candidate heaps")?;
                bars.fill(T::from_re_im(f64::NEG_INFINITY, 0.0).re());
                bars
            },
        })
    }

    /// Offers `S[row, col] = v` to row `row`'s heap. Inlined: most offers fail the bar, a
    /// load and a comparison.
    #[inline(always)]
    fn offer(&mut self, k: usize, row: usize, col: usize, v: T, opts: &TopK<T::Real>) {
        // NaN passes this test; `is_candidate` drops it.
        #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "NaN must pass the test")]
        if !(v.re() < self.bars[row]) {
            self.offer_past_bar(k, row, col, v, opts);
        }
    }

    /// [`Incoming::offer`] of a value that reaches the bar (or is NaN).
    #[inline(never)]
    fn offer_past_bar(&mut self, k: usize, row: usize, col: usize, v: T, opts: &TopK<T::Real>) {
        if !is_candidate(opts, row, col, v.re()) {
            return;
        }
        let heap = &mut self.heaps[row * k..(row + 1) * k];
        let mut len = self.lens[row] as usize;
        let worse = |x: (I, T), y: (I, T)| {
            rank((x.0.to_usize(), x.1.re()), (y.0.to_usize(), y.1.re())) == Ordering::Greater
        };
        if heap_offer(heap, &mut len, k, (I::truncate(col), v), worse) && len == k {
            self.bars[row] = heap[0].1.re();
        }
        // len <= k <= nrows, whose counts fit u32 (checked by the caller).
        self.lens[row] = len as u32;
    }

    /// Row `row`'s candidates.
    fn row(&self, k: usize, row: usize) -> &[(I, T)] {
        &self.heaps[row * k..row * k + self.lens[row] as usize]
    }
}

/// Bytes of one thread's [`Incoming`].
fn incoming_bytes<T, I>(nrows: usize, k: usize) -> usize {
    nrows
        .saturating_mul(k)
        .saturating_mul(std::mem::size_of::<(I, T)>())
        .saturating_add(nrows.saturating_mul(12))
}

/// The top entries of each row of `A·Aᵀ`, given `at = Aᵀ` with sorted rows (shapes and
/// value type checked by the caller, `opts.k > 0`), or `None` where this path does not
/// apply: rows of `A` unsorted or with duplicates, a `k` whose counts do not fit `u32`,
/// or heaps beyond [`GRAM_HEAPS_MAX_BYTES`]. `cache` as for [`spgemm::multiply`].
pub(super) fn gram_topk<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    at: CsrRef<'_, T, I>,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    opts: &TopK<T::Real>,
) -> Result<Option<Csr<T, I>>> {
    debug_assert_eq!((a.nrows(), a.ncols()), (at.ncols(), at.nrows()));
    let n = a.nrows();
    let k = opts.k.min(n);
    let threads = rayon::current_num_threads().max(1);
    if k == 0
        || u32::try_from(n).is_err()
        || incoming_bytes::<T, I>(n, k).saturating_mul(threads) > GRAM_HEAPS_MAX_BYTES
        || !a.is_sorted_without_duplicates()
    {
        return Ok(None);
    }
    let chunks = chunks(a, at);
    let skips = rows_before(a)?;
    let sentinel = spgemm::sentinel_applies(a, at);
    let workspaces = Workspaces::<T, I>::take(cache);
    let incoming: Vec<Mutex<Option<Incoming<T, I>>>> =
        (0..threads).map(|_| Mutex::new(None)).collect();

    // Each row's own best k (columns >= the row), in k slots per row.
    let mut own: Vec<(I, T)> = try_zeroed(n.saturating_mul(k), "top-k output")?;
    let mut own_lens: Vec<u32> = try_zeroed(n, "top-k output")?;
    let slot_ranges: Vec<Range<usize>> = chunks.iter().map(|r| r.start * k..r.end * k).collect();
    let own_slices = cut_by(&mut own, &slot_ranges);
    let len_slices = cut_by(&mut own_lens, &chunks);
    let computed =
        own_slices
            .into_par_iter()
            .zip(len_slices)
            .try_for_each(|((_, slots), (rows, lens))| {
                workspaces.with(|wi, ws| {
                    ws.ensure(n, true)?;
                    let mut guard = incoming[wi % threads]
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    // Made on the thread's first chunk (a thread that runs none has none).
                    let inc = match &mut *guard {
                        Some(inc) => inc,
                        empty => empty.insert(Incoming::new(n, k)?),
                    };
                    for (i, (row_slots, len)) in rows.zip(slots.chunks_mut(k).zip(lens.iter_mut()))
                    {
                        *len =
                            upper_row(a, at, i, (&skips, sentinel, ws, inc), (k, opts), row_slots);
                    }
                    Ok(())
                })
            });
    workspaces.give_back(cache);
    computed?;

    // Every thread's heaps are complete: each row keeps the best of its candidates.
    let heaps: Vec<Incoming<T, I>> = incoming
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    merge_rows(n, k, opts, &own, &own_lens, &heaps).map(Some)
}

/// [`gram_topk`] of `A` when `b` is exactly `Aᵀ` with sorted rows (what
/// `sparse_dot_topn`'s users pass as `sp_matmul_topn(A, A.T)`): `A·B` is then `A·Aᵀ`;
/// `None` when it is not (or the Gram path declines). The check costs O(1) for most other
/// `B`: it stops at the first entry that differs.
pub(super) fn gram_topk_if_transpose<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    cache: Option<&Mutex<Vec<Workspace<T, I>>>>,
    opts: &TopK<T::Real>,
) -> Result<Option<Csr<T, I>>> {
    if opts.k == 0 || !is_transpose(a, b)? {
        return Ok(None);
    }
    gram_topk(a, b, cache, opts)
}

/// Whether `b` is `Aᵀ` entry for entry (values bit for bit) with rows in column order.
/// Rows of `A` are walked in order, so each entry `(i, u)` must be the next unread entry of
/// row `u` of `B`; a row of `B` out of order or any difference fails at once.
///
/// # Errors
/// [`crate::Error::OutOfMemory`] if the cursors (one per column of `A`) cannot be allocated.
fn is_transpose<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, b: CsrRef<'_, T, I>) -> Result<bool> {
    if b.shape() != (a.ncols(), a.nrows()) || a.nnz() != b.nnz() {
        return Ok(false);
    }
    let (bp, bc, bv) = (b.row_ptrs(), b.col_idxs(), b.values());
    // Entries of each row of B read so far.
    let mut read: Vec<usize> = try_zeroed(a.ncols(), "transpose check cursors")?;
    for i in 0..a.nrows() {
        let (cols, vals) = a.row(i);
        for (u, v) in cols.iter().zip(vals) {
            let u = u.to_usize();
            let at = bp[u].to_usize() + read[u];
            if at >= bp[u + 1].to_usize()
                || bc[at].to_usize() != i
                || bytemuck::bytes_of(&bv[at]) != bytemuck::bytes_of(v)
            {
                return Ok(false);
            }
            read[u] += 1;
        }
    }
    // Every entry of A matched a distinct entry of B, and they have as many: all of B.
    Ok(true)
}

/// For each entry `(i, u)` of `A`, how many rows before `i` hold column `u`: where row
/// `i` sits in row `u` of `Aᵀ` (rows without duplicates), so that row `i` of the Gram
/// product skips that many entries of it. One pass over `A` (counters in `u32`: every
/// count is below `nrows`, checked to fit by the caller).
///
/// # Errors
/// [`crate::Error::OutOfMemory`] if the counts (one per entry, one per column) cannot be
/// allocated.
fn rows_before<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> Result<Vec<u32>> {
    let mut seen: Vec<u32> = try_zeroed(a.ncols(), "Gram product column counts")?;
    let mut before: Vec<u32> = try_zeroed(a.nnz(), "Gram product column counts")?;
    for (b, u) in before.iter_mut().zip(a.col_idxs()) {
        let s = &mut seen[u.to_usize()];
        *b = *s;
        *s += 1;
    }
    Ok(before)
}

/// Rows in chunks of about equal work: row `i` sums about `(n - i) / n` of its products.
fn chunks<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, at: CsrRef<'_, T, I>) -> Vec<Range<usize>> {
    let (ap, ac, tp) = (a.row_ptrs(), a.col_idxs(), at.row_ptrs());
    let n = a.nrows();
    let work = spgemm::prefix_sums(n, |i| {
        let flops: usize = ac[ap[i].to_usize()..ap[i + 1].to_usize()]
            .iter()
            .map(|u| tp[u.to_usize() + 1].to_usize() - tp[u.to_usize()].to_usize())
            .sum();
        1 + (flops as u128 * (n - i) as u128 / n as u128) as usize
    });
    spgemm::flop_chunks(&work)
}

/// Row `i` of `A·Aᵀ` from column `i` on: offers each `S[i, j]`, `j > i`, to row `j`'s heap
/// in `inc`, and writes the row's own best `k` to `slots`; returns how many.
fn upper_row<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    at: CsrRef<'_, T, I>,
    i: usize,
    (skips, sentinel, ws, inc): (&[u32], bool, &mut Workspace<T, I>, &mut Incoming<T, I>),
    (k, opts): (usize, &TopK<T::Real>),
    slots: &mut [(I, T)],
) -> u32 {
    let tp = at.row_ptrs();
    let (ap, ac) = (a.row_ptrs(), a.col_idxs());
    let flops: usize = (ap[i].to_usize()..ap[i + 1].to_usize())
        .map(|e| {
            let u = ac[e].to_usize();
            tp[u + 1].to_usize() - tp[u].to_usize() - skips[e] as usize
        })
        .sum();
    ws.out_cols.clear();
    let n = a.nrows();
    let skip = |e: usize| skips[e] as usize;
    // The safety conditions of both accumulations: i < nrows(A); ncols(A) == nrows(Aᵀ)
    // (caller); the workspace holds nrows(A) == ncols(Aᵀ) columns (`ensure`); each skip
    // counts rows before i in row u of Aᵀ, so it is below the row's length, and the columns
    // left are >= i (sorted rows, no duplicates).
    if spgemm::is_dense(flops, n - i) {
        // SAFETY: as stated above.
        let stamp = unsafe { spgemm::sum_dense_row(a, at, i, (i, skip), sentinel, ws) };
        let Workspace {
            marks,
            acc,
            out_cols,
            select,
            ..
        } = ws;
        let (marks, acc) = (&marks[..n], &acc[..n]);
        // The row's own best straight from the accumulator where the AVX-512 selection
        // applies: columns i.. of the row, numbered from i (its diagonal is column 0).
        let own = Touched::of(sentinel, stamp, &marks[i..]);
        let selected = select_dense_row(&acc[i..], own, 0, opts, out_cols, select).map(|kept| {
            for (slot, &c) in slots.iter_mut().zip(&out_cols[..kept]) {
                let c = c.to_usize() + i;
                *slot = (I::truncate(c), acc[c]);
            }
            // kept <= k <= n, which fits u32 (checked by `gram_topk`).
            kept as u32
        });
        return if sentinel {
            let untouched = spgemm::negative_zero::<T>();
            let touched = |c: usize| bytemuck::bytes_of(&acc[c]) != bytemuck::bytes_of(&untouched);
            scan_dense_row(i, (acc, touched), inc, (k, opts), (slots, selected))
        } else {
            scan_dense_row(
                i,
                (acc, |c: usize| marks[c] == stamp),
                inc,
                (k, opts),
                (slots, selected),
            )
        };
    }
    // SAFETY: as stated above.
    let (start, _) = unsafe { spgemm::accumulate_row(a, at, (i, flops), (i, skip), sentinel, ws) };
    let Workspace {
        acc,
        out_cols,
        select,
        ..
    } = ws;
    for &j in &out_cols[start..] {
        let j = j.to_usize();
        if j > i {
            inc.offer(k, j, i, acc[j], opts);
        }
    }
    let kept = select_columns_fast(&mut out_cols[start..], i, opts, acc, select);
    debug_assert!(kept <= k, "at most min(opts.k, n - i) columns from i on");
    for (slot, &c) in slots.iter_mut().zip(&out_cols[start..start + kept]) {
        *slot = (c, acc[c.to_usize()]);
    }
    // kept <= k <= n, which fits u32 (checked by `gram_topk`).
    kept as u32
}

/// The candidates of a dense row `i` of the Gram product, summed in `acc` from column `i`
/// on (`touched(c)`: whether the row reached column `c`), in one walk of the accumulator:
/// each `S[i, j]`, `j > i`, is offered to row `j`'s heap in `inc`, and, unless `selected`
/// holds the count of the row's own best already in `slots` (the AVX-512 selection), each
/// `S[i, j]`, `j >= i`, to the row's own selection ([`OnePass`], its heap in `slots`);
/// returns how many the row keeps. Most columns fail both heaps' bars: a column costs a
/// few comparisons, with no list of the touched columns written and read back.
fn scan_dense_row<T: Scalar, I: Index>(
    i: usize,
    (acc, touched): (&[T], impl Fn(usize) -> bool),
    inc: &mut Incoming<T, I>,
    (k, opts): (usize, &TopK<T::Real>),
    (slots, selected): (&mut [(I, T)], Option<u32>),
) -> u32 {
    let mut own = OnePass::new();
    let (col, value) = (|p: (I, T)| p.0.to_usize(), |p: (I, T)| p.1.re());
    if selected.is_none() && touched(i) {
        own.offer(slots, (I::truncate(i), acc[i]), i, opts, col, value);
    }
    for (j, &v) in acc.iter().enumerate().skip(i + 1) {
        if touched(j) {
            inc.offer(k, j, i, v, opts);
            if selected.is_none() {
                own.offer(slots, (I::truncate(j), v), i, opts, col, value);
            }
        }
    }
    // kept <= k <= n, which fits u32 (checked by `gram_topk`).
    selected.unwrap_or_else(|| own.finish(slots, opts.order, col, value) as u32)
}

/// Each row's best `k` of its own candidates and the heaps' (all already filtered by
/// `opts`), in `opts.order`.
fn merge_rows<T: Scalar, I: Index>(
    n: usize,
    k: usize,
    opts: &TopK<T::Real>,
    own: &[(I, T)],
    own_lens: &[u32],
    heaps: &[Incoming<T, I>],
) -> Result<Csr<T, I>> {
    let pieces = piece_count(n.saturating_mul(k));
    let blocks: Vec<(Vec<usize>, Vec<I>, Vec<T>)> = even_ranges(n, pieces)
        .into_par_iter()
        .map(|rows| {
            let (mut counts, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
            let mut cands: Vec<(I, T)> = Vec::new();
            let mut scratch = SelectScratch::default();
            for r in rows {
                cands.clear();
                cands.extend_from_slice(&own[r * k..r * k + own_lens[r] as usize]);
                for h in heaps {
                    cands.extend_from_slice(h.row(k, r));
                }
                let kept = select_row_fast(
                    &mut cands,
                    r,
                    opts,
                    |p| p.0.to_usize(),
                    |p| p.1.re(),
                    &mut scratch,
                );
                counts.push(kept);
                cols.extend(cands[..kept].iter().map(|p| p.0));
                vals.extend(cands[..kept].iter().map(|p| p.1));
            }
            (counts, cols, vals)
        })
        .collect();
    concat_row_blocks(n, n, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Generator;
    use crate::kernel::TopKOrder;
    use crate::kernel::native::topk::multiply_topk;

    fn matrix(spec: &str, seed: u64) -> Csr<f64, i32> {
        spec.parse::<Generator>().unwrap().build(seed).unwrap()
    }

    fn bits(c: &Csr<f64, i32>) -> (Vec<i32>, Vec<i32>, Vec<u64>) {
        let v = c.values().iter().map(|x| x.to_bits()).collect();
        (c.row_ptrs().to_vec(), c.col_idxs().to_vec(), v)
    }

    /// The Gram path runs (sorted rows, small heaps) and equals the general top-k product
    /// bit for bit, on random real values (sums that round), for every option and thread
    /// count; dense rows (ratings, stencil) and sparse ones (random) both.
    #[test]
    fn equals_the_general_product_bit_for_bit() {
        let cases = [
            ("random:300:90:5", 1),
            ("ratings:70:240:12", 2),
            ("poisson2d:15", 3),
            ("powerlaw:400:4", 4),
        ];
        let options = [
            TopK::new(1),
            TopK::new(4).exclude_diagonal(true),
            TopK::new(9)
                .threshold(0.05)
                .order(TopKOrder::ByValueDescending),
            TopK::new(10_000).exclude_diagonal(true),
        ];
        for (spec, seed) in cases {
            let mut a = matrix(spec, seed);
            if spec.starts_with("ratings") {
                // Items × users, as item-item similarity has it.
                a = a.transpose();
            }
            let at = a.transpose();
            for opts in &options {
                let want = multiply_topk(a.view(), at.view(), None, opts).unwrap();
                for threads in [1, 2, 3] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let got = pool
                        .install(|| gram_topk(a.view(), at.view(), None, opts))
                        .unwrap()
                        .expect("sorted rows and small heaps take the Gram path");
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{spec}, {opts:?}, {threads} threads"
                    );
                }
            }
        }
    }

    /// `A·B` with `B = Aᵀ` exactly takes the Gram path (same result as `A·Aᵀ`); a `B` that
    /// differs in one value's bits, one column, or the order of a row does not.
    #[test]
    fn a_product_with_the_exact_transpose_is_a_gram_product() {
        let a = matrix("random:200:60:4", 7);
        let at = a.transpose();
        let opts = TopK::new(3).exclude_diagonal(true);
        let want = multiply_topk(a.view(), at.view(), None, &opts).unwrap();
        let got = gram_topk_if_transpose(a.view(), at.view(), None, &opts).unwrap();
        assert_eq!(bits(&got.expect("B = Aᵀ")), bits(&want));

        let (p, c, v) = (
            at.row_ptrs().to_vec(),
            at.col_idxs().to_vec(),
            at.values().to_vec(),
        );
        let nth = at.nnz() / 2;
        let row = (0..at.nrows()).find(|&r| at.row(r).0.len() >= 2).unwrap();
        let first = p[row] as usize;
        let mut variants = Vec::new();
        let mut zero = v.clone();
        zero[nth] = -zero[nth];
        variants.push((c.clone(), zero, "a value's sign"));
        let mut moved = c.clone();
        moved[nth] = (moved[nth] + 1) % 200;
        variants.push((moved, v.clone(), "a column"));
        let mut swapped_c = c.clone();
        let mut swapped_v = v.clone();
        swapped_c.swap(first, first + 1);
        swapped_v.swap(first, first + 1);
        variants.push((swapped_c, swapped_v, "a row's order"));
        for (cols, vals, what) in variants {
            let b = Csr::try_from_parts(at.nrows(), at.ncols(), p.clone(), cols, vals).unwrap();
            let none = gram_topk_if_transpose(a.view(), b.view(), None, &opts).unwrap();
            assert!(none.is_none(), "{what} differs");
        }
        let other = matrix("random:60:200:4", 8);
        assert!(
            gram_topk_if_transpose(a.view(), other.view(), None, &opts)
                .unwrap()
                .is_none()
        );
    }

    /// Rows out of order or with duplicates, and heaps over the budget, leave the product
    /// to the general path.
    #[test]
    fn declines_what_it_cannot_do_exactly() {
        let unsorted = Csr::<f64, i32>::try_from_parts(
            2,
            3,
            vec![0, 2, 3],
            vec![2, 0, 1],
            vec![1.0, 2.0, 3.0],
        )
        .unwrap();
        let at = unsorted.transpose();
        let none = gram_topk(unsorted.view(), at.view(), None, &TopK::new(1)).unwrap();
        assert!(none.is_none());
        // 5000 rows × 5000 per row × 16 bytes: 400 MB of heaps for one thread.
        let a = matrix("random:5000:50:2", 5);
        let at = a.transpose();
        let none = gram_topk(a.view(), at.view(), None, &TopK::new(5000)).unwrap();
        assert!(none.is_none(), "heaps over the budget");
    }
}
