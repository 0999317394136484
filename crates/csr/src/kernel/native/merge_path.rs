//! The `merge_path` strategy: Merrill & Garland's merge-based SpMV (SC 2016).
//!
//! Walking the rows is a merge of two sorted lists: the row ends (`row_ptrs[1..]`) and the
//! entry positions `0..nnz`. The merge path has `nrows + nnz` steps; cutting it into equal
//! tiles gives every tile the same work whatever the row lengths, splitting long rows. A
//! boundary that falls inside a row no longer than a tile moves to that row's start, so only
//! rows longer than a tile (at least 65 536 entries + rows of work) are split. A tile
//! writes the rows that lie wholly inside it; a row cut by a tile boundary leaves a partial
//! sum per tile, and a serial pass afterwards adds those partials in tile order and writes
//! the row ("carry-out fix-up").
//!
//! The tiles depend on the matrix only (never on the thread count; rayon spreads them over
//! the threads), so results are bit-identical whatever the pool. Rows inside one tile are
//! summed exactly like the reference kernel; a split row (longer than a tile) is the sum, in
//! order, of its pieces (each summed like a row, by `dot`), which may differ from the
//! reference in the last bits.

use std::ops::Range;

use rayon::prelude::*;

use super::dot::{Block, accumulate, dot, finish, finish_row};
use crate::parallel::{MIN_PARALLEL_WORK, partition_point};
use crate::{CsrRef, Dense, Index, Scalar};

/// At most this many tiles: enough for rayon to balance any pool we expect, few enough that
/// the per-call partials and the serial fix-up stay negligible.
const MAX_TILES: usize = 256;

/// The tiles of a matrix's merge path: tile `t` runs from path coordinate `starts[t]` to
/// `starts[t + 1]`, a coordinate being `(rows finished, entries consumed)`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tiles {
    starts: Vec<(usize, usize)>,
}

impl Tiles {
    /// Cuts the merge path of `row_ptrs` (validated) into tiles of at least
    /// [`MIN_PARALLEL_WORK`] steps, at most [`MAX_TILES`] of them.
    pub(super) fn new<I: Index>(row_ptrs: &[I]) -> Self {
        let nrows = row_ptrs.len() - 1;
        let nnz = row_ptrs[nrows].to_usize();
        let total = nrows + nnz;
        let tiles = total.div_ceil(MIN_PARALLEL_WORK).clamp(1, MAX_TILES);
        let tile_len = total.div_ceil(tiles);
        let starts = (0..=tiles)
            .map(|t| {
                let d = total / tiles * t + (total % tiles) * t / tiles;
                let (i, j) = search(row_ptrs, d);
                // A row no longer than a tile holds at most one boundary: move it to the
                // row's start, so that only rows longer than a tile are ever split.
                match (row_ptrs.get(i), row_ptrs.get(i + 1)) {
                    (Some(s), Some(e)) if e.to_usize() - s.to_usize() <= tile_len => {
                        (i, j.min(s.to_usize()))
                    }
                    _ => (i, j),
                }
            })
            .collect();
        Self { starts }
    }

    /// The number of tiles.
    pub(super) fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Whether the tiles cover the merge path of an `nrows`-row, `nnz`-entry matrix.
    pub(super) fn covers(&self, nrows: usize, nnz: usize) -> bool {
        self.starts.first() == Some(&(0, 0)) && self.starts.last() == Some(&(nrows, nnz))
    }
}

/// The merge-path coordinate on diagonal `d`: `(i, d - i)` with `i` the number of rows whose
/// end comes before step `d` (Merrill & Garland's `MergePathSearch`).
fn search<I: Index>(row_ptrs: &[I], d: usize) -> (usize, usize) {
    let nrows = row_ptrs.len() - 1;
    let nnz = row_ptrs[nrows].to_usize();
    let lo = d.saturating_sub(nnz);
    let hi = d.min(nrows);
    // Row i's end is taken before entry d - i - 1 once row_ptrs[i + 1] <= d - i - 1.
    let i = lo
        + partition_point(hi - lo, |k| {
            let i = lo + k;
            row_ptrs[i + 1].to_usize() + i < d
        });
    (i, d - i)
}

/// One tile's unfinished rows: the row it started inside of (`head`, finished here but
/// begun in an earlier tile) and the row it stops inside of (`tail`), each with the partial
/// sum (`k` values per row for SpMM) of its entries in this tile.
struct Partials<S> {
    head: Option<(usize, S)>,
    tail: Option<(usize, S)>,
}

/// Where tile `t` runs: its rows (those whose end it takes) and its entries.
fn bounds(tiles: &Tiles, t: usize) -> (Range<usize>, Range<usize>) {
    let ((i0, j0), (i1, j1)) = (tiles.starts[t], tiles.starts[t + 1]);
    (i0..i1, j0..j1)
}

/// Cuts `y` (`width` values per row) into the tiles' row chunks.
fn chunks<'y, T>(tiles: &Tiles, width: usize, y: &'y mut [T]) -> Vec<(usize, &'y mut [T])> {
    let rows: Vec<usize> = (0..=tiles.len()).map(|t| tiles.starts[t].0).collect();
    super::rows::chunks(&rows, width, y)
        .into_iter()
        .enumerate()
        .map(|(t, (_, c))| (t, c))
        .collect()
}

/// Runs `tile` over every tile (in parallel when there are several) and returns the
/// partials in tile order.
fn run_tiles<T: Send, S: Send>(
    tiles: &Tiles,
    width: usize,
    y: &mut [T],
    tile: impl Fn(usize, &mut [T]) -> Partials<S> + Sync,
) -> Vec<Partials<S>> {
    let parts = chunks(tiles, width, y);
    if parts.len() <= 1 {
        parts.into_iter().map(|(t, yc)| tile(t, yc)).collect()
    } else {
        parts.into_par_iter().map(|(t, yc)| tile(t, yc)).collect()
    }
}

/// The partials of all tiles, in order, grouped by row: `(row, [pieces])`.
fn split_rows<S>(partials: Vec<Partials<S>>) -> Vec<(usize, Vec<S>)> {
    let mut rows: Vec<(usize, Vec<S>)> = Vec::new();
    for p in partials {
        for (r, s) in [p.head, p.tail].into_iter().flatten() {
            match rows.last_mut() {
                Some((last, pieces)) if *last == r => pieces.push(s),
                _ => rows.push((r, vec![s])),
            }
        }
    }
    rows
}

/// `y = alpha * A * x + beta * y` over the merge-path `tiles` of `a` (which cover it).
/// Shapes already checked.
pub(super) fn mult_vec<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    tiles: &Tiles,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    debug_assert!(x.len() == a.ncols() && y.len() == a.nrows());
    debug_assert!(tiles.covers(a.nrows(), a.nnz()));
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    // SAFETY: every r passed is <= nrows (tile rows and their end), and row_ptrs has
    // nrows + 1 entries (validated CsrRef).
    let ptr = |r: usize| unsafe { ptrs.get_unchecked(r).to_usize() };
    let partials = run_tiles(tiles, 1, y, |t, yc| {
        let (rows, entries) = bounds(tiles, t);
        let mut head = None;
        for (r, yr) in rows.clone().zip(yc.iter_mut()) {
            let range = ptr(r).max(entries.start)..ptr(r + 1);
            // SAFETY: the range lies inside row r's entries (validated row_ptrs) and
            // x.len() == ncols (checked by the kernel).
            let sum = unsafe { dot(cols, vals, x, range) };
            if ptr(r) < entries.start {
                head = Some((r, sum)); // begun in an earlier tile: the fix-up writes it
            } else {
                *yr = finish(alpha, sum, beta, *yr);
            }
        }
        let tail =
            (rows.end < a.nrows() && ptr(rows.end).max(entries.start) < entries.end).then(|| {
                let range = ptr(rows.end).max(entries.start)..entries.end;
                // SAFETY: as above; entries.end <= row_ptrs[rows.end + 1].
                (rows.end, unsafe { dot(cols, vals, x, range) })
            });
        Partials { head, tail }
    });
    for (r, pieces) in split_rows(partials) {
        let sum = pieces.into_iter().fold(T::zero(), |s, p| s + p);
        y[r] = finish(alpha, sum, beta, y[r]);
    }
}

/// `Y = alpha * A * X + beta * Y` over the merge-path `tiles` of `a`, for row-major `X`
/// (`ncols x k`) and `Y` (`nrows x k`), shapes already checked. `Y` is written in place,
/// its stride and padding kept.
pub(super) fn mult_dense<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    tiles: &Tiles,
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) {
    let (nrows, k) = (a.nrows(), x.ncols());
    if nrows == 0 || k == 0 {
        return;
    }
    let xb = Block::of(x);
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    // SAFETY: every r passed is <= nrows (tile rows and their end), and row_ptrs has
    // nrows + 1 entries (validated CsrRef).
    let ptr = |r: usize| unsafe { ptrs.get_unchecked(r).to_usize() };
    // The sum of entries `range` of a row, k values.
    let sums = |range: Range<usize>| {
        let mut acc = vec![T::zero(); k];
        // SAFETY: every range passed lies inside one row's entries (validated row_ptrs) and
        // X has ncols rows of k values (checked by the kernel).
        unsafe { accumulate(cols, vals, xb, range, &mut acc) };
        acc
    };
    let (ys, stride) = y.strided_mut();
    let partials = run_tiles(tiles, stride, ys, |t, yc| {
        let (rows, entries) = bounds(tiles, t);
        let mut head = None;
        for (r, yr) in rows.clone().zip(yc.chunks_exact_mut(stride)) {
            let acc = sums(ptr(r).max(entries.start)..ptr(r + 1));
            if ptr(r) < entries.start {
                head = Some((r, acc)); // begun in an earlier tile: the fix-up writes it
            } else {
                finish_row(alpha, &acc, beta, &mut yr[..k]);
            }
        }
        let tail =
            (rows.end < nrows && ptr(rows.end).max(entries.start) < entries.end).then(|| {
                (
                    rows.end,
                    sums(ptr(rows.end).max(entries.start)..entries.end),
                )
            });
        Partials { head, tail }
    });
    for (r, pieces) in split_rows(partials) {
        let mut acc = vec![T::zero(); k];
        for piece in pieces {
            for (s, p) in acc.iter_mut().zip(piece) {
                *s += p;
            }
        }
        finish_row(alpha, &acc, beta, &mut ys[r * stride..r * stride + k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The coordinates on every diagonal match a step-by-step merge.
    #[test]
    fn search_follows_the_merge() {
        let row_ptrs: Vec<i32> = vec![0, 3, 3, 4, 9, 9];
        let (nrows, nnz) = (5, 9);
        let (mut i, mut j) = (0, 0);
        for d in 0..=nrows + nnz {
            assert_eq!(search(&row_ptrs, d), (i, j), "diagonal {d}");
            if i < nrows && (row_ptrs[i + 1] as usize) <= j {
                i += 1;
            } else {
                j += 1;
            }
        }
    }

    #[test]
    fn short_rows_are_never_split() {
        let row_ptrs: Vec<i32> = (0..=100_000).map(|r| r * 7).collect();
        let tiles = Tiles::new(&row_ptrs);
        assert!(tiles.len() > 4 && tiles.covers(100_000, 700_000));
        for &(i, j) in &tiles.starts {
            assert!(
                i == 100_000 || j == row_ptrs[i] as usize,
                "({i}, {j}) splits a row"
            );
        }
        assert!(tiles.starts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn tiles_cover_the_path_and_split_a_long_row() {
        let n = 3 * MIN_PARALLEL_WORK;
        let row_ptrs: Vec<i64> = vec![0, 1, n as i64 + 1, n as i64 + 2];
        let tiles = Tiles::new(&row_ptrs);
        assert!(tiles.covers(3, n + 2));
        assert!(tiles.len() >= 3);
        assert!(tiles.starts.windows(2).any(|w| w[0].0 == w[1].0));
    }
}
