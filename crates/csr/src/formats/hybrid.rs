//! [`Hybrid`]: an ELL part for the regular bulk of each row and a COO part for the rest,
//! split by a [`HybridStrategy`].

use rayon::prelude::*;

use super::common::{csr_convertible_format, fill_row_starts};
use super::format::MatrixFormat;
use super::padded::{self, Overflow};
use crate::error::{Error, Result};
use crate::parallel::{
    MIN_PARALLEL_WORK, balanced_row_blocks, piece_count, try_zeroed, zeroed_output,
};
use crate::{Coo, Csr, CsrRef, Ell, Index, Scalar};

/// How a [`Hybrid`] matrix chooses its ELL width from the row lengths (Ginkgo's strategies,
/// with Ginkgo's arithmetic: percentages and ratios in `f32`).
///
/// Whatever the strategy, the width is capped at the number of columns (as Ginkgo does).
///
/// # Examples
///
/// ```
/// use csr::HybridStrategy;
///
/// let lens = [1, 5, 2, 2, 3];
/// assert_eq!(HybridStrategy::ColumnLimit(4).ell_width::<f64, i32>(&lens), 4);
/// // Sorted [1, 2, 2, 3, 5]: position floor(5 * 0.8) = 4.
/// assert_eq!(HybridStrategy::ImbalanceLimit(0.8).ell_width::<f64, i32>(&lens), 5);
/// // Position floor(5 / 3) = 1, then at most floor(5 * 0.001) = 0.
/// assert_eq!(HybridStrategy::Automatic.ell_width::<f64, i32>(&lens), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum HybridStrategy {
    /// A fixed width (Ginkgo's `column_limit(n)`, default 0: everything in COO).
    ColumnLimit(usize),
    /// The row length at position `floor(nrows * percent)` of the sorted lengths, so at
    /// least that share of rows fits the ELL part entirely (Ginkgo's `imbalance_limit`,
    /// default 0.8; `percent` is clamped to `0..=1`, and 1 takes the longest row).
    ImbalanceLimit(f32),
    /// [`HybridStrategy::ImbalanceLimit`], but at most `floor(nrows * ratio)` (Ginkgo's
    /// `imbalance_bounded_limit`, defaults 0.8 and 0.0001).
    ImbalanceBoundedLimit {
        /// As in [`HybridStrategy::ImbalanceLimit`].
        percent: f32,
        /// The bound on the width, relative to the number of rows.
        ratio: f32,
    },
    /// The imbalance limit at `percent = size(I) / (size(T) + 2 size(I))`, the share of
    /// rows above which an ELL slot costs more than the COO entry it replaces (Ginkgo's
    /// `minimal_storage_limit`; 0.25 for `f64` values and `i32` indices).
    MinimalStorage,
    /// `ImbalanceBoundedLimit { percent: 1/3, ratio: 0.001 }` (Ginkgo's `automatic`, its
    /// default).
    #[default]
    Automatic,
}

impl HybridStrategy {
    /// The ELL width this strategy picks for rows of the given lengths (before the cap at
    /// the number of columns).
    #[must_use]
    pub fn ell_width<T: Scalar, I: Index>(&self, row_lengths: &[usize]) -> usize {
        match *self {
            Self::ColumnLimit(n) => n,
            Self::ImbalanceLimit(percent) => imbalance_limit(row_lengths, percent),
            Self::ImbalanceBoundedLimit { percent, ratio } => {
                bounded_limit(row_lengths, percent, ratio)
            }
            Self::MinimalStorage => {
                let (t, i) = (std::mem::size_of::<T>(), std::mem::size_of::<I>());
                // Computed in f64, stored in f32 as Ginkgo does.
                #[allow(clippy::cast_possible_truncation, reason = "Ginkgo's float percent")]
                let percent = (i as f64 / (t + 2 * i) as f64) as f32;
                imbalance_limit(row_lengths, percent)
            }
            Self::Automatic => bounded_limit(row_lengths, 1.0 / 3.0, 0.001),
        }
    }
}

/// `floor(n * x)` in `f32`, as Ginkgo computes it (a negative or NaN product gives 0).
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "Ginkgo's float arithmetic, saturating"
)]
fn scaled(n: usize, x: f32) -> usize {
    (n as f32 * x) as usize
}

fn imbalance_limit(row_lengths: &[usize], percent: f32) -> usize {
    if row_lengths.is_empty() {
        return 0;
    }
    let percent = percent.clamp(0.0, 1.0);
    let n = row_lengths.len();
    let pos = if percent < 1.0 {
        scaled(n, percent).min(n - 1)
    } else {
        n - 1
    };
    nth_smallest(row_lengths, pos)
}

/// Row lengths up to this are counted in a histogram by [`nth_smallest`]; longer ones are
/// selected among themselves.
const HISTOGRAM_LEN: usize = 4096;

/// The value at position `pos` (`< lengths.len()`) of the sorted lengths, as Ginkgo reads it
/// after sorting: counted in parallel into a histogram of the short lengths, the long ones
/// (rarer) kept aside and selected among themselves only if the position falls there. No
/// copy of the lengths, no sort.
fn nth_smallest(lengths: &[usize], pos: usize) -> usize {
    let count = |chunk: &[usize]| {
        let mut hist = vec![0usize; HISTOGRAM_LEN + 1];
        let mut long = Vec::new();
        for &l in chunk {
            match hist.get_mut(l) {
                Some(h) => *h += 1,
                None => long.push(l),
            }
        }
        (hist, long)
    };
    let (hist, mut long) = lengths.par_chunks(MIN_PARALLEL_WORK).map(count).reduce(
        || count(&[]),
        |(mut h, mut l), (h2, l2)| {
            h.iter_mut().zip(h2).for_each(|(a, b)| *a += b);
            l.extend(l2);
            (h, l)
        },
    );
    let mut seen = 0;
    for (len, &n) in hist.iter().enumerate() {
        seen += n;
        if pos < seen {
            return len;
        }
    }
    // pos < lengths.len() = seen + long.len().
    *long.select_nth_unstable(pos - seen).1
}

fn bounded_limit(row_lengths: &[usize], percent: f32, ratio: f32) -> usize {
    imbalance_limit(row_lengths, percent).min(scaled(row_lengths.len(), ratio))
}

/// A sparse matrix as an [`Ell`] part (the first `width` entries of each row) plus a
/// [`Coo`] part (the rest of the longer rows), as Ginkgo's `Hybrid`.
///
/// # Invariants (checked by [`Hybrid::try_from_parts`])
/// The two parts have the same shape (each part's own invariants hold).
///
/// # Examples
///
/// ```
/// use csr::{Csr, Hybrid, HybridStrategy};
///
/// let a = Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 3, 5], vec![0, 1, 2, 0, 1], vec![1.0, 3.0, 2.0, 0.0, 5.0])?;
/// let h = Hybrid::from_csr_with(a.view(), HybridStrategy::ColumnLimit(2))?;
/// assert_eq!(h.ell().width(), 2);
/// assert_eq!(h.coo().values(), &[2.0]);
/// assert_eq!(Csr::try_from(&h)?, a);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Hybrid<T, I = i32> {
    ell: Ell<T, I>,
    coo: Coo<T, I>,
}

impl<T: Scalar, I: Index> Hybrid<T, I> {
    /// Joins an ELL part and a COO part of the same shape.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if their shapes differ.
    pub fn try_from_parts(ell: Ell<T, I>, coo: Coo<T, I>) -> Result<Self> {
        if ell.shape() != coo.shape() {
            return Err(Error::DimensionMismatch {
                op: "hybrid",
                lhs: ell.shape(),
                rhs: coo.shape(),
            });
        }
        Ok(Self { ell, coo })
    }

    /// The hybrid form of a CSR matrix with the [`HybridStrategy::Automatic`] split.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if the ELL part cannot be allocated.
    pub fn from_csr(a: CsrRef<'_, T, I>) -> Result<Self> {
        Self::from_csr_with(a, HybridStrategy::Automatic)
    }

    /// The hybrid form of a CSR matrix: the ELL width is the strategy's choice capped at
    /// `ncols`; each row's first `width` entries go to ELL (stride `nrows`), the rest to COO,
    /// in storage order. Parallel.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if the ELL part cannot be allocated.
    pub fn from_csr_with(a: CsrRef<'_, T, I>, strategy: HybridStrategy) -> Result<Self> {
        let ptrs = a.row_ptrs();
        let mut lengths = Vec::with_capacity(a.nrows());
        (0..a.nrows())
            .into_par_iter()
            .map(|r| ptrs[r + 1].to_usize() - ptrs[r].to_usize())
            .collect_into_vec(&mut lengths);
        let width = strategy.ell_width::<T, I>(&lengths).min(a.ncols());
        let ell = Ell::from_csr_parts(a, width, a.nrows())?;
        // COO part: entries width.. of each row.
        let extra = |r: usize| lengths[r].saturating_sub(width);
        if lengths.par_iter().all(|&l| l <= width) {
            let coo = Coo::try_from_parts(a.nrows(), a.ncols(), vec![], vec![], vec![])?;
            return Ok(Self { ell, coo });
        }
        let mut starts = Vec::with_capacity(a.nrows() + 1);
        starts.push(0usize);
        let mut total = 0usize;
        for r in 0..a.nrows() {
            total += extra(r);
            starts.push(total);
        }
        let mut rows = zeroed_output(total);
        let mut cols = zeroed_output(total);
        let mut vals = zeroed_output(total);
        let bounds = balanced_row_blocks(&starts, piece_count(total + a.nrows()));
        let mut pieces = Vec::with_capacity(bounds.len());
        let (mut rr, mut cr, mut vr) = (
            rows.as_mut_slice(),
            cols.as_mut_slice(),
            vals.as_mut_slice(),
        );
        for w in bounds.windows(2) {
            let n = starts[w[1]] - starts[w[0]];
            let (r, r2) = rr.split_at_mut(n);
            let (c, c2) = cr.split_at_mut(n);
            let (v, v2) = vr.split_at_mut(n);
            (rr, cr, vr) = (r2, c2, v2);
            pieces.push((w[0]..w[1], r, c, v));
        }
        pieces.into_par_iter().for_each(|(block, ro, co, vo)| {
            let base = starts[block.start];
            for r in block {
                let out = starts[r] - base..starts[r + 1] - base;
                let src = ptrs[r].to_usize() + width.min(lengths[r])..ptrs[r + 1].to_usize();
                // r < nrows, which fits I (CSR invariant).
                ro[out.clone()].fill(I::truncate(r));
                co[out.clone()].copy_from_slice(&a.col_idxs()[src.clone()]);
                vo[out].copy_from_slice(&a.values()[src]);
            }
        });
        let coo = Coo::try_from_parts(a.nrows(), a.ncols(), rows, cols, vals)?;
        Ok(Self { ell, coo })
    }

    /// The CSR form: each row's ELL entries, then its COO entries. Parallel.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if the number of entries does not fit `I`.
    pub fn to_csr(&self) -> Result<Csr<T, I>> {
        // nrows + 1 fits usize: every constructor checks it.
        let mut ptrs = try_zeroed(self.coo.nrows() + 1, "row pointer array")?;
        fill_row_starts(self.coo.row_idxs(), &mut ptrs, |p| p);
        let overflow = Overflow {
            ptrs: &ptrs,
            cols: self.coo.col_idxs(),
            vals: self.coo.values(),
        };
        padded::to_csr(&self.ell, Some(&overflow))
    }

    /// Takes the matrix apart: `(ell, coo)`.
    #[must_use]
    pub fn into_parts(self) -> (Ell<T, I>, Coo<T, I>) {
        (self.ell, self.coo)
    }

    /// The ELL part.
    #[must_use]
    pub fn ell(&self) -> &Ell<T, I> {
        &self.ell
    }

    /// The COO part.
    #[must_use]
    pub fn coo(&self) -> &Coo<T, I> {
        &self.coo
    }

    /// `(nrows, ncols)`.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        self.ell.shape()
    }

    /// The number of slots of both parts, ELL padding included.
    #[must_use]
    pub fn stored_slots(&self) -> usize {
        self.ell.stored_slots() + self.coo.nnz()
    }

    /// The bytes of both parts' arrays.
    #[must_use]
    pub fn storage_bytes(&self) -> usize {
        self.ell.storage_bytes() + MatrixFormat::<T, I>::storage_bytes(&self.coo)
    }

    /// The same matrix with every value mapped by `f` (padding stays zero).
    #[must_use]
    pub fn map_values<U: Scalar>(&self, f: impl Fn(T) -> U + Sync) -> Hybrid<U, I> {
        Hybrid {
            ell: self.ell.map_values(&f),
            coo: self.coo.map_values(&f),
        }
    }

    /// `y = alpha * A * x + beta * y`: the ELL part's SpMV, then the COO part's added.
    /// With `beta == 0` the old `y` is not read.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    pub fn mult_vec(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
        self.ell.mult_vec(alpha, x, beta, y)?;
        self.coo.mult_vec(alpha, x, T::one(), y)
    }
}

csr_convertible_format!(Hybrid, "hybrid");

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{HISTOGRAM_LEN, nth_smallest};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The counted selection equals reading the sorted lengths, with lengths on both
        /// sides of the histogram's end and enough of them for several parallel pieces.
        #[test]
        fn nth_smallest_is_the_sorted_value(
            short in prop::collection::vec(0..12usize, 0..3000),
            long in prop::collection::vec(HISTOGRAM_LEN - 2..HISTOGRAM_LEN + 3000, 0..50),
            copies in 1..80usize,
            at in 0.0..1.0f64,
        ) {
            let mut lengths: Vec<usize> = short.iter().chain(&long).copied().collect();
            lengths = lengths.repeat(copies);
            prop_assume!(!lengths.is_empty());
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "a test position")]
            let pos = ((lengths.len() as f64 * at) as usize).min(lengths.len() - 1);
            let mut sorted = lengths.clone();
            sorted.sort_unstable();
            prop_assert_eq!(nth_smallest(&lengths, pos), sorted[pos]);
        }
    }
}
