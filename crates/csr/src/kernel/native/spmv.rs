//! The SpMV plan a native handle keeps: the strategy it runs (what `automatic` resolved to)
//! and the partition that strategy needs, computed once when the handle is made; and the
//! dispatch of `mult_vec` / `mult_dense` to the strategy's code.

use super::compressed::Compressed;
use super::merge_path::Tiles;
use super::sparselib::{self, Operands, Vendor};
use super::tiled::Tiled;
use super::{automatic, locality, merge_path, rows, tiled};
use crate::error::Result;
use crate::parallel::{balanced_row_blocks, piece_count};
use crate::{CsrRef, Dense, Index, RowStats, Scalar, Strategy};

/// How a strategy splits the work.
#[derive(Clone, Debug)]
enum Layout<T> {
    /// Contiguous row blocks (`classical`, `load_balance`): `parts + 1` boundaries (a single
    /// block runs on the calling thread), and whether the columns are scattered enough to
    /// prefetch `x`.
    Rows(Vec<usize>, bool),
    /// Merge-path tiles (`merge_path`).
    Merge(Tiles),
    /// The vendor library (`sparselib`): MKL's matrices, prepared once.
    Sparselib(Vendor),
    /// The compact index encoding (`compressed`) and its row blocks.
    Compressed(Box<Compressed>),
    /// The tiled copy (`tiled`).
    Tiled(Box<Tiled<T>>),
}

/// The SpMV strategy and partition of one matrix.
#[derive(Clone, Debug)]
pub(crate) struct SpmvPlan<T> {
    strategy: Strategy,
    reason: String,
    /// The matrix the plan was made for: its shape and where its column indices live (a
    /// mismatch means the plan is stale; `compressed` must never read another matrix).
    nrows: usize,
    nnz: usize,
    cols_at: usize,
    layout: Layout<T>,
}

impl<T: Scalar> SpmvPlan<T> {
    /// Plans SpMV for `a` with its strategy ([`CsrRef::strategy`]) on the current rayon
    /// pool; `automatic` decides from `a`'s row statistics.
    pub(crate) fn new<I: Index>(a: CsrRef<'_, T, I>) -> Self {
        let threads = rayon::current_num_threads();
        let (nrows, nnz) = (a.nrows(), a.nnz());
        let parts = piece_count(nnz + nrows);
        let (strategy, reason, compressed) = match a.strategy() {
            Strategy::Automatic => automatic::choose(a, &RowStats::of(a), threads, parts),
            requested => (requested, String::from("requested"), None),
        };
        let (strategy, reason) = if strategy == Strategy::Tiled && !tiled::fits(a.ncols()) {
            let why = format!(
                "tiled was asked for, but {} columns make more than {} tiles per band: \
                 load_balance instead",
                a.ncols(),
                tiled::MAX_TILES
            );
            (Strategy::LoadBalance, why)
        } else {
            (strategy, reason)
        };
        let scattered = || locality::is_scattered(a);
        let layout = match strategy {
            Strategy::Classical => Layout::Rows(rows::equal_rows(nrows, parts), scattered()),
            Strategy::MergePath => Layout::Merge(Tiles::new(a.row_ptrs())),
            Strategy::Sparselib => Layout::Sparselib(Vendor::new(a)),
            Strategy::Compressed => Layout::Compressed(compressed.unwrap_or_else(|| {
                Box::new(Compressed::new(a, balanced_row_blocks(a.row_ptrs(), parts)))
            })),
            Strategy::Tiled => Layout::Tiled(Box::new(Tiled::new(a))),
            Strategy::LoadBalance | Strategy::Automatic => {
                Layout::Rows(rows::balanced_blocks(a.row_ptrs()), scattered())
            }
        };
        let mut reason = reason;
        if a.strategy() == Strategy::Automatic && matches!(layout, Layout::Rows(_, true)) {
            reason.push_str("; scattered columns: x prefetched");
        }
        Self {
            strategy,
            reason,
            nrows,
            nnz,
            cols_at: a.col_idxs().as_ptr() as usize,
            layout,
        }
    }

    /// The strategy the plan runs (never `automatic`).
    pub(crate) fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Whether the plan, made for `a`, runs in one row block on the calling thread, with no
    /// rayon call (the row loops and `compressed` in one block).
    pub(crate) fn runs_serially_for<I: Index>(&self, a: CsrRef<'_, T, I>) -> bool {
        let one_block = match &self.layout {
            Layout::Rows(bounds, _) => bounds.len() <= 2,
            Layout::Compressed(c) => c.bounds().len() <= 2,
            Layout::Merge(_) | Layout::Sparselib(_) | Layout::Tiled(_) => false,
        };
        one_block && self.made_for(a)
    }

    /// Whether the plan, made for `a`, runs contiguous row blocks (`classical`,
    /// `load_balance`), whose only parallel step is [`joined::for_each_block`]: a caller
    /// outside the pool may then run it under [`joined::with_helpers`].
    ///
    /// [`joined::for_each_block`]: crate::joined
    /// [`joined::with_helpers`]: crate::joined::with_helpers
    pub(crate) fn runs_row_blocks_for<I: Index>(&self, a: CsrRef<'_, T, I>) -> bool {
        matches!(self.layout, Layout::Rows(..)) && self.made_for(a)
    }

    /// Whether the plan was made for `a`'s shape and column array (else it is stale).
    fn made_for<I: Index>(&self, a: CsrRef<'_, T, I>) -> bool {
        self.nrows == a.nrows()
            && self.nnz == a.nnz()
            && self.cols_at == a.col_idxs().as_ptr() as usize
    }

    /// Why the strategy was chosen (`"requested"` unless `automatic` chose it).
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    /// `self` if it was made for `a`'s shape, else a fresh plan in `fresh`.
    fn for_matrix<'p, I: Index>(
        &'p self,
        a: CsrRef<'_, T, I>,
        fresh: &'p mut Option<SpmvPlan<T>>,
    ) -> &'p SpmvPlan<T> {
        if self.made_for(a) {
            self
        } else {
            fresh.insert(SpmvPlan::new(a))
        }
    }

    /// `y = alpha * A * x + beta * y`, shapes already checked.
    ///
    /// # Errors
    /// Only `sparselib`: [`crate::Error::KernelUnavailable`] when the vendor library is.
    pub(super) fn mult_vec<I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        let mut fresh = None;
        match &self.for_matrix(a, &mut fresh).layout {
            Layout::Rows(bounds, prefetch) => {
                rows::mult_vec(a, bounds, *prefetch, alpha, x, beta, y);
            }
            Layout::Merge(tiles) => merge_path::mult_vec(a, tiles, alpha, x, beta, y),
            Layout::Compressed(c) => c.mult_vec(a, alpha, x, beta, y),
            Layout::Tiled(t) => t.mult_vec(alpha, x, beta, y),
            Layout::Sparselib(vendor) => {
                return sparselib::multiply::<T, I>(vendor, alpha, beta, Operands::Vec { x, y });
            }
        }
        Ok(())
    }

    /// `Y = alpha * A * X + beta * Y` (row-major blocks), shapes already checked.
    ///
    /// # Errors
    /// Only `sparselib`: [`crate::Error::KernelUnavailable`] when the vendor library is.
    pub(super) fn mult_dense<I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        alpha: T,
        x: &Dense<T>,
        beta: T,
        y: &mut Dense<T>,
    ) -> Result<()> {
        let mut fresh = None;
        match &self.for_matrix(a, &mut fresh).layout {
            Layout::Rows(bounds, _) => rows::mult_dense(a, bounds, alpha, x, beta, y),
            Layout::Merge(tiles) => merge_path::mult_dense(a, tiles, alpha, x, beta, y),
            // Several right-hand sides make x and y the bulk of the traffic, so the encoding
            // would save little: its row blocks run the plain row loop.
            Layout::Compressed(c) => rows::mult_dense(a, c.bounds(), alpha, x, beta, y),
            Layout::Tiled(t) => rows::mult_dense(a, &t.bounds(), alpha, x, beta, y),
            Layout::Sparselib(vendor) => {
                return sparselib::multiply::<T, I>(vendor, alpha, beta, Operands::Dense { x, y });
            }
        }
        Ok(())
    }
}
