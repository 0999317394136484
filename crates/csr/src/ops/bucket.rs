//! The stable counting sort behind COO→CSR assembly and transposition.
//!
//! Entries `(key[k], other[k], value[k])` are grouped by key, keeping input order within a
//! key. A direct counting sort scatters every entry to a random place in the output: once
//! the output is far larger than the caches, each entry costs a cache miss and a TLB miss
//! (measured ~380 ns per entry on a 5M-entry shuffled input on the development VM). So for
//! many keys the sort runs in two levels, like an MSD radix sort: a first pass partitions the
//! entries into buckets of `2^KEY_BUCKET_BITS` consecutive keys (a few hundred sequential
//! write streams), then each bucket, now small enough to stay in cache, is counting-sorted on
//! its own, buckets in parallel. Inputs whose nearby entries have nearby keys (sorted input,
//! a stencil's transpose) keep the one-level sort, which is then cache-friendly already, and
//! so do outputs of at most [`DIRECT_SCATTER_MAX_BYTES`], whose misses stay cheaper than
//! the second level's extra copy.

use rayon::prelude::*;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::formats::validate::{column_error, first_decrease, first_outside};
use crate::parallel::{
    DisjointWriter, balanced_row_blocks, copy_of, cut_by, even_ranges, piece_count, plan_scatter,
    try_zeroed, zeroed_output,
};
use crate::{CsrRef, Element, Index};

/// Keys per first-level bucket, as a power of two: a bucket's counters (16k × 8 B) stay in
/// L2, and a 4M-key sort makes 256 buckets.
const KEY_BUCKET_BITS: u32 = 14;

/// Whether a direct scatter by `nkeys` keys keeps its counters (and its write streams) in
/// cache whatever the order of the keys: no more keys than a first-level bucket holds.
pub(crate) fn few_keys(nkeys: usize) -> bool {
    nkeys <= 1 << KEY_BUCKET_BITS
}

/// Whether a sort of `nnz` entries by `nkeys` keys (`keys` in input order) runs in one
/// level: few keys, an output of at most `direct_max_bytes`, or local keys.
fn one_level_pays<I: Index, T>(
    nnz: usize,
    nkeys: usize,
    direct_max_bytes: usize,
    keys: &[I],
) -> bool {
    let bytes = nnz.saturating_mul(std::mem::size_of::<I>() + std::mem::size_of::<T>());
    few_keys(nkeys) || bytes <= direct_max_bytes || keys_are_local(keys)
}

/// Sorted output: `ptrs` (nkeys + 1 entries) and the entries' `other` indices and values.
pub(crate) struct Grouped<I, T> {
    pub ptrs: Vec<I>,
    pub other: Vec<I>,
    pub values: Vec<T>,
}

/// Entries to group: `(key, other, value)` triplets produced chunk by chunk, in order.
pub(crate) trait EntrySource<I, T>: Sync {
    /// Cuts the source into `pieces` chunks of about equal work, in order.
    fn chunks(&self, pieces: usize) -> Vec<Range<usize>>;
    /// Calls `f(key, other, value)` for every entry of `chunk`, in order.
    fn for_each(&self, chunk: Range<usize>, f: impl FnMut(I, I, T));
    /// Calls `f(key)` for every entry of `chunk`, in order: the keys [`EntrySource::for_each`]
    /// gives, which the scatter's safety rests on (counting needs only the keys).
    fn for_each_key(&self, chunk: Range<usize>, f: impl FnMut(I));
    /// Number of entries.
    fn len(&self) -> usize;
    /// The keys in input order, where they are stored as one array (for sampling, and to
    /// find a key out of range).
    fn keys(&self) -> &[I];
    /// The error reporting entry `pos`, whose key is not in `0..nkeys`.
    fn key_error(&self, pos: usize, nkeys: usize) -> Error;
}

/// `k` as a position below `nkeys`, or `None` (a negative key too).
#[inline(always)]
pub(crate) fn key_below<I: Index>(k: I, nkeys: usize) -> Option<usize> {
    k.try_to_usize().filter(|&k| k < nkeys)
}

/// Triplet arrays: entry `k` is `(keys[k], other[k], values[k])`, COO rows, columns and
/// values of a matrix with `ncols` columns.
pub(crate) struct Triplets<'a, I, T> {
    pub keys: &'a [I],
    pub other: &'a [I],
    pub values: &'a [T],
    pub ncols: usize,
}

impl<I: Index, T: Element> EntrySource<I, T> for Triplets<'_, I, T> {
    fn chunks(&self, pieces: usize) -> Vec<Range<usize>> {
        even_ranges(self.keys.len(), pieces)
    }
    #[inline]
    fn for_each(&self, chunk: Range<usize>, mut f: impl FnMut(I, I, T)) {
        let (k, o, v) = (
            &self.keys[chunk.clone()],
            &self.other[chunk.clone()],
            &self.values[chunk],
        );
        for ((&k, &o), &v) in k.iter().zip(o).zip(v) {
            f(k, o, v);
        }
    }
    #[inline]
    fn for_each_key(&self, chunk: Range<usize>, f: impl FnMut(I)) {
        self.keys[chunk].iter().copied().for_each(f);
    }
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn keys(&self) -> &[I] {
        self.keys
    }
    fn key_error(&self, pos: usize, nkeys: usize) -> Error {
        Error::EntryOutOfBounds {
            entry: pos,
            row: self.keys[pos].to_i128(),
            col: self.other[pos].to_i128(),
            nrows: nkeys,
            ncols: self.ncols,
        }
    }
}

/// A CSR matrix read as `(col, row, value)`: grouping it by key transposes it. Its row
/// pointers are valid for its columns and values (`nrows + 1` of them, from 0, never
/// decreasing, up to `cols.len() == vals.len()`); its columns may be unchecked: grouping by
/// key checks them against the column count.
pub(crate) struct Transposed<'a, T, I> {
    ptrs: &'a [I],
    cols: &'a [I],
    vals: &'a [T],
}

impl<'a, T: Element, I: Index> Transposed<'a, T, I> {
    /// A valid matrix, transposed.
    pub(crate) fn of(a: CsrRef<'a, T, I>) -> Self {
        Self {
            ptrs: a.row_ptrs(),
            cols: a.col_idxs(),
            vals: a.values(),
        }
    }

    /// Arrays whose row pointers were checked for the columns and values
    /// (`validate::check_all_but_columns`), the columns not.
    pub(crate) fn of_checked_row_ptrs(ptrs: &'a [I], cols: &'a [I], vals: &'a [T]) -> Self {
        Self { ptrs, cols, vals }
    }

    /// The row pointers, columns and values.
    pub(crate) fn parts(&self) -> (&'a [I], &'a [I], &'a [T]) {
        (self.ptrs, self.cols, self.vals)
    }
}

impl<I: Index, T: Element> EntrySource<I, T> for Transposed<'_, T, I> {
    fn chunks(&self, pieces: usize) -> Vec<Range<usize>> {
        balanced_row_blocks(self.ptrs, pieces)
            .windows(2)
            .map(|w| w[0]..w[1])
            .collect()
    }
    #[inline]
    fn for_each(&self, rows: Range<usize>, mut f: impl FnMut(I, I, T)) {
        // The block's entries as two slices, cut row by row at the pointers (valid: non-
        // decreasing within them), not through a checked `row` call per row.
        let ptrs = &self.ptrs[rows.start..=rows.end];
        let first = ptrs[0].to_usize();
        let cols = &self.cols[first..ptrs[ptrs.len() - 1].to_usize()];
        let vals = &self.vals[first..first + cols.len()];
        let mut at = 0;
        for (r, end) in rows.zip(&ptrs[1..]) {
            let end = end.to_usize() - first;
            let row = I::truncate(r);
            for (&c, &v) in cols[at..end].iter().zip(&vals[at..end]) {
                f(c, row, v);
            }
            at = end;
        }
    }
    #[inline]
    fn for_each_key(&self, rows: Range<usize>, f: impl FnMut(I)) {
        self.cols[self.ptrs[rows.start].to_usize()..self.ptrs[rows.end].to_usize()]
            .iter()
            .copied()
            .for_each(f);
    }
    fn len(&self) -> usize {
        self.cols.len()
    }
    fn keys(&self) -> &[I] {
        self.cols
    }
    fn key_error(&self, pos: usize, nkeys: usize) -> Error {
        column_error(nkeys, self.ptrs, self.cols, pos)
    }
}

/// Groups the entries of `source` by key, stably.
///
/// Extra memory (beyond the output) stays O(nnz) whatever `nkeys` and the thread count:
/// per-piece counters are capped by [`capped_pieces`], and a sort in one piece counts
/// straight into the output's pointers.
///
/// The keys are checked against `nkeys` as they are counted, before anything moves (the
/// count reads them anyway: no pass of its own). The caller guarantees that `nkeys`, every
/// `other` index and the entry count fit `I`.
///
/// # Errors
/// The source's [`EntrySource::key_error`] for the first key not in `0..nkeys`;
/// [`crate::Error::OutOfMemory`] (or [`crate::Error::SizeOverflow`]) if the `nkeys + 1`
/// pointers cannot be allocated.
pub(crate) fn group_by_key<I: Index, T: Element>(
    nkeys: usize,
    source: &impl EntrySource<I, T>,
) -> Result<Grouped<I, T>> {
    group_by_key_with(nkeys, source, DIRECT_SCATTER_MAX_BYTES)
}

/// Output bytes (`nnz · (size_of I + size_of T)`) up to which a one-level scatter beats two
/// levels on several threads even when the keys are many and scattered: the two-level
/// sort's first pass writes every entry (and its key) to fresh memory, a cost that pays off
/// only for large outputs. Measured on transposes (COO assembly, keyed by rows in input
/// order, follows the same rule unmeasured): 2 threads, two runs, minima in ms, two levels
/// → one level (`bench/runs/2026-12-06-direct-scatter`): powerlaw 200k × 200k (6 MB out)
/// 6.3–8.3 → 5.0–6.4; 40k × 193k, 30 per row (14 MB) 15.8–19.8 → 12.8–16.0; powerlaw 800k
/// (24 MB) 34.5–40.5 → 26.2–36.5. Above, the two runs disagree (400k × 1M, 12 per row,
/// 58 MB: 81–101 → 61–121; 2M × 4M, 5 per row, 120 MB: 177–221 → 167–309), so two levels
/// stay there.
const DIRECT_SCATTER_MAX_BYTES: usize = 32 << 20;

/// [`group_by_key`] with the largest output (in bytes) that a scatter by many scattered
/// keys writes in one level as a parameter (tests force each path with it).
fn group_by_key_with<I: Index, T: Element>(
    nkeys: usize,
    source: &impl EntrySource<I, T>,
    direct_max_bytes: usize,
) -> Result<Grouped<I, T>> {
    let nnz = source.len();
    let mut ptrs = try_zeroed(nkeys.saturating_add(1), "row pointer array")?;
    let pieces = capped_pieces(nnz, nkeys);
    if pieces == 1 {
        let (other, values) = sort_in_one_piece(source, &mut ptrs)?;
        return Ok(Grouped {
            ptrs,
            other,
            values,
        });
    }
    // One level when every key's counter fits in cache, when the output is small enough,
    // or when nearby entries have nearby keys (then the scatter is cache-friendly already),
    // unless that would cap the pieces.
    if pieces == piece_count(nnz)
        && one_level_pays::<I, T>(nnz, nkeys, direct_max_bytes, source.keys())
    {
        let (_, other, values) = partition::<false, _, _>(&mut ptrs, (0, nkeys), source)?;
        return Ok(Grouped {
            ptrs,
            other,
            values,
        });
    }
    let nbuckets = ((nkeys - 1) >> KEY_BUCKET_BITS) + 1;
    let mut bucket_ptrs: Vec<I> = vec![I::ZERO; nbuckets + 1];
    let (tmp_keys, tmp_other, tmp_values) =
        partition::<true, _, _>(&mut bucket_ptrs, (KEY_BUCKET_BITS, nkeys), source)?;
    let mut out_other = zeroed_output(nnz);
    let mut out_values = zeroed_output(nnz);
    // Cut every array at bucket boundaries: bucket b owns keys [b << bits, (b + 1) << bits)
    // and output positions bucket_ptrs[b]..bucket_ptrs[b + 1].
    let mut tasks = Vec::with_capacity(nbuckets);
    let (mut ptrs_rest, mut other_rest, mut values_rest) =
        (&mut ptrs[1..], &mut out_other[..], &mut out_values[..]);
    for b in 0..nbuckets {
        let key_count = (nkeys - (b << KEY_BUCKET_BITS)).min(1 << KEY_BUCKET_BITS);
        let range = bucket_ptrs[b].to_usize()..bucket_ptrs[b + 1].to_usize();
        let (p, pr) = ptrs_rest.split_at_mut(key_count);
        let (o, or) = other_rest.split_at_mut(range.len());
        let (v, vr) = values_rest.split_at_mut(range.len());
        (ptrs_rest, other_rest, values_rest) = (pr, or, vr);
        tasks.push((b << KEY_BUCKET_BITS, range, p, o, v));
    }
    tasks
        .into_par_iter()
        .for_each(|(first_key, range, ptrs, out_other, out_values)| {
            let base = range.start;
            let keys = &tmp_keys[range.clone()];
            let mut cursor = vec![0usize; ptrs.len()];
            for &k in keys {
                cursor[k.to_usize() - first_key] += 1;
            }
            let mut offset = 0;
            for (c, p) in cursor.iter_mut().zip(ptrs.iter_mut()) {
                let n = *c;
                *c = offset;
                offset += n;
                // base + offset <= nnz, which fits I.
                *p = I::truncate(base + offset);
            }
            for ((&k, &o), &v) in keys
                .iter()
                .zip(&tmp_other[range.clone()])
                .zip(&tmp_values[range])
            {
                let slot = &mut cursor[k.to_usize() - first_key];
                out_other[*slot] = o;
                out_values[*slot] = v;
                *slot += 1;
            }
        });
    Ok(Grouped {
        ptrs,
        other: out_other,
        values: out_values,
    })
}

/// Groups triplets whose keys are already in order (non-decreasing: COO arrays written row
/// by row, as most are): the output holds `other` and `values` as they are, so the sort is
/// two copies, and the pointers come from one walk over the keys, in parallel over ranges
/// of keys. `None` (nothing done) when the keys are not in order. Same preconditions as
/// [`group_by_key`].
///
/// # Errors
/// As [`group_by_key`].
pub(crate) fn group_sorted_keys<I: Index, T: Element>(
    nkeys: usize,
    entries: &Triplets<'_, I, T>,
) -> Result<Option<Grouped<I, T>>> {
    let keys = entries.keys;
    if first_decrease(keys).is_some() {
        return Ok(None);
    }
    let mut ptrs: Vec<I> = try_zeroed(nkeys.saturating_add(1), "row pointer array")?;
    let ranges = even_ranges(ptrs.len(), piece_count(keys.len() + ptrs.len()));
    cut_by(&mut ptrs, &ranges)
        .into_par_iter()
        .for_each(|(range, out)| {
            // ptrs[k] = the number of entries with a key below k.
            let mut at = keys.partition_point(|x| x.to_usize() < range.start);
            for (k, p) in range.zip(out) {
                while at < keys.len() && keys[at].to_usize() < k {
                    at += 1;
                }
                // at <= nnz, which fits I (caller).
                *p = I::truncate(at);
            }
        });
    Ok(Some(Grouped {
        ptrs,
        other: copy_of(entries.other),
        values: copy_of(entries.values),
    }))
}

/// How many pieces a counting sort of `nnz` entries into `nbuckets` buckets runs in: one
/// per thread ([`piece_count`]), but no more than keep `nnz` counters in all (each piece
/// keeps `nbuckets`), so that a sort by many keys on many threads does not need
/// threads × keys memory.
pub(crate) fn capped_pieces(nnz: usize, nbuckets: usize) -> usize {
    piece_count(nnz).min((nnz / nbuckets.max(1)).max(1))
}

/// A stable counting sort in one piece that counts straight into `ptrs` (zeros, `nkeys + 1`
/// entries): no memory beyond the output.
///
/// # Errors
/// As [`group_by_key`] for a key out of range.
fn sort_in_one_piece<I: Index, T: Element>(
    source: &impl EntrySource<I, T>,
    ptrs: &mut [I],
) -> Result<(Vec<I>, Vec<T>)> {
    let nnz = source.len();
    let nkeys = ptrs.len() - 1;
    let whole = source.chunks(1).pop().unwrap_or_default();
    // ptrs[k + 1] counts key k, then becomes key k's start, then (after the scatter) its
    // end, which is key k + 1's start; every value is at most nnz, which fits I.
    let mut outside = false;
    source.for_each_key(whole.clone(), |k| match key_below(k, nkeys) {
        Some(k) => {
            let p = &mut ptrs[k + 1];
            *p = I::truncate(p.to_usize() + 1);
        }
        None => outside = true,
    });
    if outside {
        return Err(first_key_error(source, nkeys));
    }
    let mut start = 0;
    for p in &mut ptrs[1..] {
        let count = p.to_usize();
        *p = I::truncate(start);
        start += count;
    }
    let mut other = zeroed_output(nnz);
    let mut values = zeroed_output(nnz);
    source.for_each(whole, |k, o, v| {
        let p = &mut ptrs[k.to_usize() + 1];
        let at = p.to_usize();
        other[at] = o;
        values[at] = v;
        *p = I::truncate(at + 1);
    });
    Ok((other, values))
}

/// The source's error for its first key not in `0..nkeys` (one exists).
#[cold]
fn first_key_error<I: Index, T: Element>(source: &impl EntrySource<I, T>, nkeys: usize) -> Error {
    let pos = first_outside(source.keys(), nkeys).unwrap_or_default();
    source.key_error(pos, nkeys)
}

/// Consecutive entries sampled per window by [`keys_are_local`].
const LOCALITY_WINDOW: usize = 64;
/// Windows sampled by [`keys_are_local`].
const LOCALITY_SAMPLES: usize = 256;
/// Largest median key spread within a window for which a direct scatter stays cache-friendly
/// (a stencil's transpose: spread ≈ 2 × grid width).
const LOCAL_SPREAD: usize = 1 << 15;

/// Whether entries close in the input have close keys (sorted input, a stencil's columns), so
/// that a one-level scatter writes few cache lines at a time. Looks at 256 windows of 64
/// consecutive entries spread over the input. The keys are not checked yet: a negative one
/// reads as `usize::MAX` (the count then rejects it).
fn keys_are_local<I: Index>(keys: &[I]) -> bool {
    let windows = keys.len() / LOCALITY_WINDOW;
    if windows == 0 {
        return true;
    }
    let mut spreads: Vec<usize> = (0..LOCALITY_SAMPLES.min(windows))
        .map(|s| {
            let start = s * windows / LOCALITY_SAMPLES.min(windows) * LOCALITY_WINDOW;
            let w = &keys[start..start + LOCALITY_WINDOW];
            let (lo, hi) = w.iter().fold((usize::MAX, 0), |(lo, hi), k| {
                let k = k.try_to_usize().unwrap_or(usize::MAX);
                (lo.min(k), hi.max(k))
            });
            hi - lo
        })
        .collect();
    let mid = spreads.len() / 2;
    *spreads.select_nth_unstable(mid).1 <= LOCAL_SPREAD
}

/// One stable parallel counting-sort pass by bucket `key >> shift` (`bucket_ptrs.len() - 1`
/// buckets, which cover keys `0..nkeys`), which fills `bucket_ptrs` with the bucket
/// boundaries. Returns the moved entries; the keys are moved too only if `KEEP_KEYS`
/// (otherwise the returned key vector is empty).
///
/// # Errors
/// As [`group_by_key`] for a key out of range (found by the count, before anything moves).
fn partition<const KEEP_KEYS: bool, I: Index, T: Element>(
    bucket_ptrs: &mut [I],
    (shift, nkeys): (u32, usize),
    source: &impl EntrySource<I, T>,
) -> Result<(Vec<I>, Vec<I>, Vec<T>)> {
    let nnz = source.len();
    let pieces = capped_pieces(nnz, bucket_ptrs.len() - 1);
    let chunks = source.chunks(pieces);
    let outside = AtomicBool::new(false);
    let cursors = plan_scatter(&chunks, bucket_ptrs, |chunk, counts| {
        let mut here = false;
        source.for_each_key(chunk, |k| match key_below(k, nkeys) {
            Some(k) => {
                let n = &mut counts[k >> shift];
                // A count is at most nnz, which fits I (caller of group_by_key).
                *n = I::truncate(n.to_usize() + 1);
            }
            None => here = true,
        });
        if here {
            outside.store(true, Ordering::Relaxed);
        }
    });
    if outside.into_inner() {
        return Err(first_key_error(source, nkeys));
    }
    let mut out_keys = zeroed_output(if KEEP_KEYS { nnz } else { 0 });
    let mut out_other = zeroed_output(nnz);
    let mut out_values = zeroed_output(nnz);
    {
        let keys_w = DisjointWriter::new(&mut out_keys);
        let other_w = DisjointWriter::new(&mut out_other);
        let values_w = DisjointWriter::new(&mut out_values);
        chunks
            .into_par_iter()
            .zip(cursors)
            .for_each(|(chunk, mut cursor)| {
                source.for_each(chunk, |k, o, v| {
                    let slot = &mut cursor[k.to_usize() >> shift];
                    let at = slot.to_usize();
                    // SAFETY: the scatter plan gives each chunk a private, disjoint run of
                    // output positions per bucket, sized by its own count of the same
                    // (immutable) source's keys, and the runs tile 0..nnz: `at` is in
                    // bounds and written by this thread only, exactly once.
                    unsafe {
                        if KEEP_KEYS {
                            keys_w.write_in_bounds(at, k);
                        }
                        other_w.write_in_bounds(at, o);
                        values_w.write_in_bounds(at, v);
                    }
                    *slot = I::truncate(at + 1);
                });
            });
    }
    Ok((out_keys, out_other, out_values))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4M-key sort on 128 threads keeps at most nnz counters (issue 13), and keeps one
    /// piece per thread when there are enough entries per key.
    #[test]
    fn counters_stay_within_nnz_on_many_threads() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(128)
            .build()
            .expect("pool");
        pool.install(|| {
            let nkeys = 4 << 20;
            for nnz in [1, 1 << 16, 1 << 20, 20 << 20, 400 << 20, 1 << 30] {
                let pieces = capped_pieces(nnz, nkeys);
                assert!(pieces >= 1);
                assert!(
                    pieces == 1 || pieces * nkeys <= nnz,
                    "{nnz}: {pieces} pieces"
                );
            }
            assert_eq!(capped_pieces(20 << 20, nkeys), 5);
            assert_eq!(capped_pieces(1 << 30, nkeys), 128);
        });
    }

    /// Each path of the sort (one piece, one level, two levels; which one a case takes is
    /// asserted) groups valid keys as a stable sort does, and reports the first key out of
    /// range, negative or too large, before anything moves.
    #[test]
    fn every_path_checks_the_keys() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("pool");
        pool.install(|| {
            // (entries, keys, step: entry i has key i * step % keys, path)
            let cases = [
                (1_000, 100, 1, "one piece"),
                (400_000, 1_000, 7, "one level"),
                (400_000, 40_000, 7_919, "two levels"),
            ];
            for (nnz, nkeys, step, path) in cases {
                let keys: Vec<i64> = (0..nnz).map(|i| (i * step % nkeys) as i64).collect();
                let other: Vec<i64> = (0..nnz as i64).collect();
                let values = vec![0.5_f64; nnz];
                let pieces = capped_pieces(nnz, nkeys);
                let one_level =
                    pieces == piece_count(nnz) && one_level_pays::<i64, f64>(nnz, nkeys, 0, &keys);
                let taken = match (pieces, one_level) {
                    (1, _) => "one piece",
                    (_, true) => "one level",
                    _ => "two levels",
                };
                assert_eq!(taken, path);
                let source = Triplets {
                    keys: &keys,
                    other: &other,
                    values: &values,
                    ncols: nnz,
                };
                let grouped = group_by_key_with(nkeys, &source, 0).expect("valid keys");
                // Stable: within a key, `other` (the input position) increases.
                let mut want: Vec<(i64, i64)> = keys.iter().copied().zip(0..).collect();
                want.sort_by_key(|&(k, _)| k);
                let got: Vec<i64> = grouped.other;
                assert!(want.iter().map(|w| w.1).eq(got), "{path}");
                for (pos, bad) in [(0, -1), (nnz / 2, nkeys as i64), (nnz - 7, i64::MAX)] {
                    let mut keys = keys.clone();
                    keys[pos] = bad;
                    keys[nnz - 1] = -3;
                    let source = Triplets {
                        keys: &keys,
                        ..source
                    };
                    let err = group_by_key_with(nkeys, &source, 0).err();
                    assert_eq!(
                        err,
                        Some(crate::Error::EntryOutOfBounds {
                            entry: pos,
                            row: bad.into(),
                            col: pos as i128,
                            nrows: nkeys,
                            ncols: nnz,
                        }),
                        "{path}, key {bad} at {pos}"
                    );
                }
            }
        });
    }

    /// Scattered keys: one level (the output is small) and two levels (forced) give the
    /// one-piece sort's result on 1 to 4 threads, and the default takes one level here.
    #[test]
    fn one_and_two_levels_agree_on_every_pool() {
        let (nnz, nkeys) = (300_000, 50_000);
        let keys: Vec<i32> = (0..nnz).map(|i| (i * 7_919 % nkeys) as i32).collect();
        let other: Vec<i32> = (0..nnz as i32).map(|i| i % 1_000).collect();
        let values: Vec<f64> = (0..nnz).map(|i| i as f64 * 0.25).collect();
        let source = Triplets {
            keys: &keys,
            other: &other,
            values: &values,
            ncols: 1_000,
        };
        let mut ptrs = vec![0_i32; nkeys + 1];
        let (want_other, want_values) = sort_in_one_piece(&source, &mut ptrs).unwrap();
        assert!(one_level_pays::<i32, f64>(
            nnz,
            nkeys,
            DIRECT_SCATTER_MAX_BYTES,
            &keys
        ));
        assert!(!one_level_pays::<i32, f64>(nnz, nkeys, 0, &keys));
        for threads in 1..=4 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for limit in [DIRECT_SCATTER_MAX_BYTES, 0] {
                let got = pool
                    .install(|| group_by_key_with(nkeys, &source, limit))
                    .unwrap();
                assert_eq!(got.ptrs, ptrs, "{threads} threads, limit {limit}");
                assert_eq!(got.other, want_other, "{threads} threads, limit {limit}");
                assert_eq!(got.values, want_values, "{threads} threads, limit {limit}");
            }
        }
    }

    /// The one-piece sort (counting straight into the pointers) is the stable sort.
    #[test]
    fn one_piece_sort_is_stable() {
        let keys = [3_i32, 0, 3, 1, 0, 3];
        let other = [10_i32, 11, 12, 13, 14, 15];
        let values = [0.5_f64, 1.5, 2.5, 3.5, 4.5, 5.5];
        let source = Triplets {
            keys: &keys,
            other: &other,
            values: &values,
            ncols: 16,
        };
        let mut ptrs = vec![0_i32; 6];
        let (o, v) = sort_in_one_piece(&source, &mut ptrs).expect("keys below 5");
        assert_eq!(ptrs, vec![0, 2, 3, 3, 6, 6]);
        assert_eq!(o, vec![11, 14, 13, 10, 12, 15]);
        assert_eq!(v, vec![1.5, 4.5, 3.5, 0.5, 2.5, 5.5]);
    }
}
