//! The `tiled` strategy: a copy of the matrix cut into bands of [`BAND_ROWS`] rows and
//! tiles of [`TILE_COLS`] columns, made when the handle is made, for matrices whose columns
//! are scattered over an `x` far larger than the L2 cache.
//!
//! Row by row, such a matrix reads `x` at random: every read misses the core's L2 cache and
//! waits on the shared L3 cache or on memory, and SpMV runs at a fraction of the bandwidth.
//! Here each band runs its tiles left to right: a tile reads only its slice of `x` (256 KiB
//! of `f64`), and the band's row sums (1 MiB) stay beside it, so after the first touch the
//! reads hit the L2 cache (2 MiB per core here). An in-band row and an in-tile column fill a
//! `u32` together (17 + 15 bits); taller bands than tiles are wide put more entries in each
//! tile for the same cache: on the permuted stencil, bands of 131 072 rows and tiles of
//! 32 768 columns ran 83–84 ms where 65 536 × 65 536 ran 108–111 ms, and on powerlaw:1m
//! 23.5–23.8 ms against 27.1–29.0 (`csr bench --spmv-only --reps 5 powerlaw:1m
//! permuted:poisson2d:2000`, alternating builds; 262 144 × 16 384 was no better).
//!
//! A tile's entries are copied (values included) in one of two forms, per row: a row with
//! at least [`RUN_MIN`] entries in the tile stores them as a *run* (a segment header with the
//! row and the count, then 16-bit columns and values, summed in a register); a row with fewer
//! stores them as *singles* (row and column packed in a `u32`, and the value), each added to
//! the row's sum directly, ordered so that consecutive singles belong to different rows.
//! Either way a row meets its entries of a tile in storage order, and the tiles in column
//! order: when a row's columns are sorted (more precisely, when its entries visit the tiles
//! in increasing order) it is summed in storage order from zero, bit for bit like
//! `classical` for rows of fewer than 16 entries. Longer rows, which `classical` sums in 8
//! interleaved partial sums (`scalar::sum_of_products`), differ from it in the last bits:
//! their entries are spread over tiles, and 8 partial sums per row would not leave the
//! band's sums in the cache.
//!
//! Before a tile's entries, its whole slice of `x` is prefetched into the L2 cache, so the
//! lines arrive in parallel rather than one miss at a time: on the permuted stencil this
//! took `tiled` from 214 ms to 107 ms (`csr bench --spmv-only permuted:poisson2d:2000`).

use std::ops::Range;

use rayon::prelude::*;

use super::dot::{finish, prefetch_l2};
use super::stream::{self, Streaming};
use crate::{CsrRef, Index, Scalar};

/// Columns per tile: a tile's slice of `x` and its band's row sums (256 KiB + 1 MiB of
/// `f64`) fit together in this machine's 2 MiB L2 cache.
pub(super) const TILE_COLS: usize = 1 << COL_BITS;

/// Rows per band.
pub(super) const BAND_ROWS: usize = 1 << ROW_BITS;

/// Bits of an in-tile column and of an in-band row: together they fill a `u32`.
const COL_BITS: u32 = 15;
const ROW_BITS: u32 = 32 - COL_BITS;

/// Entries in one segment at most (its count has 15 bits); a longer run of one row's entries
/// in one tile continues in the next segment.
const MAX_SEGMENT: usize = (1 << COL_BITS) - 1;

/// A row with at least this many entries in a tile has them stored as a run (summed in a
/// register); fewer are stored as singles.
const RUN_MIN: usize = 8;

/// Tiles per band at most: a band's layout keeps a few counters per tile, so a wider matrix
/// (more than 2^31 columns, only with 64-bit indices) would cost gigabytes before the first
/// entry; [`fits`] tells, and the plan runs `load_balance` instead.
pub(super) const MAX_TILES: usize = 1 << 16;

/// Whether a matrix with `ncols` columns can be tiled (see [`MAX_TILES`]).
pub(super) fn fits(ncols: usize) -> bool {
    ncols.div_ceil(TILE_COLS) <= MAX_TILES
}

/// Expected entries per cache line of a tile's slice of `x` (64-byte lines of `T`) in an
/// `nrows x ncols` matrix with `nnz` entries spread evenly over its tiles: how often, on
/// average, the line a tile brings into the cache is read.
pub(super) fn entries_per_line<T>(nrows: usize, ncols: usize, nnz: usize) -> f64 {
    let tiles = nrows.div_ceil(BAND_ROWS) * ncols.div_ceil(TILE_COLS);
    let lines = (ncols.min(TILE_COLS) * size_of::<T>()).div_ceil(64);
    if tiles == 0 || lines == 0 {
        0.0
    } else {
        nnz as f64 / tiles as f64 / lines as f64
    }
}

/// The tiled copy of a matrix.
#[derive(Clone, Debug)]
pub(crate) struct Tiled<T> {
    bands: Vec<Band<T>>,
    nrows: usize,
}

/// One band of at most [`BAND_ROWS`] rows: its tiles, in increasing column order.
///
/// A row's entries in one tile form a *run* when there are [`RUN_MIN`] or more of them:
/// the run is stored as segments (a header, then the entries), summed in a register. Fewer
/// entries are *singles*, each stored with its row and added to the row's sum directly;
/// a tile's singles are ordered by their rank in their row's group, then by row (first the
/// rows' first singles, then their second ones, ...), so consecutive singles belong to
/// different rows and do not wait on each other, yet each row still meets its own entries in
/// storage order.
#[derive(Clone, Debug)]
struct Band<T> {
    tiles: Vec<Tile>,
    /// Per segment: the row's position in the band (low 17 bits) and its entry count
    /// (high 15 bits, at least 1).
    segments: Vec<u32>,
    /// Per run entry: its column minus its tile's first column.
    run_cols: Vec<u16>,
    /// Per run entry: its value.
    run_vals: Vec<T>,
    /// Per single: its row's position in the band (high 17 bits) and its column minus its
    /// tile's first column (low 15 bits).
    singles: Vec<u32>,
    /// Per single: its value.
    single_vals: Vec<T>,
}

/// One non-empty tile of a band.
#[derive(Clone, Debug)]
struct Tile {
    /// Its first column.
    first_col: usize,
    /// Its segments, an index range into the band's `segments`.
    segments: Range<usize>,
    /// Where its run entries start in the band's `run_cols` and `run_vals`.
    first_run_entry: usize,
    /// Its singles, an index range into the band's `singles` and `single_vals`.
    singles: Range<usize>,
}

impl<T: Scalar> Tiled<T> {
    /// The tiled copy of `a`, built band by band in parallel.
    pub(super) fn new<I: Index>(a: CsrRef<'_, T, I>) -> Self {
        let nrows = a.nrows();
        let bands = (0..nrows.div_ceil(BAND_ROWS))
            .into_par_iter()
            .map(|b| Band::new(a, b * BAND_ROWS..((b + 1) * BAND_ROWS).min(nrows)))
            .collect();
        Self { bands, nrows }
    }

    /// The bands as row blocks (`bands + 1` boundaries), for the row loops of `mult_dense`.
    pub(super) fn bounds(&self) -> Vec<usize> {
        (0..=self.bands.len())
            .map(|b| (b * BAND_ROWS).min(self.nrows))
            .collect()
    }

    /// `y = alpha * A * x + beta * y` for the matrix this copy was made of (`x.len()` its
    /// columns, `y.len()` its rows, checked by the kernel).
    pub(super) fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) {
        debug_assert_eq!(y.len(), self.nrows);
        let streamed = beta == T::zero() && stream::worth_streaming::<T>(y.len());
        let work = |sums: &mut Vec<T>, (band, yb): (&Band<T>, &mut [T])| {
            sums.clear();
            sums.resize(yb.len(), T::zero());
            band.accumulate(x, sums);
            if streamed {
                // Fenced when dropped, on this (worker) thread.
                let streaming = Streaming::begin();
                for (yi, &s) in yb.iter_mut().zip(sums.iter()) {
                    // SAFETY: `yi` is a valid, aligned `&mut T`.
                    unsafe { streaming.store(yi, alpha * s) };
                }
            } else {
                for (yi, &s) in yb.iter_mut().zip(sums.iter()) {
                    *yi = finish(alpha, s, beta, *yi);
                }
            }
        };
        if self.bands.len() <= 1 {
            let mut sums = Vec::new();
            self.bands
                .iter()
                .zip(y.chunks_mut(BAND_ROWS))
                .for_each(|item| work(&mut sums, item));
        } else {
            self.bands
                .par_iter()
                .zip(y.par_chunks_mut(BAND_ROWS))
                .for_each_init(Vec::new, work);
        }
    }
}

impl<T: Scalar> Band<T> {
    /// The tiles of rows `rows` of `a` (at most [`BAND_ROWS`] rows).
    fn new<I: Index>(a: CsrRef<'_, T, I>, rows: Range<usize>) -> Self {
        debug_assert!(rows.len() <= BAND_ROWS);
        let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
        let ntiles = a.ncols().div_ceil(TILE_COLS);
        let row_entries = |r: usize| ptrs[r].to_usize()..ptrs[r + 1].to_usize();
        let mut groups = RowGroups::new(ntiles);

        // Count, per tile, the run entries and segments and the singles of each rank.
        let mut run_entries = vec![0usize; ntiles];
        let mut segment_count = vec![0usize; ntiles];
        let mut by_rank = vec![0usize; ntiles * RUN_MIN];
        for r in rows.clone() {
            groups.count(&cols[row_entries(r)]);
            for &(t, n) in &groups.sizes {
                if n >= RUN_MIN {
                    run_entries[t] += n;
                    segment_count[t] += n.div_ceil(MAX_SEGMENT);
                } else {
                    by_rank[t * RUN_MIN..t * RUN_MIN + n]
                        .iter_mut()
                        .for_each(|k| *k += 1);
                }
            }
        }

        // Lay the tiles out in column order: where each tile's segments, run entries and
        // singles of each rank start.
        let mut tiles = Vec::new();
        let mut next_segment = vec![0; ntiles];
        let mut next_run = vec![0; ntiles];
        let mut next_single = vec![0; ntiles * RUN_MIN];
        let (mut s, mut e, mut q) = (0, 0, 0);
        for t in 0..ntiles {
            let first_single = q;
            for k in 0..RUN_MIN {
                next_single[t * RUN_MIN + k] = q;
                q += by_rank[t * RUN_MIN + k];
            }
            if segment_count[t] > 0 || q > first_single {
                tiles.push(Tile {
                    first_col: t * TILE_COLS,
                    segments: s..s + segment_count[t],
                    first_run_entry: e,
                    singles: first_single..q,
                });
            }
            (next_segment[t], next_run[t]) = (s, e);
            s += segment_count[t];
            e += run_entries[t];
        }

        // Fill them, row by row.
        let mut band = Band {
            tiles,
            segments: vec![0; s],
            run_cols: vec![0; e],
            run_vals: vec![T::zero(); e],
            singles: vec![0; q],
            single_vals: vec![T::zero(); q],
        };
        let mut rank = vec![0usize; ntiles];
        for (local, r) in rows.enumerate() {
            let entries = row_entries(r);
            groups.count(&cols[entries.clone()]);
            for &(t, n) in &groups.sizes {
                let mut left = n;
                while n >= RUN_MIN && left > 0 {
                    let len = left.min(MAX_SEGMENT);
                    band.segments[next_segment[t]] = (local | len << ROW_BITS) as u32;
                    next_segment[t] += 1;
                    left -= len;
                }
            }
            for j in entries {
                let c = cols[j].to_usize();
                let (t, in_tile) = (c / TILE_COLS, c % TILE_COLS);
                if groups.size_of(t) >= RUN_MIN {
                    band.run_cols[next_run[t]] = in_tile as u16;
                    band.run_vals[next_run[t]] = vals[j];
                    next_run[t] += 1;
                } else {
                    let slot = &mut next_single[t * RUN_MIN + rank[t]];
                    band.singles[*slot] = (local << COL_BITS | in_tile) as u32;
                    band.single_vals[*slot] = vals[j];
                    *slot += 1;
                    rank[t] += 1;
                }
            }
            for &(t, _) in &groups.sizes {
                rank[t] = 0;
            }
        }
        band
    }

    /// `sums[r] += Σ` of row `r`'s entries times `x`, tile by tile.
    fn accumulate(&self, x: &[T], sums: &mut [T]) {
        for tile in &self.tiles {
            let xs = &x[tile.first_col..];
            // Ask for the tile's slice of x at once: its lines arrive in parallel, instead
            // of one miss at a time as the entries first meet them.
            for line in (0..xs.len().min(TILE_COLS) * size_of::<T>()).step_by(64) {
                prefetch_l2(xs.as_ptr().wrapping_byte_add(line));
            }
            let mut e = tile.first_run_entry;
            for &seg in &self.segments[tile.segments.clone()] {
                let (r, len) = ((seg as usize) & (BAND_ROWS - 1), (seg >> ROW_BITS) as usize);
                // SAFETY: the band was built from a validated CSR: `r` is a row of the band
                // (sums.len() rows), entries e..e + len lie inside run_cols/run_vals (a
                // tile's segments count exactly its run entries), and every in-tile column
                // plus `first_col` is a column of the matrix, below x.len().
                unsafe {
                    let mut acc = *sums.get_unchecked(r);
                    for k in e..e + len {
                        let c = *self.run_cols.get_unchecked(k) as usize;
                        acc += *self.run_vals.get_unchecked(k) * *xs.get_unchecked(c);
                    }
                    *sums.get_unchecked_mut(r) = acc;
                }
                e += len;
            }
            for k in tile.singles.clone() {
                // SAFETY: as above: k lies in the tile's singles, whose rows are rows of the
                // band and whose columns are columns of x past `first_col`.
                unsafe {
                    let p = *self.singles.get_unchecked(k) as usize;
                    let (r, c) = (p >> COL_BITS, p & (TILE_COLS - 1));
                    *sums.get_unchecked_mut(r) +=
                        *self.single_vals.get_unchecked(k) * *xs.get_unchecked(c);
                }
            }
        }
    }
}

/// A row's entries grouped by tile: how many fall in each tile it touches.
struct RowGroups {
    /// Per tile: the row's entries in it (zero outside the row's tiles).
    count: Vec<usize>,
    /// The row's tiles, in the order its entries first meet them, with their counts.
    sizes: Vec<(usize, usize)>,
}

impl RowGroups {
    fn new(ntiles: usize) -> Self {
        Self {
            count: vec![0; ntiles],
            sizes: Vec::new(),
        }
    }

    /// Groups the row whose column indices are `cols`, forgetting the previous row.
    fn count<I: Index>(&mut self, cols: &[I]) {
        for &(t, _) in &self.sizes {
            self.count[t] = 0;
        }
        self.sizes.clear();
        for c in cols {
            let t = c.to_usize() / TILE_COLS;
            if self.count[t] == 0 {
                self.sizes.push((t, 0));
            }
            self.count[t] += 1;
        }
        for (t, n) in &mut self.sizes {
            *n = self.count[*t];
        }
    }

    /// The current row's entries in tile `t`.
    fn size_of(&self, t: usize) -> usize {
        self.count[t]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Csr;

    /// Each row summed from zero in storage order, then `alpha * sum + beta * old`: what
    /// `classical` computes.
    fn by_rows(a: &Csr<f64, i64>, alpha: f64, x: &[f64], beta: f64, y: &[f64]) -> Vec<f64> {
        let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
        (0..a.nrows())
            .map(|r| {
                let mut sum = 0.0;
                for j in ptrs[r] as usize..ptrs[r + 1] as usize {
                    sum += vals[j] * x[cols[j] as usize];
                }
                finish(alpha, sum, beta, y[r])
            })
            .collect()
    }

    /// Three bands (the last short) over four tiles (the last narrow), with scattered rows
    /// of 0 to 40 entries (singles and short runs), a row with a run in every tile, and a row whose run of
    /// 70 000 entries in one tile (repeated columns) needs three segments. Rows are sorted, or
    /// reversed with `reversed`.
    fn spread(reversed: bool) -> Csr<f64, i64> {
        let (nrows, ncols) = (2 * BAND_ROWS + 77, 3 * TILE_COLS + 5);
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1du64);
        let (mut ptrs, mut cols, mut vals) = (vec![0i64], Vec::new(), Vec::new());
        for r in 0..nrows {
            let mut row: Vec<i64> = match r {
                5 => (0..70_000).map(|k| (TILE_COLS + k % 1000) as i64).collect(),
                7 => (0..ncols)
                    .step_by(TILE_COLS / 10)
                    .map(|c| c as i64)
                    .collect(),
                _ => (0..r * 7919 % 41)
                    .map(|_| (next() % ncols as u64) as i64)
                    .collect(),
            };
            row.sort_unstable();
            if reversed {
                row.reverse();
            }
            for c in row {
                cols.push(c);
                vals.push((next() % 2001) as f64 / 1000.0 - 1.0);
            }
            ptrs.push(cols.len() as i64);
        }
        Csr::try_from_parts(nrows, ncols, ptrs, cols, vals).unwrap()
    }

    fn inputs(a: &Csr<f64, i64>) -> (Vec<f64>, Vec<f64>) {
        let x = (0..a.ncols()).map(|j| 1.0 / (1.0 + j as f64)).collect();
        let y = (0..a.nrows()).map(|i| (i % 17) as f64 - 8.0).collect();
        (x, y)
    }

    #[test]
    fn sorted_rows_sum_like_classical_bit_for_bit() {
        let a = spread(false);
        let t = Tiled::new(a.view());
        assert_eq!(t.bands.len(), 3);
        assert!(t.bands[0].segments.len() > 4, "runs and a split segment");
        assert!(t.bands.iter().all(|b| !b.singles.is_empty()));
        let (x, y0) = inputs(&a);
        for (alpha, beta) in [(1.0, 0.0), (1.5, -0.5), (-2.0, 1.0)] {
            let mut y = y0.clone();
            t.mult_vec(alpha, &x, beta, &mut y);
            let expected = by_rows(&a, alpha, &x, beta, &y0);
            for (r, (got, want)) in y.iter().zip(&expected).enumerate() {
                assert_eq!(got.to_bits(), want.to_bits(), "row {r}, alpha {alpha}");
            }
        }
    }

    #[test]
    fn unsorted_rows_sum_to_within_rounding() {
        let a = spread(true);
        let (x, y0) = inputs(&a);
        let mut y = y0.clone();
        Tiled::new(a.view()).mult_vec(1.5, &x, -0.5, &mut y);
        let expected = by_rows(&a, 1.5, &x, -0.5, &y0);
        for (r, (got, want)) in y.iter().zip(&expected).enumerate() {
            assert!((got - want).abs() <= 1e-12 * (1.0 + want.abs()), "row {r}");
        }
    }

    #[test]
    fn beta_zero_ignores_nan_and_empty_shapes_work() {
        let a = spread(false);
        let (x, _) = inputs(&a);
        let mut y = vec![f64::NAN; a.nrows()];
        Tiled::new(a.view()).mult_vec(1.0, &x, 0.0, &mut y);
        assert!(y.iter().all(|v| v.is_finite()));
        for (nrows, ncols) in [(0, 0), (0, 5), (BAND_ROWS + 3, 0), (3, 2 * TILE_COLS)] {
            let e: Csr<f64, i64> = Csr::empty(nrows, ncols).unwrap();
            let mut y = vec![f64::NAN; nrows];
            Tiled::new(e.view()).mult_vec(2.0, &vec![1.0; ncols], 0.0, &mut y);
            assert!(y.iter().all(|&v| v == 0.0), "{nrows} x {ncols}");
        }
    }

    #[test]
    fn streamed_products_are_fenced_on_the_threads_that_stored() {
        // 16 MiB of f64 output: large enough to stream; 16 bands over a 2-thread pool.
        let a: Csr<f64, i64> = Csr::empty(1 << 21, 1).unwrap();
        let t = Tiled::new(a.view());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut y = vec![f64::NAN; a.nrows()];
        pool.install(|| t.mult_vec(1.0, &[1.0], 0.0, &mut y));
        assert!(y.iter().all(|&v| v == 0.0));
        stream::tests::assert_every_thread_fenced(&pool);
    }

    #[test]
    fn entries_per_line_counts_evenly_spread_entries() {
        // 8 bands x 32 tiles of 4096 lines (f64): 15 entries per row make 15 per line.
        let n = 1 << 20;
        assert_eq!(entries_per_line::<f64>(n, n, 15 * n), 15.0);
        // f32 lines hold twice the values.
        assert_eq!(entries_per_line::<f32>(n, n, 15 * n), 30.0);
        assert_eq!(entries_per_line::<f64>(0, n, 0), 0.0);
        assert_eq!(entries_per_line::<f64>(n, 0, 0), 0.0);
    }
}
