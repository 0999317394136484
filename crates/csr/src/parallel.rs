//! Internal helpers for splitting row-structured work across rayon threads.

use std::marker::PhantomData;
use std::ops::Range;

use rayon::prelude::*;

use crate::Index;
use crate::error::{Error, Result};

/// Below this much work (entries plus rows) an operation runs on the calling thread: splitting
/// costs more than it saves. Chosen so a split is worth ~50 µs of streaming work.
pub(crate) const MIN_PARALLEL_WORK: usize = 1 << 16;

/// How many pieces to cut `work` units into: one per thread it runs on
/// ([`joined::current_threads`](crate::joined)), none smaller than [`MIN_PARALLEL_WORK`].
pub(crate) fn piece_count(work: usize) -> usize {
    (work / MIN_PARALLEL_WORK).clamp(1, crate::joined::current_threads().max(1))
}

/// Whether [`piece_count`] makes one piece of `work` on every pool, whatever its size: less
/// than two pieces of [`MIN_PARALLEL_WORK`].
pub(crate) fn one_piece_anywhere(work: usize) -> bool {
    work < 2 * MIN_PARALLEL_WORK
}

/// Splits rows `0..nrows` into `parts` contiguous blocks of about equal work, where a row
/// costs its length plus one. Returns `parts + 1` non-decreasing row boundaries.
///
/// `row_ptrs` must be validated (non-decreasing, starting at 0).
pub(crate) fn balanced_row_blocks<I: Index>(row_ptrs: &[I], parts: usize) -> Vec<usize> {
    let nrows = row_ptrs.len() - 1;
    let nnz = row_ptrs[nrows].to_usize();
    let total = nnz + nrows;
    let mut bounds = Vec::with_capacity(parts + 1);
    bounds.push(0);
    for p in 1..parts {
        let target = total / parts * p + (total % parts) * p / parts;
        // First row r with row_ptrs[r] + r >= target: work before row r reaches the target.
        let r = partition_point(nrows + 1, |r| row_ptrs[r].to_usize() + r < target);
        bounds.push(r.max(*bounds.last().unwrap_or(&0)));
    }
    bounds.push(nrows);
    bounds
}

/// The first `i` in `0..n` for which `pred(i)` is false (`pred` must be monotone).
pub(crate) fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// One block of rows with mutable access to its entries.
pub(crate) struct RowBlockMut<'a, I, T> {
    /// The rows of this block.
    pub rows: Range<usize>,
    /// `row_ptrs[rows.start..=rows.end]`; entries of row r are at
    /// `ptrs[r - rows.start] - ptrs[0]` onwards within `cols`/`vals`.
    pub ptrs: &'a [I],
    /// The block's column indices.
    pub cols: &'a mut [I],
    /// The block's values.
    pub vals: &'a mut [T],
}

impl<I: Index, T> RowBlockMut<'_, I, T> {
    /// The local entry range of row `r` (an absolute row index inside the block).
    #[inline]
    pub fn local_range(&self, r: usize) -> Range<usize> {
        let base = self.ptrs[0].to_usize();
        let i = r - self.rows.start;
        self.ptrs[i].to_usize() - base..self.ptrs[i + 1].to_usize() - base
    }
}

/// Cuts rows into blocks of about equal work (one per rayon thread), each owning its slice of
/// `cols` and `vals`. `vals` may be shorter than `cols` only if it is empty.
pub(crate) fn row_blocks_mut<'a, I: Index, T>(
    row_ptrs: &'a [I],
    cols: &'a mut [I],
    vals: &'a mut [T],
) -> Vec<RowBlockMut<'a, I, T>> {
    let nrows = row_ptrs.len() - 1;
    let nnz = row_ptrs[nrows].to_usize();
    let bounds = balanced_row_blocks(row_ptrs, piece_count(nnz + nrows));
    let mut blocks = Vec::with_capacity(bounds.len() - 1);
    let (mut cols_rest, mut vals_rest) = (cols, vals);
    for w in bounds.windows(2) {
        let len = row_ptrs[w[1]].to_usize() - row_ptrs[w[0]].to_usize();
        let (c, cr) = cols_rest.split_at_mut(len);
        let (v, vr) = vals_rest.split_at_mut(len);
        cols_rest = cr;
        vals_rest = vr;
        blocks.push(RowBlockMut {
            rows: w[0]..w[1],
            ptrs: &row_ptrs[w[0]..=w[1]],
            cols: c,
            vals: v,
        });
    }
    blocks
}

/// Runs `f` on blocks of rows in parallel (see [`row_blocks_mut`]) and returns the per-block
/// results in row order.
pub(crate) fn for_each_row_block_mut<I, T, R, F>(
    row_ptrs: &[I],
    cols: &mut [I],
    vals: &mut [T],
    f: F,
) -> Vec<R>
where
    I: Index,
    T: Send,
    R: Send,
    F: Fn(RowBlockMut<'_, I, T>) -> R + Sync,
{
    row_blocks_mut(row_ptrs, cols, vals)
        .into_par_iter()
        .map(&f)
        .collect()
}

/// Runs `f` on row ranges of about equal work in parallel and tells whether it returned
/// `true` for any (stopping early once one did).
pub(crate) fn any_row_block<I: Index>(
    row_ptrs: &[I],
    f: impl Fn(Range<usize>) -> bool + Sync,
) -> bool {
    let nrows = row_ptrs.len() - 1;
    let bounds = balanced_row_blocks(row_ptrs, piece_count(row_ptrs[nrows].to_usize() + nrows));
    bounds.par_windows(2).any(|w| f(w[0]..w[1]))
}

/// A slice that several threads write to at positions they have proven disjoint.
pub(crate) struct DisjointWriter<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: the writer only hands out writes to distinct positions (the caller's contract on
// `write`), so sharing it between threads is sound whenever `T` may be sent between threads.
unsafe impl<T: Send> Sync for DisjointWriter<'_, T> {}
// SAFETY: as above; the writer owns a unique borrow of the slice.
unsafe impl<T: Send> Send for DisjointWriter<'_, T> {}

impl<'a, T> DisjointWriter<'a, T> {
    /// Borrows `slice` uniquely for the writer's lifetime.
    pub fn new(slice: &'a mut [T]) -> Self {
        Self {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _borrow: PhantomData,
        }
    }

    /// Writes `value` at `pos`.
    ///
    /// # Safety
    /// No other thread reads or writes `pos` while the writer lives.
    #[inline(always)]
    pub unsafe fn write(&self, pos: usize, value: T) {
        assert!(pos < self.len, "scatter position {pos} out of {}", self.len);
        // SAFETY: `pos < len` was just checked, so the pointer stays inside the borrowed
        // slice; exclusivity of `pos` is the caller's contract.
        unsafe { self.ptr.add(pos).write(value) }
    }

    /// Writes `value` at `pos` without checking the bound, for scatters whose positions come
    /// from a plan that already proved them (checked in debug builds).
    ///
    /// # Safety
    /// `pos` is below the slice's length, and no other thread reads or writes `pos` while
    /// the writer lives.
    #[inline(always)]
    pub unsafe fn write_in_bounds(&self, pos: usize, value: T) {
        debug_assert!(pos < self.len, "scatter position {pos} out of {}", self.len);
        // SAFETY: `pos < len` and its exclusivity are the caller's contract.
        unsafe { self.ptr.add(pos).write(value) }
    }
}

/// Plans a stable parallel counting sort of items split into `chunks` (processed in order),
/// where `count(chunk, counts)` adds one to `counts[bucket]` for each item of `chunk`.
///
/// Fills `bucket_ptrs` (`nbuckets + 1` entries) with the bucket boundaries, the exclusive
/// prefix sum of the counts, and returns for each chunk the output position of its first item
/// in each bucket: items of chunk `c` precede those of chunk `c + 1` in every bucket. Counts
/// and positions are kept as `I` (half the memory traffic of `usize` for `i32`): the caller
/// guarantees that the number of items fits `I`. Counting runs in parallel over the chunks,
/// the prefix sum in parallel over ranges of buckets.
pub(crate) fn plan_scatter<I: Index, F>(
    chunks: &[Range<usize>],
    bucket_ptrs: &mut [I],
    count: F,
) -> Vec<Vec<I>>
where
    F: Fn(Range<usize>, &mut [I]) + Sync,
{
    let nbuckets = bucket_ptrs.len() - 1;
    let mut cursors: Vec<Vec<I>> = chunks
        .par_iter()
        .map(|chunk| {
            let mut counts = zeroed_output(nbuckets);
            count(chunk.clone(), &mut counts);
            counts
        })
        .collect();
    // The prefix sum runs over (bucket, chunk) pairs in that order. Each range of buckets
    // sums its counts first, so that every range knows where it starts.
    let ranges = even_ranges(nbuckets, piece_count(nbuckets * cursors.len()));
    let totals: Vec<usize> = ranges
        .par_iter()
        .map(|r| {
            cursors
                .iter()
                .flat_map(|counts| &counts[r.clone()])
                .map(|n| n.to_usize())
                .sum()
        })
        .collect();
    let mut starts = Vec::with_capacity(ranges.len());
    let mut total = 0;
    for t in totals {
        starts.push(total);
        total += t;
    }
    let mut range_counts: Vec<Vec<&mut [I]>> = ranges.iter().map(|_| Vec::new()).collect();
    for counts in &mut cursors {
        for (parts, (_, part)) in range_counts.iter_mut().zip(cut_by(counts, &ranges)) {
            parts.push(part);
        }
    }
    // Every offset is at most the item count, which fits I (caller).
    bucket_ptrs[nbuckets] = I::truncate(total);
    cut_by(&mut bucket_ptrs[..nbuckets], &ranges)
        .into_par_iter()
        .zip(range_counts)
        .zip(starts)
        .for_each(|(((_, ptrs), mut counts), mut offset)| {
            for (b, p) in ptrs.iter_mut().enumerate() {
                *p = I::truncate(offset);
                for chunk_counts in &mut counts {
                    let n = chunk_counts[b].to_usize();
                    chunk_counts[b] = I::truncate(offset);
                    offset += n;
                }
            }
        });
    cursors
}

/// An empty vector with room for exactly `len` items, or [`Error::SizeOverflow`] if
/// `len` items overflow the address space, or [`Error::OutOfMemory`] (naming `what`) if the
/// allocator refuses them: for arrays sized by a dimension rather than by stored entries.
pub(crate) fn try_with_capacity<X>(len: usize, what: &'static str) -> Result<Vec<X>> {
    let bytes = len
        .checked_mul(std::mem::size_of::<X>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or(Error::SizeOverflow { what })?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory { what, bytes })?;
    Ok(v)
}

/// Makes room in `v` for `additional` more items, or [`Error::OutOfMemory`] (naming `what`)
/// if the allocator refuses them: for buffers sized by a bound rather than by what they
/// will hold.
pub(crate) fn try_room<X>(v: &mut Vec<X>, additional: usize, what: &'static str) -> Result<()> {
    v.try_reserve(additional).map_err(|_| Error::OutOfMemory {
        what,
        bytes: additional.saturating_mul(std::mem::size_of::<X>()),
    })
}

/// A vector of `len` copies of `value`, filled in parallel; errors as [`try_with_capacity`].
pub(crate) fn try_filled<X: Copy + Send + Sync>(
    len: usize,
    value: X,
    what: &'static str,
) -> Result<Vec<X>> {
    let mut v = try_with_capacity(len, what)?;
    v.par_extend(rayon::iter::repeat_n(value, len));
    Ok(v)
}

/// `len` zeros in fresh, untouched memory (pages the caller never writes cost nothing);
/// errors as [`try_with_capacity`].
pub(crate) fn try_zeroed<X: bytemuck::Zeroable>(len: usize, what: &'static str) -> Result<Vec<X>> {
    let bytes = len
        .checked_mul(std::mem::size_of::<X>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or(Error::SizeOverflow { what })?;
    let v = bytemuck::allocation::try_zeroed_vec(len)
        .map_err(|()| Error::OutOfMemory { what, bytes })?;
    advise_huge_pages(&v);
    Ok(v)
}

/// Arrays at least this large are advised to use transparent huge pages before they are first
/// touched: faulting a fresh output in 4 KiB pages costs a large share of a big product.
/// Poisson2d(2000) A·A (624 MB out), 2 threads, loaded VM, CPU time per call (2 runs):
/// calloc'd output 1221/1435 ms, parallel first touch 1031/1158 ms, huge pages + parallel
/// first touch 985/842 ms. (SpGEMM has since moved to [`zeroed_output`], huge pages without
/// the fill, faster again.) The 8 MB floor (4 huge pages) is not measured.
const HUGE_PAGE_MIN_BYTES: usize = 8 << 20;

/// `len` copies of `value` in fresh memory, huge-page advised when large, first touched in
/// parallel (so each thread faults in pages near the part it later fills).
pub(crate) fn alloc_output<X: Copy + Send + Sync + Default>(len: usize, value: X) -> Vec<X> {
    let mut v: Vec<X> = Vec::with_capacity(len);
    advise_huge_pages(&v);
    v.par_extend(rayon::iter::repeat_n(value, len));
    v
}

/// Room for `len` items, huge-page advised when large, nothing written: for outputs that
/// the caller writes in full (in parallel, through `spare_capacity_mut`) before setting
/// their length. Where the allocator hands back memory an earlier call freed (blocks under
/// its mmap threshold, up to 32 MB with glibc), [`zeroed_output`] would clear it first: a
/// `memset` of the whole output, 3% of power-law A·A. Errors as [`try_with_capacity`].
pub(crate) fn try_output_room<X>(len: usize, what: &'static str) -> Result<Vec<X>> {
    let v = try_with_capacity(len, what)?;
    advise_huge_pages(&v);
    Ok(v)
}

/// `len` zeros in fresh, untouched memory, huge-page advised when large: for outputs that
/// the caller overwrites (in parallel) anyway. A large allocation comes as zero pages that
/// the kernel clears when the caller first writes them, so the memory is written once,
/// where [`alloc_output`] writes it twice (its fill, then the caller's). CSR -> SELL-P ->
/// CSR on poisson2d(2000), loaded VM: see `formats/padded.rs`.
pub(crate) fn zeroed_output<X: bytemuck::Zeroable>(len: usize) -> Vec<X> {
    let v = bytemuck::zeroed_vec(len);
    advise_huge_pages(&v);
    v
}

/// Bytes of an array from which [`copy_of`] copies it on all threads into fresh pages. Below,
/// the allocator hands back memory the process freed (warm, no page faults) and one thread's
/// `memcpy` into it wins; from 32 MB (glibc maps every such allocation afresh) the copy is
/// bound by faulting 4 KiB pages in one at a time. One `f64` array copied 41 times each way,
/// alternating, 2 threads, medians (serial / parallel): 16 MB 1.74 / 2.73 ms, 24 MB 3.06 /
/// 4.11, 32 MB 23.0 / 5.27, 64 MB 45.3 / 10.1, 128 MB 86.5 / 15.8
/// (`bench/runs/2026-12-07-parallel-copy`).
const PARALLEL_COPY_MIN_BYTES: usize = 32 << 20;

/// A copy of `src`: from [`PARALLEL_COPY_MIN_BYTES`] on, written by all threads into fresh,
/// huge-page advised pages ([`zeroed_output`]); below, by `to_vec`.
pub(crate) fn copy_of<X: bytemuck::Zeroable + Copy + Send + Sync>(src: &[X]) -> Vec<X> {
    if std::mem::size_of_val(src) < PARALLEL_COPY_MIN_BYTES {
        return src.to_vec();
    }
    let mut out = zeroed_output(src.len());
    let piece = src.len().div_ceil(piece_count(src.len())).max(1);
    out.par_chunks_mut(piece)
        .zip(src.par_chunks(piece))
        .for_each(|(d, s)| d.copy_from_slice(s));
    out
}

/// Advises transparent huge pages for `v`'s allocation when it is large (Linux only).
fn advise_huge_pages<X>(v: &Vec<X>) {
    #[cfg(target_os = "linux")]
    if let Some(bytes) = v.capacity().checked_mul(std::mem::size_of::<X>())
        && bytes >= HUGE_PAGE_MIN_BYTES
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let lo = start.next_multiple_of(HUGE);
        let hi = (start + bytes) / HUGE * HUGE;
        if hi > lo {
            // SAFETY: [lo, hi) lies inside v's allocation (capacity * size_of::<X>() =
            // `bytes`), page-aligned; MADV_HUGEPAGE only changes how the kernel backs these
            // pages, never their contents, and its failure is harmless.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// `slots` cut into consecutive pieces of `ranges[i].len()` entries, each with its range
/// (the per-row slots of each chunk of rows).
pub(crate) fn cut_by<'s, X>(
    slots: &'s mut [X],
    ranges: &[Range<usize>],
) -> Vec<(Range<usize>, &'s mut [X])> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut rest = slots;
    for r in ranges {
        let (head, tail) = rest.split_at_mut(r.len());
        out.push((r.clone(), head));
        rest = tail;
    }
    out
}

/// The output arrays (or their room) cut by chunk: chunk `i` gets the entries of its rows
/// (`row_ptrs` summed), with its row range.
pub(crate) fn cut_output<'o, C, V, I: Index>(
    row_ptrs: &[I],
    chunks: &[Range<usize>],
    (cols, vals): (&'o mut [C], &'o mut [V]),
) -> Vec<(Range<usize>, &'o mut [C], &'o mut [V])> {
    let mut out = Vec::with_capacity(chunks.len());
    let (mut crest, mut vrest) = (cols, vals);
    for r in chunks {
        let len = row_ptrs[r.end].to_usize() - row_ptrs[r.start].to_usize();
        let (ch, ct) = crest.split_at_mut(len);
        let (vh, vt) = vrest.split_at_mut(len);
        out.push((r.clone(), ch, vh));
        crest = ct;
        vrest = vt;
    }
    out
}

/// Cuts `0..n` into `parts` contiguous ranges of near-equal length.
pub(crate) fn even_ranges(n: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    (0..parts)
        .map(|p| n * p / parts..n * (p + 1) / parts)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies below and from the parallel size, on one thread and on several, equal their
    /// source (lengths that do not split evenly included).
    #[test]
    fn copies_equal_their_source_at_every_size() {
        let above = PARALLEL_COPY_MIN_BYTES / size_of::<u64>();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| {
                for len in [0, 1, 1000, above - 1, above, above + 7] {
                    let src: Vec<u64> = (0..len as u64)
                        .map(|i| i.wrapping_mul(0x9E37_79B9))
                        .collect();
                    assert_eq!(copy_of(&src), src, "{len} entries on {threads} threads");
                }
            });
        }
    }

    #[test]
    fn balanced_blocks_cover_all_rows_in_order() {
        let row_ptrs: Vec<i32> = vec![0, 100, 100, 101, 102, 300];
        for parts in 1..8 {
            let b = balanced_row_blocks(&row_ptrs, parts);
            assert_eq!(b.len(), parts + 1);
            assert_eq!(b[0], 0);
            assert_eq!(*b.last().unwrap(), 5);
            assert!(b.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn scatter_plan_is_stable_across_chunks() {
        let keys = [2usize, 0, 2, 1, 0, 2];
        let chunks = even_ranges(keys.len(), 2);
        let mut bucket_ptrs = vec![0usize; 4];
        let cursors = plan_scatter(&chunks, &mut bucket_ptrs, |r, counts| {
            for &k in &keys[r] {
                counts[k] += 1;
            }
        });
        assert_eq!(bucket_ptrs, vec![0, 2, 3, 6]);
        // Chunk 0 holds keys [2, 0, 2], chunk 1 holds [1, 0, 2].
        assert_eq!(cursors[0], vec![0, 2, 3]);
        assert_eq!(cursors[1], vec![1, 2, 5]);
    }

    /// With many buckets the prefix sum runs over several ranges of buckets in parallel; it
    /// gives the plan a serial walk over (bucket, chunk) pairs gives.
    #[test]
    fn parallel_prefix_of_the_plan_equals_the_serial_one() {
        let nbuckets = 150_000;
        // Keys scattered over the buckets by a multiplicative hash, some buckets empty.
        let keys: Vec<usize> = (0..400_000_usize)
            .map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003 % nbuckets)
            .collect();
        let chunks = even_ranges(keys.len(), 3);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("pool");
        let mut bucket_ptrs = vec![0_i32; nbuckets + 1];
        let cursors = pool.install(|| {
            plan_scatter(&chunks, &mut bucket_ptrs, |r, counts| {
                for &k in &keys[r] {
                    counts[k] += 1;
                }
            })
        });
        let mut counts = vec![vec![0; nbuckets]; chunks.len()];
        for (c, chunk) in chunks.iter().enumerate() {
            for &k in &keys[chunk.clone()] {
                counts[c][k] += 1;
            }
        }
        let mut offset = 0;
        for b in 0..nbuckets {
            assert_eq!(bucket_ptrs[b].to_usize(), offset, "bucket {b}");
            for (c, chunk_counts) in counts.iter().enumerate() {
                assert_eq!(cursors[c][b].to_usize(), offset, "bucket {b}, chunk {c}");
                offset += chunk_counts[b];
            }
        }
        assert_eq!(bucket_ptrs[nbuckets].to_usize(), keys.len());
    }
}
