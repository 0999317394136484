//! Transposition of matrices with long sorted rows, one block of columns at a time.
//!
//! A counting sort by column scatters every entry to its column's run in the output. When
//! the rows are long and span all the columns (a rating matrix, items × users: every row
//! meets every part of the output), the scatter keeps a write stream open per column, far
//! more than the caches hold, and each entry costs a cache miss; sorting in two levels
//! instead pays a second copy of every entry in fresh memory. Here the output is built one
//! block of columns at a time, the block's output small enough to stay in L2: a cursor per
//! row remembers where the row's next block starts (the rows are sorted), so each block
//! reads only its own entries, and every entry is read and written once. Blocks run in
//! parallel in contiguous groups, one per thread, each group writing its own part of the
//! output.
//!
//! Rating matrix 5000 × 50000 (1M entries): see `bench/runs/2026-12-06-column-blocks`.

use rayon::prelude::*;

use std::ops::Range;

use crate::error::Result;
use crate::formats::validate::{column_error, first_outside};
use crate::ops::bucket::{Grouped, capped_pieces, few_keys, key_below};
use crate::parallel::{
    balanced_row_blocks, cut_by, even_ranges, piece_count, try_zeroed, zeroed_output,
};
use crate::{Element, Index};

/// Bytes of output one block of columns writes: well within a core's L2, with room for the
/// lines each row's cursor reads from.
const BLOCK_BYTES: usize = 512 << 10;
/// Most columns in a block (its cursors into the output).
const BLOCK_KEYS: usize = 1 << 14;
/// A blocked transpose visits every row once per block: it is used only where there are at
/// least this many entries per visit. Sweep against the counting sort (minima in ms,
/// `bench/runs/2026-12-06-column-blocks/visits.txt`): 0.47 visits per entry (TF-IDF-like
/// 20k × 193k, 30 per row) 10.8–11.7 → 6.7–7.6 on 2 threads, 11.3–11.6 → 11.5–12.7 on one;
/// 0.93 visits per entry (40k × 193k, 30 per row) 21.3–23.6 → 18.4–21.0 on 2 threads but
/// 24.3–25.3 → 35.9–36.1 on one: once the rows' current cache lines outgrow L2, each visit
/// costs a miss.
const ROW_VISITS_PER_ENTRY: usize = 2;

/// Entries of one block of columns.
fn block_entries<I, T>() -> usize {
    BLOCK_BYTES / (std::mem::size_of::<I>() + std::mem::size_of::<T>())
}

/// Whether the `nrows × ncols` matrix with these columns should be transposed by blocks of
/// columns: a direct scatter would miss the caches (many columns, entries far apart in
/// the output) and the rows are long enough that visiting each once per block is cheap.
fn worth_blocking<I: Index, T>(nrows: usize, ncols: usize, cols: &[I]) -> bool {
    let nnz = cols.len();
    // Blocks are cut by entries and by columns (an empty matrix with many columns still
    // makes blocks): at least this many.
    let blocks = nnz
        .div_ceil(block_entries::<I, T>())
        .max(ncols.div_ceil(BLOCK_KEYS));
    nnz > 0 && !few_keys(ncols) && nrows.saturating_mul(blocks) <= nnz / ROW_VISITS_PER_ENTRY
}

/// The transpose of the `nrows × ncols` matrix `(ptrs, cols, vals)` as grouped entries, by
/// blocks of columns, or `None` where that does not pay or a row is not sorted (the caller
/// then runs the counting sort). `ptrs` must be valid for `cols` and `vals`; the columns
/// are checked against `ncols` here.
///
/// # Errors
/// [`crate::Error::ColumnOutOfBounds`] for the first column not below `ncols` (as
/// `try_from_parts` reports it), [`crate::Error::OutOfMemory`] for the pointers.
pub(crate) fn transpose_by_column_blocks<T: Element, I: Index>(
    nrows: usize,
    ncols: usize,
    (ptrs, cols, vals): (&[I], &[I], &[T]),
) -> Result<Option<Grouped<I, T>>> {
    if !worth_blocking::<I, T>(nrows, ncols, cols) {
        return Ok(None);
    }
    let Some(out_ptrs) = count_sorted_columns(ncols, ptrs, cols)? else {
        return Ok(None);
    };
    let nnz = cols.len();
    let mut other: Vec<I> = zeroed_output(nnz);
    let mut values: Vec<T> = zeroed_output(nnz);
    let blocks = column_blocks(&out_ptrs, block_entries::<I, T>());
    let groups = group_blocks(&blocks, &out_ptrs, piece_count(nnz));
    let spans: Vec<Range<usize>> = groups
        .iter()
        .map(|g| {
            out_ptrs[blocks[g.start].start].to_usize()..out_ptrs[blocks[g.end - 1].end].to_usize()
        })
        .collect();
    cut_by(&mut other, &spans)
        .into_par_iter()
        .zip(cut_by(&mut values, &spans))
        .zip(&groups)
        .for_each(|(((span, other), (_, values)), group)| {
            let source = (ptrs, cols, vals);
            fill_group(
                source,
                &out_ptrs,
                &blocks[group.clone()],
                span.start,
                (other, values),
            );
        });
    Ok(Some(Grouped {
        ptrs: out_ptrs,
        other,
        values,
    }))
}

/// The transpose's row pointers (`ncols + 1`: column counts, summed), or `None` if a row
/// is not sorted by column (equal columns are fine). Counts in parallel over blocks of
/// rows, each into counters of its own (capped, as the counting sort's are).
fn count_sorted_columns<I: Index>(ncols: usize, ptrs: &[I], cols: &[I]) -> Result<Option<Vec<I>>> {
    let nnz = cols.len();
    let mut out_ptrs: Vec<I> = try_zeroed(ncols.saturating_add(1), "row pointer array")?;
    let row_blocks = balanced_row_blocks(ptrs, capped_pieces(nnz, ncols));
    // Per block of rows: whether its rows are sorted and its columns in range.
    let count = |rows: Range<usize>, counts: &mut [I]| -> (bool, bool) {
        let (mut unsorted, mut outside) = (false, false);
        for r in rows {
            let mut prev = 0;
            for &c in &cols[ptrs[r].to_usize()..ptrs[r + 1].to_usize()] {
                match key_below(c, ncols) {
                    Some(c) => {
                        unsorted |= c < prev;
                        prev = c;
                        // A count is at most nnz, which fits I.
                        counts[c] = I::truncate(counts[c].to_usize() + 1);
                    }
                    None => outside = true,
                }
            }
        }
        (unsorted, outside)
    };
    let (unsorted, outside) = if row_blocks.len() == 2 {
        count(0..ptrs.len() - 1, &mut out_ptrs[1..])
    } else {
        let parts: Vec<(Vec<I>, (bool, bool))> = row_blocks
            .par_windows(2)
            .map(|w| {
                let mut counts: Vec<I> = zeroed_output(ncols);
                let flags = count(w[0]..w[1], &mut counts);
                (counts, flags)
            })
            .collect();
        let ranges = even_ranges(ncols, piece_count(ncols * parts.len()));
        cut_by(&mut out_ptrs[1..], &ranges)
            .into_par_iter()
            .for_each(|(range, out)| {
                for (part, _) in &parts {
                    for (o, n) in out.iter_mut().zip(&part[range.clone()]) {
                        *o = I::truncate(o.to_usize() + n.to_usize());
                    }
                }
            });
        parts
            .iter()
            .fold((false, false), |(u, o), (_, (pu, po))| (u | pu, o | po))
    };
    if outside {
        let pos = first_outside(cols, ncols).unwrap_or_default();
        return Err(column_error(ncols, ptrs, cols, pos));
    }
    if unsorted {
        return Ok(None);
    }
    let mut start = 0;
    for p in &mut out_ptrs[1..] {
        start += p.to_usize();
        // At most nnz, which fits I.
        *p = I::truncate(start);
    }
    Ok(Some(out_ptrs))
}

/// Consecutive ranges of columns tiling `0..ncols`, each with at most `max_entries` entries
/// (or a single column) and at most [`BLOCK_KEYS`] columns.
fn column_blocks<I: Index>(out_ptrs: &[I], max_entries: usize) -> Vec<Range<usize>> {
    let ncols = out_ptrs.len() - 1;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < ncols {
        let first = out_ptrs[start].to_usize();
        let limit = (start + BLOCK_KEYS).min(ncols);
        // The first column past `start` whose end would overflow the block.
        let end = start
            + 1
            + out_ptrs[start + 2..=limit].partition_point(|p| p.to_usize() - first <= max_entries);
        blocks.push(start..end);
        start = end;
    }
    blocks
}

/// `blocks` cut into at most `groups` contiguous runs of about equal entries (runs of
/// indices into `blocks`, none empty).
fn group_blocks<I: Index>(
    blocks: &[Range<usize>],
    out_ptrs: &[I],
    groups: usize,
) -> Vec<Range<usize>> {
    let nnz = out_ptrs[out_ptrs.len() - 1].to_usize();
    let mut runs: Vec<Range<usize>> = Vec::with_capacity(groups);
    let mut start = 0;
    for g in 1..=groups {
        let target = nnz * g / groups;
        let mut end = start;
        while end < blocks.len() && (g == groups || out_ptrs[blocks[end].start].to_usize() < target)
        {
            end += 1;
        }
        if end > start {
            runs.push(start..end);
            start = end;
        }
    }
    runs
}

/// Writes the entries of a contiguous run of column blocks into `other` and `values`, the
/// output from position `base`: each block, each row in order (which keeps every column's
/// entries in row order), from the row's cursor to its first column past the block.
fn fill_group<T: Element, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    out_ptrs: &[I],
    blocks: &[Range<usize>],
    base: usize,
    (other, values): (&mut [I], &mut [T]),
) {
    let nrows = ptrs.len() - 1;
    let first_col = blocks[0].start;
    // Each row's first entry at or past the group's first column.
    let mut cursors: Vec<usize> = (0..nrows)
        .map(|r| {
            let (s, e) = (ptrs[r].to_usize(), ptrs[r + 1].to_usize());
            s + cols[s..e].partition_point(|c| c.to_usize() < first_col)
        })
        .collect();
    let widest = blocks.iter().map(|b| b.len()).max().unwrap_or(0);
    let mut next = vec![0usize; widest];
    for block in blocks {
        for (n, p) in next.iter_mut().zip(&out_ptrs[block.clone()]) {
            *n = p.to_usize() - base;
        }
        for (r, cursor) in cursors.iter_mut().enumerate() {
            let end = ptrs[r + 1].to_usize();
            let mut at = *cursor;
            while at < end {
                let c = cols[at].to_usize();
                if c >= block.end {
                    break;
                }
                let slot = &mut next[c - block.start];
                other[*slot] = I::truncate(r);
                values[*slot] = vals[at];
                *slot += 1;
                at += 1;
            }
            *cursor = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long sorted rows over many columns take the blocked path (the result is the stable
    /// counting sort's); an unsorted row, short rows or few columns do not.
    #[test]
    fn blocks_only_long_sorted_rows_over_many_columns() {
        let (nrows, ncols, per_row) = (300, 40_000, 600);
        let ptrs: Vec<i32> = (0..=nrows).map(|r| (r * per_row) as i32).collect();
        let mut cols: Vec<i32> = (0..nrows * per_row)
            .map(|k| ((k / per_row * 7919 + k % per_row * 104_729) % ncols) as i32)
            .collect();
        for row in cols.chunks_mut(per_row) {
            row.sort_unstable();
        }
        let vals: Vec<f64> = (0..cols.len()).map(|k| k as f64).collect();
        let parts = (&ptrs[..], &cols[..], &vals[..]);
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let grouped = pool
                .install(|| transpose_by_column_blocks(nrows, ncols, parts))
                .unwrap()
                .expect("blocked");
            let source = crate::ops::bucket::Transposed::of_checked_row_ptrs(&ptrs, &cols, &vals);
            let want = crate::ops::bucket::group_by_key(ncols, &source).unwrap();
            assert_eq!(grouped.ptrs, want.ptrs);
            assert_eq!(grouped.other, want.other);
            assert_eq!(grouped.values, want.values);
        }
        let mut unsorted = cols.clone();
        unsorted.swap(per_row * 7, per_row * 7 + 1);
        let given_up = transpose_by_column_blocks(nrows, ncols, (&ptrs, &unsorted, &vals));
        assert!(given_up.unwrap().is_none());
        // 5 entries per row: visiting every row per block costs more than it saves.
        assert!(!worth_blocking::<i32, f64>(36_000, ncols, &cols[..180_000]));
        assert!(!worth_blocking::<i32, f64>(nrows, 1 << 14, &cols));
        assert!(worth_blocking::<i32, f64>(nrows, ncols, &cols));
        // Empty, or many columns and few entries: nothing to gain from visiting the rows.
        assert!(!worth_blocking::<i32, f64>(1000, 1 << 30, &cols[..0]));
        assert!(!worth_blocking::<i32, f64>(1000, 1 << 30, &cols[..4000]));
    }

    /// Blocks tile the columns, hold at most the entries asked for (or one column), never
    /// more than `BLOCK_KEYS` columns; groups tile the blocks, none empty.
    #[test]
    fn blocks_and_groups_tile() {
        // Column c holds c % 7 entries, column 5 holds 100, then 40k empty columns.
        let mut counts: Vec<usize> = (0..1000).map(|c| c % 7).collect();
        counts[5] = 100;
        counts.extend(std::iter::repeat_n(0, 40_000));
        let mut out_ptrs = vec![0_i64];
        for n in &counts {
            out_ptrs.push(out_ptrs.last().unwrap() + *n as i64);
        }
        for max in [1, 10, 50, 1000] {
            let blocks = column_blocks(&out_ptrs, max);
            assert_eq!(blocks[0].start, 0);
            assert_eq!(blocks.last().unwrap().end, counts.len());
            for (b, next) in blocks.iter().zip(&blocks[1..]) {
                assert_eq!(b.end, next.start);
            }
            for b in &blocks {
                let entries: usize = counts[b.clone()].iter().sum();
                assert!(!b.is_empty() && b.len() <= BLOCK_KEYS);
                assert!(entries <= max || b.len() == 1, "{b:?}: {entries} > {max}");
            }
            for groups in [1, 2, 3, 64] {
                let runs = group_blocks(&blocks, &out_ptrs, groups);
                assert!(runs.len() <= groups && runs.iter().all(|r| !r.is_empty()));
                assert_eq!(runs[0].start, 0);
                assert_eq!(runs.last().unwrap().end, blocks.len());
                for (r, next) in runs.iter().zip(&runs[1..]) {
                    assert_eq!(r.end, next.start);
                }
            }
        }
    }
}
