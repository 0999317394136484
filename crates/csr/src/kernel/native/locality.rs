//! How scattered a matrix's columns are: the share of entries whose column lies far from
//! their row, estimated on a sample of rows when a plan is made. Scattered columns make
//! every read of `x` a cache miss, which the row loops answer by prefetching `x`
//! ([`super::dot::dot_prefetch`]).

use std::ops::Range;

use crate::{CsrRef, Index, Scalar};

/// An entry is *far* when its column lies more than this many positions from its row: its
/// neighbourhood of `x` (twice this many values, 512 KiB of f64) no longer fits in a core's
/// L2 cache beside the matrix stream.
pub(super) const LOCAL_SPAN: usize = 1 << 15;

/// Columns are *scattered* when at least this share of the entries is far.
pub(super) const SCATTERED_SHARE: f64 = 0.5;

/// Rows per sampled window and the number of windows.
const SAMPLE_ROWS: usize = 256;
const SAMPLE_WINDOWS: usize = 64;

/// The share of `a`'s entries lying more than [`LOCAL_SPAN`] columns from their row,
/// estimated on [`SAMPLE_WINDOWS`] windows of [`SAMPLE_ROWS`] rows spread over `a` (all of
/// `a` when it is that small).
pub(super) fn far_share<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> f64 {
    let (ptrs, cols) = (a.row_ptrs(), a.col_idxs());
    let (mut far, mut total) = (0usize, 0usize);
    for r in sample_windows(a.nrows(), SAMPLE_ROWS, SAMPLE_WINDOWS)
        .into_iter()
        .flatten()
    {
        for c in &cols[ptrs[r].to_usize()..ptrs[r + 1].to_usize()] {
            total += 1;
            far += usize::from(c.to_usize().abs_diff(r) > LOCAL_SPAN);
        }
    }
    if total == 0 {
        0.0
    } else {
        far as f64 / total as f64
    }
}

/// `x` smaller than this stays in the last-level cache (35.8 MiB here, shared), where its
/// scattered reads are cheap enough that prefetching them costs more than it saves:
/// powerlaw:1m (8 MB of f64) ran 47.7–50.6 ms without the prefetch and 50.7–55.6 ms with it
/// (`csr bench --reps 7 --spmv-only powerlaw:1m`, quiet machine, `compressed` against
/// `load_balance`), while the permuted stencil (32 MB) gained 1.32× from it.
const MIN_SCATTERED_X_BYTES: usize = 8 << 20;

/// `windows` windows of `rows` consecutive rows spread evenly over `0..n`, first and last
/// included, or all of `0..n` when it is no longer than them together: the rows a plan
/// samples to judge a matrix cheaply.
pub(super) fn sample_windows(n: usize, rows: usize, windows: usize) -> Vec<Range<usize>> {
    if n <= rows * windows || windows < 2 {
        std::iter::once(0..n).collect()
    } else {
        (0..windows)
            .map(|w| {
                let start = (n - rows) * w / (windows - 1);
                start..start + rows
            })
            .collect()
    }
}

/// Whether `a`'s columns are scattered (see [`SCATTERED_SHARE`]) over an `x` too large for
/// the cache.
pub(super) fn is_scattered<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> bool {
    a.ncols().saturating_mul(size_of::<T>()) >= MIN_SCATTERED_X_BYTES
        && far_share(a) >= SCATTERED_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Csr;
    use crate::generate::{Generator, permute_symmetric};

    #[test]
    fn a_stencil_is_local_and_its_random_renumbering_scattered() {
        let g: Generator = "poisson2d:400".parse().unwrap();
        let a: Csr<f64, i32> = g.build(3).unwrap();
        assert_eq!(far_share(a.view()), 0.0);
        assert!(!is_scattered(a.view()));
        let p = permute_symmetric(&a, 5).unwrap();
        // 160 000 rows numbered at random: about (1 - span / n)² = 63% of the entries far.
        let share = far_share(p.view());
        assert!((0.4..0.8).contains(&share), "far share {share}");
        // Scattered, but x (1.3 MB) stays in cache: no prefetch.
        assert!(!is_scattered(p.view()));
        let big: Csr<f64, i32> = permute_symmetric(
            &"poisson2d:1100"
                .parse::<Generator>()
                .unwrap()
                .build(3)
                .unwrap(),
            5,
        )
        .unwrap();
        assert!(is_scattered(big.view()));
        assert_eq!(far_share(Csr::<f64, i32>::empty(3, 0).unwrap().view()), 0.0);
    }

    #[test]
    fn sample_windows_span_the_rows() {
        assert_eq!(sample_windows(10, 4, 3), vec![0..10]);
        assert_eq!(sample_windows(100, 10, 3), vec![0..10, 45..55, 90..100]);
        assert_eq!(sample_windows(0, 10, 3), vec![0..0]);
    }
}
