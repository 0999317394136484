//! The `automatic` strategy: what to run, decided once per handle from the row statistics
//! and the thread count.
//!
//! The thresholds are named constants with the measurement behind each (the sweep is in
//! `docs/spmv-strategies.md`, with the command that produced it).

use super::compressed::{self, Compressed};
use super::locality::{self, SCATTERED_SHARE};
use super::tiled;
use crate::parallel::{MIN_PARALLEL_WORK, balanced_row_blocks};
use crate::{CsrRef, Index, RowStats, Scalar, Strategy};

/// A row holding more than this share of the matrix's work (entries + rows) makes row
/// blocks uneven (on 2 threads the block holding it ends up to half that share of the work
/// above the other), so `automatic` splits rows (`merge_path`) above it; below it
/// `load_balance` is faster and sums every row exactly like the reference kernel. The test
/// does not involve the thread count, so the choice, and with it every result, is the same
/// under every pool. Measured (`csr bench --spmv-only --reps 21`, f64, 2 threads):
/// `merge_path` lost to `load_balance` with the longest row at 4.9 % of the work
/// (`powerlaw:100k:2:1.1`, 1.36 ms against 0.76), 5.9 % (`powerlaw:100k:16:1.1`, 5.20
/// against 3.81) and 7.9 % (`powerlaw:100k:4:1.1`, 2.04 against 1.68): its tiles cost about
/// 1.3–1.8× the row loop on short rows here, which an imbalance of half the share repays
/// only past about a quarter of the work (an earlier 2.5 % had been set before any of these
/// ran).
pub(super) const LONG_ROW_SHARE: f64 = 0.25;

/// `compressed` is picked when its encoding replaces the column indices of at least this
/// share of the entries: then SpMV reads about 8 B per entry instead of 12 (f64 values).
pub(super) const COMPRESSED_MIN_COVERAGE: f64 = 0.5;

/// `tiled` needs an `x` of at least this many bytes (half a core's 2 MiB L2 cache): a
/// smaller one mostly stays in the L2 cache under the row loops too. Measured
/// (`csr bench --spmv-only`, f64, `tiled` against the faster of `classical` and
/// `load_balance`): at x = 0.8 MB the runs were mixed, `powerlaw:100k:16:1.1` 3.50 ms against
/// 3.25 and 3.46 against 3.81, `powerlaw:100k:2:1.1` 0.64 against 0.63, `powerlaw:100k:4:1.1`
/// 1.22 against 1.66; at 1.6 MB (`powerlaw:200k`) 5.13 against 6.90 and 4.79 against 7.99.
/// So the threshold sits where `tiled` won every run; below it is left to a finer sweep.
pub(super) const TILED_MIN_X_BYTES: usize = 1 << 20;

/// `tiled` runs each band on one thread, so one row holding more than this share of the work
/// would leave the other threads idle: above it `merge_path` splits the row instead. A guard
/// from the thread count of this machine (half of the work on one of 2 threads), not a
/// measured break-even; below it, `tiled` goes before `merge_path` (`powerlaw:200k`, longest
/// row above `LONG_ROW_SHARE`: 5.13 ms `tiled` against 7.55 `merge_path`).
pub(super) const TILED_MAX_ROW_SHARE: f64 = 0.5;

/// `tiled` needs at least this many entries per cache line of a tile's slice of `x` (for
/// evenly spread columns; [`tiled::entries_per_line`]): each tile reads its whole slice, and
/// sparser tiles pay for it more than the cache hits save. Measured
/// (`csr bench --spmv-only --reps 5`, f64, best plain strategy against `tiled`):
/// `powerlaw:4m:2` (0.51 per line) 59 ms against 68; `powerlaw:4m:3` (0.77) 85 against 70;
/// the permuted stencil (1.28) 104–124 against 83–84; powerlaw:1m (15) 45–47 against 24.
pub(super) const TILED_MIN_ENTRIES_PER_LINE: f64 = 0.65;

/// The strategy `automatic` runs for matrix `a` (row statistics `stats`) on `threads`
/// threads in `parts` row blocks, why, and the encoding when it picked `compressed`.
pub(super) fn choose<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    stats: &RowStats,
    threads: usize,
    parts: usize,
) -> (Strategy, String, Option<Box<Compressed>>) {
    let (strategy, why) = by_row_lengths(stats, threads);
    if stats.nnz == 0 {
        return (strategy, why, None);
    }
    if let Some(why) = tiled_reason(a, stats) {
        return (Strategy::Tiled, why, None);
    }
    // Rows of even length: worth checking whether they repeat a pattern of offsets. A sample
    // of rows decides cheaply before the whole matrix is encoded.
    if strategy == Strategy::MergePath || compressed::sampled_coverage(a) < COMPRESSED_MIN_COVERAGE
    {
        return (strategy, why, None);
    }
    let encoding = Compressed::new(a, balanced_row_blocks(a.row_ptrs(), parts));
    let coverage = encoding.coverage(stats.nnz);
    if coverage < COMPRESSED_MIN_COVERAGE {
        return (strategy, why, None);
    }
    let (runs, _) = encoding.run_counts();
    let why = format!(
        "{:.1}% of the entries lie in {runs} runs of rows sharing their column offsets \
         (>= {:.0}%): compressed indices",
        100.0 * coverage,
        100.0 * COMPRESSED_MIN_COVERAGE
    );
    (Strategy::Compressed, why, Some(Box::new(encoding)))
}

/// Why `tiled` suits `a` (row statistics `stats`), if it does: an `x` past half the L2
/// cache, scattered columns, tiles dense enough and no row holding most of the work.
fn tiled_reason<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, stats: &RowStats) -> Option<String> {
    let x_bytes = a.ncols().saturating_mul(size_of::<T>());
    let work = stats.nnz + stats.nrows;
    if x_bytes < TILED_MIN_X_BYTES
        || stats.max as f64 > TILED_MAX_ROW_SHARE * work as f64
        || !tiled::fits(a.ncols())
    {
        return None;
    }
    let per_line = tiled::entries_per_line::<T>(a.nrows(), a.ncols(), a.nnz());
    if per_line < TILED_MIN_ENTRIES_PER_LINE {
        return None;
    }
    let far = locality::far_share(a);
    (far >= SCATTERED_SHARE).then(|| {
        format!(
            "x is {:.1} MiB (>= {} MiB) and {:.0}% of the entries lie far from their row \
             (>= {:.0}%), about {per_line:.1} entries per cache line of x in a tile \
             (>= {TILED_MIN_ENTRIES_PER_LINE}): tiles keep x in the L2 cache",
            x_bytes as f64 / f64::from(1 << 20),
            TILED_MIN_X_BYTES >> 20,
            100.0 * far,
            100.0 * SCATTERED_SHARE
        )
    })
}

/// The choice among the plain strategies from the row lengths alone. Row blocks are
/// [`MIN_PARALLEL_WORK`] or more (see `parallel::piece_count`), so below twice that the row
/// loop runs serially.
fn by_row_lengths(stats: &RowStats, threads: usize) -> (Strategy, String) {
    let work = stats.nnz + stats.nrows;
    if work < MIN_PARALLEL_WORK {
        let why = format!("small ({work} entries + rows < {MIN_PARALLEL_WORK}): serial row loop");
        return (Strategy::Classical, why);
    }
    let longest = stats.max as f64 / work as f64;
    let percent = |share: f64| 100.0 * share;
    if longest > LONG_ROW_SHARE {
        let why = format!(
            "longest row ({}) is {:.1}% of the work (> {:.1}%): merge-path tiles split it",
            stats.max,
            percent(longest),
            percent(LONG_ROW_SHARE)
        );
        (Strategy::MergePath, why)
    } else if threads <= 1 || work < 2 * MIN_PARALLEL_WORK {
        let why = if threads <= 1 {
            String::from("one thread: serial row loop")
        } else {
            format!("{work} entries + rows make one piece of work: serial row loop")
        };
        (Strategy::Classical, why)
    } else {
        let why = format!(
            "longest row ({}) is {:.2}% of the work (<= {:.1}%): nnz-balanced row blocks",
            stats.max,
            percent(longest),
            percent(LONG_ROW_SHARE)
        );
        (Strategy::LoadBalance, why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(nrows: usize, nnz: usize, max: usize) -> RowStats {
        RowStats {
            nrows,
            nnz,
            min: 0,
            max,
            mean: nnz as f64 / nrows.max(1) as f64,
            empty_rows: 0,
        }
    }

    #[test]
    fn small_or_single_threaded_runs_serially() {
        assert_eq!(
            by_row_lengths(&stats(100, 5_000, 80), 2).0,
            Strategy::Classical
        );
        assert_eq!(
            by_row_lengths(&stats(1 << 20, 1 << 24, 5), 1).0,
            Strategy::Classical
        );
    }

    #[test]
    fn long_rows_split_whatever_the_thread_count() {
        for threads in [1, 2, 7] {
            let s = stats(1 << 20, 1 << 24, 1 << 23);
            assert_eq!(by_row_lengths(&s, threads).0, Strategy::MergePath);
        }
    }

    #[test]
    fn long_rows_split_short_rows_balance() {
        assert_eq!(
            by_row_lengths(&stats(1 << 20, 5 << 20, 5), 2).0,
            Strategy::LoadBalance
        );
        // A row of 1/6 of the work: balanced blocks still win.
        assert_eq!(
            by_row_lengths(&stats(1 << 20, 5 << 20, 1 << 20), 2).0,
            Strategy::LoadBalance
        );
        assert_eq!(
            by_row_lengths(&stats(1 << 20, 5 << 20, 3 << 20), 2).0,
            Strategy::MergePath
        );
    }
}
