//! The `compressed` strategy: SpMV on a compact index encoding built once, when the handle
//! is made, that reads the matrix's values in place and most of its column indices not at
//! all.
//!
//! Consecutive rows whose entries sit at the same offsets from the row (`col - row`, in
//! storage order) and that hold the same number of entries form a *pattern run*: one copy of
//! the offsets stands for every row of the run, and a row's entries start at
//! `base + (row - first) * len`, so neither the run's row pointers nor its column indices are
//! read. Stencil and banded matrices are almost all pattern runs (poisson2d: the interior of
//! each grid line is one run of five offsets), which leaves the values, `x` and `y` as the
//! only traffic, the same as a diagonal (DIA) format. Rows that do not form a run of
//! [`MIN_RUN_ROWS`] or more are read through the matrix's own arrays (*plain runs*).
//!
//! Every row is still summed in the reference kernel's order (`scalar::sum_of_products`), so
//! the results are bit-identical to `classical`, `load_balance` and the reference kernel.
//! The encoding costs one pass over the column indices and, for a stencil, a few bytes per
//! grid line.

use std::ops::Range;

use rayon::prelude::*;

use super::dot::{Out, dot, prefetch};
use super::locality::sample_windows;
use super::rows::chunks;
use super::stream::{self, Streaming};
use crate::scalar::{SUM_LANES_MIN, sum_of_products};
use crate::{CsrRef, Index, Scalar};

/// Rows that share a pattern must number at least this many to form a pattern run: a
/// shorter run would cost more in run records than it saves in index traffic.
pub(super) const MIN_RUN_ROWS: usize = 4;

/// Rows ahead of the current one whose values (every cache line of them) and leading `x`
/// entry are prefetched: a core keeps only about ten cache misses in flight, which caps one
/// thread's streaming rate below the memory's; asking early keeps more lines coming.
/// Measured on poisson2d(2000), 2 threads, in-run ratio to MKL's optimized SpMV
/// (`csr bench --spmv-only --reps 9 poisson2d:2000`): 0.59–0.66 without prefetch on a loaded
/// machine, 0.72–0.87 with one line per group of rows at 64 rows. On the quiet machine
/// (2026-11-21 afternoon), alternating runs: one line per group at 64 rows 13.3–13.9 ms, no
/// prefetch 12.1–13.4, every line at 64 rows 13.8, at 128 rows 11.7–12.2, at 192 rows
/// 11.5–12.1, at 256 rows 12.8 (MKL 10.8–12.0 in the same runs).
const PREFETCH_ROWS: usize = 128;

/// Rows of a pattern run summed side by side.
const GROUP: usize = 4;

/// Pattern runs longer than this many entries per row run through a loop over the offsets
/// instead of a fully unrolled one.
const MAX_UNROLLED_LEN: usize = 8;

/// A block of consecutive rows and how their entries are found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Run {
    /// Every row holds the offsets `pattern` (a range of [`Compressed::offsets`]) in this
    /// order, and the entries of row `rows.start + i` start at `base + i * pattern.len()`.
    Pattern {
        rows: Range<usize>,
        base: usize,
        pattern: Range<usize>,
    },
    /// Rows read through the matrix's row pointers and column indices.
    Plain { rows: Range<usize> },
}

impl Run {
    fn rows(&self) -> &Range<usize> {
        match self {
            Run::Pattern { rows, .. } | Run::Plain { rows } => rows,
        }
    }
}

/// The compact encoding of one matrix and the row blocks the threads take.
#[derive(Clone, Debug)]
pub(crate) struct Compressed {
    /// The runs, in row order, covering every row once.
    runs: Vec<Run>,
    /// The offsets (`col - row`) of every pattern run, one copy per run.
    offsets: Vec<isize>,
    /// Row-block boundaries: `parts + 1` of them, balanced by entries + rows.
    bounds: Vec<usize>,
    /// Entries in pattern runs (the rest are read through the matrix's indices).
    pattern_entries: usize,
}

impl Compressed {
    /// Encodes `a` and splits its rows into the row blocks `bounds` (a partition of
    /// `0..a.nrows()`). The blocks are encoded in parallel, each on its own, so a run never
    /// crosses a block boundary.
    pub(crate) fn new<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, bounds: Vec<usize>) -> Self {
        let pieces: Vec<Encoder> = bounds
            .par_windows(2)
            .map(|w| Encoder::of_rows(a, w[0]..w[1]))
            .collect();
        let mut whole = Encoder::default();
        for piece in pieces {
            let shift = whole.offsets.len();
            whole.offsets.extend_from_slice(&piece.offsets);
            whole.pattern_entries += piece.pattern_entries;
            whole
                .runs
                .extend(piece.runs.into_iter().map(|run| match run {
                    Run::Pattern {
                        rows,
                        base,
                        pattern,
                    } => Run::Pattern {
                        rows,
                        base,
                        pattern: pattern.start + shift..pattern.end + shift,
                    },
                    plain => plain,
                }));
        }
        whole.offsets.shrink_to_fit();
        Self {
            runs: whole.runs,
            offsets: whole.offsets,
            bounds,
            pattern_entries: whole.pattern_entries,
        }
    }

    /// The share of the entries whose column indices the encoding replaces (0 to 1).
    pub(crate) fn coverage(&self, nnz: usize) -> f64 {
        if nnz == 0 {
            0.0
        } else {
            self.pattern_entries as f64 / nnz as f64
        }
    }

    /// The row-block boundaries the threads take.
    pub(crate) fn bounds(&self) -> &[usize] {
        &self.bounds
    }

    /// How many pattern runs and plain runs the encoding holds.
    pub(crate) fn run_counts(&self) -> (usize, usize) {
        let patterns = self
            .runs
            .iter()
            .filter(|r| matches!(r, Run::Pattern { .. }))
            .count();
        (patterns, self.runs.len() - patterns)
    }

    /// `y = alpha * A * x + beta * y`, `a` being the matrix the encoding was made from and
    /// the shapes already checked.
    pub(super) fn mult_vec<T: Scalar, I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) {
        debug_assert!(x.len() == a.ncols() && y.len() == a.nrows());
        // With beta = 0 the old y is not read: a large one is written past the cache.
        let stream = beta == T::zero() && stream::worth_streaming::<T>(y.len());
        let work = |(rows, yc): (Range<usize>, &mut [T])| {
            // Fenced when dropped, on the thread that stored.
            let streaming = stream.then(Streaming::begin);
            let out = Out::new(alpha, beta, streaming.as_ref());
            self.block(a, rows, x, out, yc);
        };
        let blocks = chunks(&self.bounds, 1, y);
        if blocks.len() <= 1 {
            blocks.into_iter().for_each(work);
        } else {
            blocks.into_par_iter().for_each(work);
        }
    }

    /// The rows `rows` of the product into `y` (which holds exactly those rows).
    fn block<T: Scalar, I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        rows: Range<usize>,
        x: &[T],
        out: Out<'_, T>,
        y: &mut [T],
    ) {
        let first = self
            .runs
            .partition_point(|run| run.rows().end <= rows.start);
        for run in &self.runs[first..] {
            let span = run.rows().start.max(rows.start)..run.rows().end.min(rows.end);
            if span.is_empty() {
                break;
            }
            let ys = &mut y[span.start - rows.start..span.end - rows.start];
            match run {
                Run::Plain { .. } => plain_rows(a, span, x, out, ys),
                Run::Pattern {
                    rows: run_rows,
                    base,
                    pattern,
                } => {
                    let offs = &self.offsets[pattern.clone()];
                    let base = base + (span.start - run_rows.start) * offs.len();
                    // SAFETY: the encoder recorded this run only after checking, for every
                    // row r of it, that its entries are exactly base + (r - start) * len..
                    // with columns r + offs[k] (< ncols <= x.len()), inside `a`'s arrays;
                    // `span` lies inside the run, and `a` is the matrix it was made from
                    // (the plan is rebuilt for any other, see `SpmvPlan::for_matrix`).
                    unsafe { pattern_rows(a.values(), x, offs, span, base, out, ys) }
                }
            }
        }
    }
}

/// Rows per sampled window of [`sampled_coverage`], and the number of windows.
const SAMPLE_ROWS: usize = 64;
const SAMPLE_WINDOWS: usize = 32;

/// The share of entries that pattern runs would cover, estimated from
/// [`SAMPLE_WINDOWS`] windows of [`SAMPLE_ROWS`] rows spread evenly over `a` (all of `a` when
/// it is that small), so that `automatic` can rule the encoding out cheaply.
pub(super) fn sampled_coverage<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> f64 {
    let (mut covered, mut total) = (0, 0);
    for rows in sample_windows(a.nrows(), SAMPLE_ROWS, SAMPLE_WINDOWS) {
        let ptrs = a.row_ptrs();
        total += ptrs[rows.end].to_usize() - ptrs[rows.start].to_usize();
        covered += Encoder::of_rows(a, rows).pattern_entries;
    }
    if total == 0 {
        0.0
    } else {
        covered as f64 / total as f64
    }
}

/// `col - row` as a signed offset (indices fit in `isize`: they index allocations).
fn offset(col: usize, row: usize) -> isize {
    col as isize - row as isize
}

/// Rows `rows` through the matrix's own arrays (`y` holds exactly those rows).
fn plain_rows<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    rows: Range<usize>,
    x: &[T],
    out: Out<'_, T>,
    y: &mut [T],
) {
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    for (r, yr) in rows.zip(y.iter_mut()) {
        let range = ptrs[r].to_usize()..ptrs[r + 1].to_usize();
        // SAFETY: the range is one of a validated CsrRef's rows and x covers every column
        // (shape checked by the kernel).
        let sum = unsafe { dot(cols, vals, x, range) };
        out.write(sum, yr);
    }
}

/// Rows `rows` of a pattern run: row `rows.start + i` holds `vals[base + i * len..][..len]`
/// at columns `row + offs[k]`.
///
/// # Safety
/// For every row `r` in `rows`, `base + (r - rows.start + 1) * offs.len() <= vals.len()` and
/// `0 <= r + offs[k] < x.len()` for every `k`; `y.len() == rows.len()`.
unsafe fn pattern_rows<T: Scalar>(
    vals: &[T],
    x: &[T],
    offs: &[isize],
    rows: Range<usize>,
    base: usize,
    out: Out<'_, T>,
    y: &mut [T],
) {
    // The first length that matches runs its unrolled loop; no fallback values are needed.
    macro_rules! unrolled {
        ($($len:literal)*) => {
            $(
                if let Ok(offs) = <&[isize; $len]>::try_from(offs) {
                    // SAFETY: forwarded from the caller.
                    return unsafe { fixed_rows::<T, $len>(vals, x, offs, rows, base, out, y) };
                }
            )*
            // SAFETY: forwarded from the caller.
            unsafe { any_rows(vals, x, offs, rows, base, out, y) }
        };
    }
    unrolled!(1 2 3 4 5 6 7 8);
}

/// [`pattern_rows`] for rows of exactly `L` entries: the loop over a row unrolls.
///
/// # Safety
/// As [`pattern_rows`].
#[inline(always)]
unsafe fn fixed_rows<T: Scalar, const L: usize>(
    vals: &[T],
    x: &[T],
    offs: &[isize; L],
    rows: Range<usize>,
    base: usize,
    out: Out<'_, T>,
    y: &mut [T],
) {
    const { assert!(L <= MAX_UNROLLED_LEN && L > 0) };
    // Rows this short are summed left to right in every order (`sum_of_products`).
    const { assert!(MAX_UNROLLED_LEN < SUM_LANES_MIN) };
    // x shifted by each offset: x_k[r] is x[r + offs[k]], in bounds for the run's rows.
    let xs: [*const T; L] = offs.map(|o| x.as_ptr().wrapping_offset(o));
    let v = vals.as_ptr().wrapping_add(base);
    // The last offset is the largest on sorted rows: x is first touched there.
    let lead = xs[L - 1];
    let first = rows.start;
    // Rows go in groups of GROUP: independent sums the core overlaps (one row's sum is a
    // chain of dependent additions). Each row (at most 8 entries) is still summed left to
    // right.
    let done = y.len() / GROUP * GROUP;
    let (grouped, rest) = y.split_at_mut(done);
    for (g, yg) in grouped.chunks_exact_mut(GROUP).enumerate() {
        let i = g * GROUP;
        // Every line of the group's values PREFETCH_ROWS rows ahead (the last one may be
        // asked for twice, by this group and the next).
        let ahead = v.wrapping_add((i + PREFETCH_ROWS) * L).cast::<u8>();
        for line in (0..GROUP * L * size_of::<T>()).step_by(64) {
            prefetch(ahead.wrapping_add(line));
        }
        prefetch(lead.wrapping_add(first + i + PREFETCH_ROWS));
        let mut acc = [T::zero(); GROUP];
        for (k, xk) in xs.iter().enumerate() {
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: row first + i + j of the run: base + (i + j) * L + k < vals.len()
                // and 0 <= first + i + j + offs[k] < x.len() (the caller's contract), so
                // both pointers are in bounds of their slices.
                unsafe {
                    *a += *v.wrapping_add((i + j) * L + k) * *xk.wrapping_add(first + i + j);
                }
            }
        }
        for (a, yr) in acc.into_iter().zip(yg) {
            out.write(a, yr);
        }
    }
    for (i, yr) in (done..).zip(rest) {
        let mut acc = T::zero();
        for (k, xk) in xs.iter().enumerate() {
            // SAFETY: as above, for row first + i.
            unsafe {
                acc += *v.wrapping_add(i * L + k) * *xk.wrapping_add(first + i);
            }
        }
        out.write(acc, yr);
    }
}

/// [`pattern_rows`] for any row length (a loop over the offsets).
///
/// # Safety
/// As [`pattern_rows`].
unsafe fn any_rows<T: Scalar>(
    vals: &[T],
    x: &[T],
    offs: &[isize],
    rows: Range<usize>,
    base: usize,
    out: Out<'_, T>,
    y: &mut [T],
) {
    let len = offs.len();
    for (i, (r, yr)) in rows.zip(y.iter_mut()).enumerate() {
        let start = base + i * len;
        let acc = sum_of_products(len, |k| {
            // SAFETY: as in `fixed_rows`, and k < len == offs.len().
            unsafe {
                *vals.get_unchecked(start + k)
                    * *x.get_unchecked(r.wrapping_add_signed(*offs.get_unchecked(k)))
            }
        });
        out.write(acc, yr);
    }
}

/// Builds the runs row by row: a candidate run grows while rows repeat its pattern and
/// becomes a pattern run once it ends with [`MIN_RUN_ROWS`] rows or more; shorter
/// candidates become (or extend) plain runs.
#[derive(Default)]
struct Encoder {
    runs: Vec<Run>,
    offsets: Vec<isize>,
    pattern_entries: usize,
    /// The candidate: its first row, its entries' start and where its pattern begins in
    /// `offsets` (the pattern is the tail of `offsets`).
    candidate: Option<(usize, usize, usize)>,
    /// Scratch: the offsets of the row being pushed.
    row: Vec<isize>,
}

impl Encoder {
    /// The runs of rows `rows` of `a`.
    fn of_rows<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, rows: Range<usize>) -> Self {
        let mut enc = Encoder::default();
        let (ptrs, cols) = (a.row_ptrs(), a.col_idxs());
        let end = rows.end;
        for r in rows {
            let range = ptrs[r].to_usize()..ptrs[r + 1].to_usize();
            enc.push_row(
                r,
                range.start,
                cols[range].iter().map(|c| offset(c.to_usize(), r)),
            );
        }
        enc.close(end);
        enc
    }

    /// Adds row `r`, whose entries start at `start` and sit at `offsets` from the row.
    fn push_row(&mut self, r: usize, start: usize, offsets: impl Iterator<Item = isize>) {
        self.row.clear();
        self.row.extend(offsets);
        if let Some((_, _, p)) = self.candidate
            && self.offsets[p..] == self.row[..]
        {
            return;
        }
        self.close(r);
        let p = self.offsets.len();
        self.offsets.extend_from_slice(&self.row);
        self.candidate = Some((r, start, p));
    }

    /// Ends the candidate before row `end`.
    fn close(&mut self, end: usize) {
        let Some((first, base, p)) = self.candidate.take() else {
            return;
        };
        if end - first >= MIN_RUN_ROWS {
            self.pattern_entries += (end - first) * (self.offsets.len() - p);
            self.runs.push(Run::Pattern {
                rows: first..end,
                base,
                pattern: p..self.offsets.len(),
            });
            return;
        }
        self.offsets.truncate(p);
        match self.runs.last_mut() {
            Some(Run::Plain { rows }) if rows.end == first => rows.end = end,
            _ => self.runs.push(Run::Plain { rows: first..end }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Csr;

    fn from_entries(n: usize, t: &[(usize, usize, f64)]) -> Csr<f64, i32> {
        let rows: Vec<i32> = t.iter().map(|e| e.0 as i32).collect();
        let cols: Vec<i32> = t.iter().map(|e| e.1 as i32).collect();
        let vals: Vec<f64> = t.iter().map(|e| e.2).collect();
        Csr::try_from_coo(n, n, &rows, &cols, &vals, crate::Duplicates::Sum).unwrap()
    }

    fn encode(a: &Csr<f64, i32>) -> Compressed {
        Compressed::new(a.view(), vec![0, a.nrows()])
    }

    #[test]
    fn a_tridiagonal_matrix_is_one_pattern_run_between_its_end_rows() {
        let n: usize = 10;
        let mut t = Vec::new();
        for i in 0..n {
            for j in i.saturating_sub(1)..(i + 2).min(n) {
                t.push((i, j, 1.0 + (i * n + j) as f64));
            }
        }
        let a = from_entries(n, &t);
        let c = encode(&a);
        assert_eq!(
            c.runs,
            vec![
                Run::Plain { rows: 0..1 },
                Run::Pattern {
                    rows: 1..9,
                    base: 2,
                    pattern: 0..3
                },
                Run::Plain { rows: 9..10 },
            ]
        );
        assert_eq!(c.offsets, vec![-1, 0, 1]);
        assert_eq!(c.coverage(a.nnz()), 24.0 / 28.0);
    }

    #[test]
    fn short_repeats_stay_plain_and_merge() {
        // Rows alternate between two patterns: no run reaches MIN_RUN_ROWS.
        let n = 9;
        let t: Vec<(usize, usize, f64)> = (0..n).map(|i| (i, (i * 7) % n, 1.0)).collect();
        let a = from_entries(n, &t);
        let c = encode(&a);
        assert_eq!(c.runs, vec![Run::Plain { rows: 0..n }]);
        assert!(c.offsets.is_empty());
        assert_eq!(c.run_counts(), (0, 1));
    }

    #[test]
    fn empty_rows_form_runs_of_the_empty_pattern() {
        let a = from_entries(6, &[(5, 5, 2.0)]);
        let c = encode(&a);
        assert_eq!(c.run_counts(), (1, 1));
        let mut y = vec![f64::NAN; 6];
        c.mult_vec(a.view(), 1.0, &[1.0; 6], 0.0, &mut y);
        assert_eq!(y, vec![0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
    }

    #[test]
    fn streamed_products_are_fenced_on_the_threads_that_stored() {
        // A 2^21-row diagonal (16 MiB of f64 output: streamed) in 8 row blocks on 2 threads.
        let n: usize = 1 << 21;
        let a = Csr::<f64, i32>::identity(n).unwrap();
        let bounds: Vec<usize> = (0..=8).map(|b| b * n / 8).collect();
        let c = Compressed::new(a.view(), bounds);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let x = vec![2.0; n];
        let mut y = vec![f64::NAN; n];
        pool.install(|| c.mult_vec(a.view(), 1.0, &x, 0.0, &mut y));
        assert!(y.iter().all(|&v| v == 2.0));
        stream::tests::assert_every_thread_fenced(&pool);
    }

    #[test]
    fn streamed_results_equal_stored_ones() {
        // A 1D stencil with an irregular row in the middle: pattern runs of lengths 3 and
        // plain rows, every unrolled and grouped path (GROUP) and the remainder rows.
        let n: usize = 1003;
        let mut t = Vec::new();
        for i in 0..n {
            for j in i.saturating_sub(1)..(i + 2).min(n) {
                t.push((i, j, (i * 7 + j * 3) as f64 / 11.0 - 40.0));
            }
            if i == 500 {
                t.push((i, 0, 0.5));
            }
        }
        let a = from_entries(n, &t);
        let c = encode(&a);
        let x: Vec<f64> = (0..n).map(|j| 1.0 / (1.0 + j as f64)).collect();
        let run = |stream: bool| {
            let mut y = vec![f64::NAN; n];
            let streaming = stream.then(Streaming::begin);
            let out = Out::new(-1.5, 0.0, streaming.as_ref());
            c.block(a.view(), 0..n, &x, out, &mut y);
            y
        };
        let (streamed, stored) = (run(true), run(false));
        assert!(stored.iter().all(|v| v.is_finite()));
        assert_eq!(
            streamed.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            stored.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
