//! SpMV and SpMM over contiguous row blocks (the `classical` and `load_balance` strategies):
//! each rayon task owns the matching chunk of `y`, so writes are disjoint. Every row is
//! summed in the reference kernel's order (`scalar::sum_of_products`), so a row's result does
//! not depend on the blocks and equals the reference kernel's bit for bit.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::dot::{Block, Out, PREFETCH_ENTRIES, accumulate, dot, dot_prefetch, finish_row, slots};
use super::gather;
use super::stream::{self, Streaming};
use crate::joined;
use crate::parallel::{balanced_row_blocks, piece_count};
use crate::scalar::SUM_LANES_MIN;
use crate::{CsrRef, Dense, Index, Scalar};

/// `classical`: `parts + 1` boundaries of blocks with equal numbers of rows.
pub(super) fn equal_rows(nrows: usize, parts: usize) -> Vec<usize> {
    let parts = parts.max(1);
    (0..=parts).map(|p| nrows * p / parts).collect()
}

/// Row blocks per thread of a `load_balance` SpMV: blocks of equal entries need not take
/// equal time (rows over scattered columns miss the cache on `x` where dense rows stream
/// it), so the threads take smaller blocks in turn rather than one each. On the rating
/// matrix of `bench/compare.py` (5000 × 50000, 0.94M entries, the most popular rows 85%
/// dense), 2 threads, the half of the entries in the longest rows took 0.26–0.42 ms and
/// the other half 0.36–0.61 ms; 16 blocks were never slower than 2 on it, the stencil or the
/// power-law matrix of the comparison, and up to 13% faster (the sweep:
/// `docs/spmv-strategies.md`, "`load_balance` blocks per thread").
const BLOCKS_PER_THREAD: usize = 8;

/// The least work (entries plus rows) of one of those blocks, so that a block stays some
/// microseconds of work, well above what handing a rayon task over costs (not measured on
/// its own: the sweep's blocks were all larger).
const MIN_BLOCK_WORK: usize = 1 << 14;

/// `load_balance`: boundaries of row blocks of about equal work ([`balanced_row_blocks`]):
/// one block where `parallel::piece_count` makes one piece (one thread, or less than two
/// pieces of `parallel::MIN_PARALLEL_WORK`), else up to [`BLOCKS_PER_THREAD`] per thread of
/// [`MIN_BLOCK_WORK`] or more, and at least one per thread. `row_ptrs` must be validated.
pub(super) fn balanced_blocks<I: Index>(row_ptrs: &[I]) -> Vec<usize> {
    let work = row_ptrs.len() - 1 + row_ptrs[row_ptrs.len() - 1].to_usize();
    let threads = piece_count(work);
    let blocks = if threads <= 1 {
        1
    } else {
        (work / MIN_BLOCK_WORK).clamp(threads, threads * BLOCKS_PER_THREAD)
    };
    balanced_row_blocks(row_ptrs, blocks)
}

/// Cuts `y` (one slot of `width` values per row) into the blocks' chunks.
pub(super) fn chunks<'y, T>(
    bounds: &[usize],
    width: usize,
    y: &'y mut [T],
) -> Vec<(Range<usize>, &'y mut [T])> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut rest = y;
    for w in bounds.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * width);
        out.push((w[0]..w[1], head));
        rest = tail;
    }
    out
}

/// `y = alpha * A * x + beta * y` on rows `rows` of the matrix `(ptrs, cols, vals)`, `y`
/// holding exactly those rows; with `prefetch`, `x` is asked for ahead of its reads (for
/// scattered columns); with `stream` and `beta = 0`, `y` is written past the cache. With
/// `check`, the columns are checked against `x.len()` as the rows are multiplied
/// ([`rows_into_checking`]): `false` when one is outside, `y` then partly written.
///
/// # Safety
/// `rows.end < ptrs.len()`; `ptrs` is non-decreasing over `rows.start..=rows.end` with
/// `ptrs[rows.end] <= cols.len(), vals.len()`; unless `check`, every column in the rows'
/// entries is below `x.len()`; unless `beta = 0`, `y` is initialised (every row of `y` is
/// written, and read only then).
#[allow(
    clippy::too_many_arguments,
    reason = "the matrix's arrays and rows, the options, then the SpMV's operands"
)]
unsafe fn vec_rows<T: Scalar, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    rows: Range<usize>,
    (prefetch, stream): (bool, bool),
    check: bool,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [MaybeUninit<T>],
) -> bool {
    // Fenced when dropped, on this thread.
    let streaming = (stream && beta == T::zero()).then(Streaming::begin);
    let arrays = (ptrs, cols, vals);
    // One loop per way of writing (the writer's fields are constants in each), so that the
    // usual beta = 0 loop neither tests them per row nor loads `y`.
    // SAFETY: each call forwards the caller's contract.
    unsafe {
        match streaming.as_ref() {
            Some(s) => rows_into_checking(
                arrays,
                rows,
                (prefetch, check),
                x,
                Out::new(alpha, T::zero(), Some(s)),
                y,
            ),
            None if beta == T::zero() => rows_into_checking(
                arrays,
                rows,
                (prefetch, check),
                x,
                Out::new(alpha, T::zero(), None),
                y,
            ),
            None => rows_into_checking(
                arrays,
                rows,
                (prefetch, check),
                x,
                Out::new(alpha, beta, None),
                y,
            ),
        }
    }
}

/// Entries whose columns [`rows_into_checking`] checks just before multiplying them: eight
/// cache lines of `i32` columns, read again from L1 by the product. Short spans keep the
/// check and the product one stream for the hardware prefetcher. On poisson2d:2000 (20M
/// entries), spans of 64 to 256 entries beat a separate validation pass and spans of 4096
/// did not; with 128, medians of alternating runs went 16.2 → 15.5 ms on 2 threads and
/// 36.7 → 30.4 ms on 1 (2026-12-05). Spans found by adapting their row count
/// ([`next_span_rows`]) rather than by a galloping search in the row pointers, the
/// `load_balance` handle's time over the one-call time (in-process alternation, 2 threads):
/// poisson2d:2000 0.81 → 0.86–0.91; powerlaw:200000:3 2.13 → 1.85 ms one-call (2026-12-06,
/// `bench/runs/2026-12-06-one-call-spans`).
const CHECK_SPAN: usize = 128;

/// [`rows_into`], and with `check` for rows whose columns nobody has checked: the columns of
/// each span of rows holding about [`CHECK_SPAN`] entries ([`next_span_rows`]) are checked
/// against `x.len()` (a vectorised pass) just before the span is multiplied, so the matrix
/// is read from memory once rather than once to validate and once to multiply. `false` at
/// the first span with a column outside `0..x.len()`, the spans before it written.
///
/// # Safety
/// As [`vec_rows`].
#[inline(always)]
unsafe fn rows_into_checking<T: Scalar, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    rows: Range<usize>,
    (prefetch, check): (bool, bool),
    x: &[T],
    out: Out<'_, T>,
    y: &mut [MaybeUninit<T>],
) -> bool {
    if !check {
        // SAFETY: the caller's contract, columns below x.len() included.
        unsafe { rows_into((ptrs, cols, vals), rows, prefetch, x, out, y) };
        return true;
    }
    let mut span_rows = 1;
    let mut start = rows.start;
    while start < rows.end {
        let end = start + span_rows.min(rows.end - start);
        let (first, past) = (ptrs[start].to_usize(), ptrs[end].to_usize());
        if I::any_outside(&cols[first..past], x.len()) {
            return false;
        }
        let ys = &mut y[start - rows.start..end - rows.start];
        // SAFETY: the caller's contract on ptrs, cols and vals, and the span's columns were
        // just checked to be below x.len().
        unsafe { rows_into((ptrs, cols, vals), start..end, prefetch, x, out, ys) };
        start = end;
        span_rows = next_span_rows(span_rows, past - first);
    }
    true
}

/// The number of rows of the next span of [`rows_into_checking`], from the last one's
/// rows and entries: doubled (up to [`CHECK_SPAN`] rows) below half of `CHECK_SPAN`
/// entries, cut in proportion (to one row at least) above twice it. Neighbouring rows have
/// similar lengths, so the spans settle near `CHECK_SPAN` entries at the cost of one
/// comparison per span, with no search in the row pointers. Rows longer than a span get a
/// span each from the second of them on.
#[inline(always)]
fn next_span_rows(rows: usize, entries: usize) -> usize {
    if entries < CHECK_SPAN / 2 {
        (rows * 2).min(CHECK_SPAN)
    } else if entries > CHECK_SPAN * 2 {
        // rows <= CHECK_SPAN: no overflow.
        (rows * CHECK_SPAN / entries).max(1)
    } else {
        rows
    }
}

/// [`vec_rows`] with its writer.
///
/// # Safety
/// As [`vec_rows`].
#[inline(always)]
unsafe fn rows_into<T: Scalar, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    rows: Range<usize>,
    prefetch: bool,
    x: &[T],
    out: Out<'_, T>,
    y: &mut [MaybeUninit<T>],
) {
    debug_assert_eq!(rows.len(), y.len());
    if gather::pays::<T, I>(ptrs, rows.clone()) {
        // SAFETY: forwarded from the caller.
        unsafe { gathered_rows_into((ptrs, cols, vals), rows, prefetch, x, out, y) };
        return;
    }
    for (r, yr) in rows.zip(y.iter_mut()) {
        // SAFETY: r + 1 <= rows.end < ptrs.len(), the row's range lies inside cols and vals
        // and its columns index x (caller).
        let sum = unsafe {
            let range = ptrs.get_unchecked(r).to_usize()..ptrs.get_unchecked(r + 1).to_usize();
            if prefetch {
                dot_prefetch(cols, vals, x, range)
            } else {
                dot(cols, vals, x, range)
            }
        };
        // SAFETY: unless beta = 0, `y` is initialised (the caller).
        unsafe { out.write_slot(sum, yr) };
    }
}

/// [`rows_into`] for a block of long rows ([`gather::pays`]): rows of
/// [`SUM_LANES_MIN`] entries or more through [`gather::dot`], the others as there. Its own
/// loop, so that the call in it leaves the loop over short rows untouched.
///
/// # Safety
/// As [`rows_into`].
#[inline(never)]
unsafe fn gathered_rows_into<T: Scalar, I: Index>(
    (ptrs, cols, vals): (&[I], &[I], &[T]),
    rows: Range<usize>,
    prefetch: bool,
    x: &[T],
    out: Out<'_, T>,
    y: &mut [MaybeUninit<T>],
) {
    let ahead = (
        cols.len().saturating_sub(PREFETCH_ENTRIES),
        PREFETCH_ENTRIES,
    );
    for (r, yr) in rows.zip(y.iter_mut()) {
        // SAFETY: as in `rows_into`.
        let sum = unsafe {
            let range = ptrs.get_unchecked(r).to_usize()..ptrs.get_unchecked(r + 1).to_usize();
            let gathered = if range.len() < SUM_LANES_MIN {
                None
            } else if prefetch {
                gather::dot::<true, T, I>(cols, vals, x, range.clone(), ahead)
            } else {
                gather::dot::<false, T, I>(cols, vals, x, range.clone(), ahead)
            };
            match gathered {
                Some(sum) => sum,
                None if prefetch => dot_prefetch(cols, vals, x, range),
                None => dot(cols, vals, x, range),
            }
        };
        // SAFETY: unless beta = 0, `y` is initialised (the caller).
        unsafe { out.write_slot(sum, yr) };
    }
}

/// `y = alpha * A * x + beta * y` over the row blocks `bounds` (a partition of the rows;
/// one block runs on the calling thread), prefetching `x` with `prefetch`, writing a large
/// `y` past the cache when `beta == 0` ([`stream::worth_streaming`]). Shapes already
/// checked.
pub(super) fn mult_vec<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    bounds: &[usize],
    prefetch: bool,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) {
    debug_assert!(x.len() == a.ncols() && y.len() == a.nrows());
    let arrays = (a.row_ptrs(), a.col_idxs(), a.values());
    // SAFETY: `a` is a validated CsrRef: its row pointers are non-decreasing up to nnz and
    // its columns are below ncols == x.len() (checked by the kernel); `y` is initialised
    // and the row loops write only sums into it.
    let all_inside =
        unsafe { mult_vec_blocks(arrays, bounds, (prefetch, false), alpha, x, beta, slots(y)) };
    debug_assert!(all_inside);
}

/// [`mult_vec`] (without prefetching) for a matrix given as arrays whose row pointers are
/// valid for `(cols, vals)` but whose columns nobody has checked: each block checks its
/// columns against `x.len()` as it multiplies them ([`rows_into_checking`]), so that the
/// matrix is read from memory once. `false` if some column is outside, `y` then partly
/// written; otherwise every row of `y` is written.
///
/// # Safety
/// `ptrs` has `y.len() + 1` entries, non-decreasing, the last at most `cols.len()` and
/// `vals.len()`; unless `beta = 0`, `y` is initialised.
pub(super) unsafe fn mult_vec_checking_columns<T: Scalar, I: Index>(
    arrays: (&[I], &[I], &[T]),
    bounds: &[usize],
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [MaybeUninit<T>],
) -> bool {
    // SAFETY: the caller's contract, and the columns are checked.
    unsafe { mult_vec_blocks(arrays, bounds, (false, true), alpha, x, beta, y) }
}

/// The row-block SpMV behind [`mult_vec`] and [`mult_vec_checking_columns`]: `false` when
/// `check` finds a column outside `0..x.len()`.
///
/// # Safety
/// As [`mult_vec_checking_columns`]; without `check`, every column is below `x.len()`.
unsafe fn mult_vec_blocks<T: Scalar, I: Index>(
    arrays: (&[I], &[I], &[T]),
    bounds: &[usize],
    (prefetch, check): (bool, bool),
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [MaybeUninit<T>],
) -> bool {
    debug_assert!(arrays.0.len() == y.len() + 1);
    debug_assert!(bounds.first() == Some(&0) && bounds.last() == Some(&y.len()));
    let stream = stream::worth_streaming::<T>(y.len());
    let work = |(rows, yc): (Range<usize>, &mut [MaybeUninit<T>])| {
        // SAFETY: the blocks partition 0..nrows (checked when the plan was made for this
        // matrix), and the caller's contract on the arrays.
        let inside =
            unsafe { vec_rows(arrays, rows, (prefetch, stream), check, alpha, x, beta, yc) };
        inside.then_some(()).ok_or(())
    };
    let blocks = chunks(bounds, 1, y);
    if blocks.len() <= 1 {
        return blocks.into_iter().try_for_each(work).is_ok();
    }
    // One task per block, so that a thread done early takes the next; from outside the
    // pool, the caller takes blocks too (`joined`). Each block is taken once.
    let blocks: Vec<Mutex<Option<_>>> = blocks.into_iter().map(|b| Mutex::new(Some(b))).collect();
    let outside = AtomicBool::new(false);
    joined::for_each_block(blocks.len(), &|i| {
        let taken = blocks[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if taken.is_some_and(|b| work(b).is_err()) {
            outside.store(true, Ordering::Relaxed);
        }
    });
    !outside.into_inner()
}

/// `Y = alpha * A * X + beta * Y` over the row blocks `bounds`, for row-major `X`
/// (`ncols x k`) and `Y` (`nrows x k`), shapes already checked. `Y` is written in place,
/// its stride and padding kept. Column `l` of `Y` equals `mult_vec` of column `l` of `X`
/// bit for bit.
pub(super) fn mult_dense<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    bounds: &[usize],
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) {
    let k = x.ncols();
    if a.nrows() == 0 || k == 0 {
        return;
    }
    let xb = Block::of(x);
    let (ptrs, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (ys, stride) = y.strided_mut();
    let work = |(rows, yc): (Range<usize>, &mut [T])| {
        let mut acc = vec![T::zero(); k];
        for (r, yr) in rows.zip(yc.chunks_exact_mut(stride)) {
            acc.fill(T::zero());
            // SAFETY: r < nrows (the blocks partition the rows), row_ptrs is a validated
            // CsrRef's, and X has ncols rows of k values (checked by the kernel).
            unsafe {
                let range = ptrs.get_unchecked(r).to_usize()..ptrs.get_unchecked(r + 1).to_usize();
                accumulate(cols, vals, xb, range, &mut acc);
            }
            finish_row(alpha, &acc, beta, &mut yr[..k]);
        }
    };
    let blocks = chunks(bounds, stride, ys);
    if blocks.len() <= 1 {
        blocks.into_iter().for_each(work);
    } else {
        blocks.into_par_iter().for_each(work);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Csr;
    use crate::scalar::finish;

    /// The spans of [`rows_into_checking`], walked over rows of changing lengths: they
    /// cover the rows in order, at least one row and at most `CHECK_SPAN` each; over a run of
    /// equal rows they settle within a factor two of `CHECK_SPAN` entries; in a run of rows
    /// longer than that, every span after the first is one row.
    #[test]
    fn spans_settle_near_the_target_length() {
        // (row length, rows): short rows, long rows, empty rows, one-entry rows, short rows.
        let runs = [
            (5, 4000),
            (3 * CHECK_SPAN, 50),
            (0, 3000),
            (1, 4000),
            (5, 2000),
        ];
        let mut ptrs = vec![0_usize];
        for &(len, count) in &runs {
            for _ in 0..count {
                ptrs.push(ptrs.last().unwrap() + len);
            }
        }
        let nrows = ptrs.len() - 1;
        let (mut start, mut rows, mut spans) = (0, 1, Vec::new());
        while start < nrows {
            let end = start + rows.min(nrows - start);
            spans.push(start..end);
            rows = next_span_rows(rows, ptrs[end] - ptrs[start]);
            start = end;
        }
        assert!(spans.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!((spans[0].start, spans.last().unwrap().end), (0, nrows));
        assert!(spans.iter().all(|s| (1..=CHECK_SPAN).contains(&s.len())));
        let entries = |s: &std::ops::Range<usize>| ptrs[s.end] - ptrs[s.start];
        let settled: Vec<_> = spans
            .iter()
            .filter(|s| s.start >= 1000 && s.end <= 4000)
            .collect();
        assert!(settled.len() > 10);
        assert!(
            settled
                .iter()
                .all(|s| (CHECK_SPAN / 2..=2 * CHECK_SPAN).contains(&entries(s)))
        );
        let long: Vec<_> = spans
            .iter()
            .filter(|s| s.end > 4000 && s.start < 4050)
            .collect();
        assert!(long.len() > 10 && long[1..].iter().all(|s| s.len() == 1));
    }

    /// A product whose `y` is large enough to stream (16 MiB of f64) gives the stored
    /// product's bits, with and without beta, and every thread that streamed fenced.
    #[test]
    fn streamed_products_equal_stored_ones_and_are_fenced() {
        let n: usize = 1 << 21;
        // Row r: (r, r) and (r, (r * 7) % n), values that round when summed.
        let (mut ptrs, mut cols, mut vals) = (vec![0_i32], Vec::new(), Vec::new());
        for r in 0..n {
            cols.extend([r as i32, ((r * 7) % n) as i32]);
            vals.extend([1.0 / (1.0 + r as f64), 0.1 * (r % 13) as f64]);
            ptrs.push(cols.len() as i32);
        }
        let a = Csr::<f64, i32>::try_from_parts(n, n, ptrs, cols, vals).unwrap();
        let x: Vec<f64> = (0..n).map(|j| 1.0 + (j % 7) as f64 / 3.0).collect();
        let bounds: Vec<usize> = (0..=8).map(|b| b * n / 8).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let bits = |y: &[f64]| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for beta in [0.0, 0.5] {
            let y0: Vec<f64> = (0..n).map(|r| (r % 5) as f64).collect();
            let mut streamed = y0.clone();
            pool.install(|| mult_vec(a.view(), &bounds, false, -1.5, &x, beta, &mut streamed));
            stream::tests::assert_every_thread_fenced(&pool);
            // Each row summed left to right from zero, then `finish`.
            let want: Vec<f64> = (0..n)
                .map(|r| {
                    let (c, v) = a.row(r);
                    let sum = c
                        .iter()
                        .zip(v)
                        .fold(0.0, |s, (&c, &v)| s + v * x[c as usize]);
                    finish(-1.5, sum, beta, y0[r])
                })
                .collect();
            assert_eq!(bits(&streamed), bits(&want), "beta = {beta}");
        }
    }
}
