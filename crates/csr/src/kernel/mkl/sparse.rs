//! Owned MKL sparse handles ([`MklMatrix`]) and the typed calls made on them.
//!
//! Every function here is generic over the value type `T` and the MKL integer `N`; the
//! caller (`mod.rs`) has already chosen `N` for the matrix's index type and checked shapes.

use std::ffi::c_int;
use std::ops::Range;

use super::ffi::{
    GENERAL, INDEX_BASE_ZERO, IndexFns, LAYOUT_ROW_MAJOR, MklApi, MklInt, OPERATION_NON_TRANSPOSE,
    OPERATION_TRANSPOSE, STAGE_FULL_MULT, STATUS_SUCCESS, SparseMatrix, Status, ValueFns,
    status_meaning,
};
use rayon::prelude::*;

use crate::error::{Error, Extent, Result, check_fits};
use crate::parallel::{balanced_row_blocks, cut_output, piece_count, zeroed_output};
use crate::{Csr, Index, Scalar};

/// Turns an MKL status into `Ok` or [`Error::Mkl`]. A fatal error that MKL reported to our
/// exit handler (it then returns without computing, whatever the status says) is an error too.
pub(super) fn check(status: Status, call: &'static str) -> Result<()> {
    if let Some(why) = super::library::fatal_error() {
        Err(Error::Mkl {
            call,
            status: why,
            meaning: "MKL hit a fatal error (a library it needs could not be loaded, or the CPU \
                      is unsupported) and computed nothing",
        })
    } else if status == STATUS_SUCCESS {
        Ok(())
    } else {
        Err(Error::Mkl {
            call,
            status,
            meaning: status_meaning(status),
        })
    }
}

/// The value-type table for `T` and `N` (MKL has one for every [`Scalar`]).
pub(super) fn value_fns<T: Scalar, N: MklInt>(api: &MklApi) -> Result<&ValueFns<T, N>> {
    api.values::<T, N>().ok_or(Error::Unsupported {
        kernel: "mkl",
        op: "to_handle",
        reason: format!("no MKL routines for {} values", T::NAME),
    })
}

/// The index-function table for integers `N`, or [`Error::Unsupported`] when this MKL
/// lacks that API (releases before 2023 have no `_64` functions).
pub(super) fn index_fns<N: MklInt>(api: &MklApi) -> Result<&IndexFns<N>> {
    N::fns(api).ok_or_else(|| Error::Unsupported {
        kernel: "mkl",
        op: "to_handle",
        reason: String::from(
            "this MKL has no ILP64 (_64) API: 64-bit indices need MKL 2023 or newer",
        ),
    })
}

/// `n` as an MKL integer, or [`Error::Unsupported`] naming what does not fit.
pub(super) fn mkl_int<N: MklInt>(n: usize, what: &'static str) -> Result<N> {
    N::from_usize(n).ok_or_else(|| Error::Unsupported {
        kernel: "mkl",
        op: "to_handle",
        reason: format!(
            "{what} {n} does not fit MKL's {} integers",
            std::any::type_name::<N>()
        ),
    })
}

/// An MKL sparse matrix handle, destroyed on drop.
pub(super) struct MklMatrix {
    raw: SparseMatrix,
    destroy: unsafe extern "C" fn(SparseMatrix) -> Status,
}

// SAFETY: an MKL handle is a heap object that is not tied to the thread that made it. After
// creation (and `mkl_sparse_optimize`, done before the handle is shared) this kernel passes
// it only to MKL routines that take it as `const sparse_matrix_t` (mv, mm, sp2m, export),
// which MKL documents as thread safe, so `&MklMatrix` may be used from many threads at once.
unsafe impl Send for MklMatrix {}
// SAFETY: see `Send`: shared use only reaches MKL's read-only, thread-safe routines.
unsafe impl Sync for MklMatrix {}

impl Drop for MklMatrix {
    fn drop(&mut self) {
        // SAFETY: `raw` came from a successful create or sp2m call and is destroyed once.
        // The status is ignored: nothing can be done about a failed destroy in a drop.
        let _ = unsafe { (self.destroy)(self.raw) };
    }
}

impl std::fmt::Debug for MklMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MklMatrix").field("raw", &self.raw).finish()
    }
}

impl MklMatrix {
    /// Wraps rows `rows` of a CSR matrix (zero-based, 4-array form: `row_ptrs[r]` and
    /// `row_ptrs[r + 1]` bound row `r`) without copying. With `mv_hint`, tells MKL how many
    /// SpMV calls to expect and lets it optimize (it may then keep its own re-encoded copy).
    ///
    /// # Safety
    /// `row_ptrs` and `entries` (the column index and value arrays, `row_ptrs[last]` long)
    /// must describe a valid CSR matrix with `ncols` columns and stay alive and unmoved for
    /// the whole life of the returned handle (MKL keeps pointers to them). Nothing may write
    /// to them while it lives; [`MklMatrix::order`] may be called only if `entries` come from
    /// exclusive borrows that last as long as the handle.
    pub(super) unsafe fn wrap<T: Scalar, N: MklInt>(
        api: &MklApi,
        row_ptrs: &[N],
        entries: (*mut N, *mut T),
        rows: Range<usize>,
        ncols: usize,
        mv_hint: Option<usize>,
    ) -> Result<Self> {
        let fns = value_fns::<T, N>(api)?;
        let ifns = index_fns::<N>(api)?;
        let nrows: N = mkl_int(rows.len(), "rows")?;
        let ncols: N = mkl_int(ncols, "columns")?;
        let starts = row_ptrs[rows.start..rows.end].as_ptr().cast_mut();
        let ends = row_ptrs[rows.start + 1..=rows.end].as_ptr().cast_mut();
        let mut raw: SparseMatrix = std::ptr::null_mut();
        // SAFETY: the arrays are valid and outlive the handle (caller); MKL does not write
        // to them in create (it writes only in order/set_values; see the contract above).
        let status = unsafe {
            (fns.create_csr)(
                &raw mut raw,
                INDEX_BASE_ZERO,
                nrows,
                ncols,
                starts,
                ends,
                entries.0,
                entries.1,
            )
        };
        check(status, "mkl_sparse_create_csr")?;
        let matrix = Self {
            raw,
            destroy: ifns.destroy,
        };
        if let Some(calls) = mv_hint {
            let calls: N = N::from_usize(calls).unwrap_or(mkl_int(i32::MAX as usize, "calls")?);
            // SAFETY: `raw` is a valid handle owned by `matrix`, not yet shared.
            let status =
                unsafe { (ifns.set_mv_hint)(matrix.raw, OPERATION_NON_TRANSPOSE, GENERAL, calls) };
            check(status, "mkl_sparse_set_mv_hint")?;
        }
        // Optimized now, while the handle is not shared: MKL prepares its internal data in
        // `optimize`, so later calls (which threads may make at once on a shared handle) only
        // read it. Without hints this analyses nothing and costs next to nothing.
        // SAFETY: `raw` is a valid handle owned by `matrix`, not yet shared.
        let status = unsafe { (ifns.optimize)(matrix.raw) };
        check(status, "mkl_sparse_optimize")?;
        Ok(matrix)
    }

    /// Sorts the rows of the matrix by column, in the arrays it was made from.
    pub(super) fn order<N: MklInt>(&mut self, api: &MklApi) -> Result<()> {
        // SAFETY: `self.raw` is valid and exclusively borrowed; the callers use this only on
        // matrices wrapped over exclusively borrowed arrays, or made by MKL (`product`).
        check(
            unsafe { (index_fns::<N>(api)?.order)(self.raw) },
            "mkl_sparse_order",
        )
    }

    /// `y = alpha·A·x + beta·y`; `x` and `y` have the matrix's column and row counts.
    pub(super) fn mv<T: Scalar, N: MklInt>(
        &self,
        api: &MklApi,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        let fns = value_fns::<T, N>(api)?;
        // SAFETY: `x` and `y` have the lengths the handle's shape needs (checked by the
        // caller); MKL reads `x`, reads and writes `y`.
        let status = unsafe {
            (fns.mv)(
                OPERATION_NON_TRANSPOSE,
                alpha,
                self.raw,
                GENERAL,
                x.as_ptr(),
                beta,
                y.as_mut_ptr(),
            )
        };
        check(status, "mkl_sparse_mv")
    }

    /// `Y = alpha·A·X + beta·Y` for row-major `X` (`ncols × k`, row stride `ldx`) and `Y`
    /// (`nrows × k`, row stride `ldy`).
    #[allow(clippy::too_many_arguments, reason = "mirrors mkl_sparse_?_mm")]
    pub(super) fn mm<T: Scalar, N: MklInt>(
        &self,
        api: &MklApi,
        alpha: T,
        x: (&[T], usize),
        k: usize,
        beta: T,
        y: (&mut [T], usize),
    ) -> Result<()> {
        let fns = value_fns::<T, N>(api)?;
        let (x, ldx) = x;
        let (y, ldy) = y;
        // SAFETY: the caller checked that `x` holds `ncols` rows of stride `ldx` and `y`
        // holds `nrows` rows of stride `ldy`, each at least `k` wide.
        let status = unsafe {
            (fns.mm)(
                OPERATION_NON_TRANSPOSE,
                alpha,
                self.raw,
                GENERAL,
                LAYOUT_ROW_MAJOR,
                x.as_ptr(),
                mkl_int(k, "columns")?,
                mkl_int(ldx, "stride")?,
                beta,
                y.as_mut_ptr(),
                mkl_int(ldy, "stride")?,
            )
        };
        check(status, "mkl_sparse_mm")
    }

    /// `A·B` (or `A·Bᵀ`) with sorted rows, copied into a [`Csr`].
    pub(super) fn product<T: Scalar, I: Index, N: MklInt>(
        &self,
        api: &MklApi,
        b: &MklMatrix,
        transpose_b: bool,
    ) -> Result<Csr<T, I>> {
        let ifns: &IndexFns<N> = index_fns::<N>(api)?;
        let op_b: c_int = if transpose_b {
            OPERATION_TRANSPOSE
        } else {
            OPERATION_NON_TRANSPOSE
        };
        let mut raw: SparseMatrix = std::ptr::null_mut();
        // SAFETY: both handles are valid; MKL allocates the result, which `c` owns.
        let status = unsafe {
            (ifns.sp2m)(
                OPERATION_NON_TRANSPOSE,
                GENERAL,
                self.raw,
                op_b,
                GENERAL,
                b.raw,
                STAGE_FULL_MULT,
                &raw mut raw,
            )
        };
        check(status, "mkl_sparse_sp2m")?;
        let c = MklMatrix {
            raw,
            destroy: ifns.destroy,
        };
        // Rows sorted here, in parallel, rather than by `mkl_sparse_order`, which took 37 % of
        // an item-item A·Aᵀ (5k × 5k, 25M entries) in MKL 2025's quicksort.
        let mut product = c.export::<T, I, N>(api)?;
        product.sort_by_column_index();
        Ok(product)
    }

    /// Copies a matrix that MKL made (a product) out into a [`Csr`].
    fn export<T: Scalar, I: Index, N: MklInt>(&self, api: &MklApi) -> Result<Csr<T, I>> {
        let fns = value_fns::<T, N>(api)?;
        let mut base: c_int = 0;
        let (mut nrows, mut ncols) = (N::zeroed(), N::zeroed());
        let mut starts: *mut N = std::ptr::null_mut();
        let mut ends: *mut N = std::ptr::null_mut();
        let mut cols: *mut N = std::ptr::null_mut();
        let mut vals: *mut T = std::ptr::null_mut();
        // SAFETY: `self.raw` is a valid handle; MKL fills the out-parameters with pointers
        // into arrays it owns, valid until the handle is destroyed (after this function).
        let status = unsafe {
            (fns.export_csr)(
                self.raw,
                &raw mut base,
                &raw mut nrows,
                &raw mut ncols,
                &raw mut starts,
                &raw mut ends,
                &raw mut cols,
                &raw mut vals,
            )
        };
        check(status, "mkl_sparse_export_csr")?;
        let bad = |what: &str| Error::MklOutput {
            call: "mkl_sparse_export_csr",
            problem: if what == "base" {
                String::from("a one-based matrix")
            } else {
                format!("inconsistent arrays ({what})")
            },
        };
        if base != INDEX_BASE_ZERO {
            return Err(bad("base"));
        }
        let nrows = nrows.to_usize().ok_or_else(|| bad("rows"))?;
        let ncols = ncols.to_usize().ok_or_else(|| bad("cols"))?;
        if nrows == 0 {
            return Csr::try_from_parts(0, ncols, vec![I::ZERO], Vec::new(), Vec::new());
        }
        // SAFETY: MKL's export gives `nrows` row starts and ends (non-null for a non-empty
        // matrix); they stay valid while `self` lives.
        let (starts, ends) = unsafe {
            (
                std::slice::from_raw_parts(starts, nrows),
                std::slice::from_raw_parts(ends, nrows),
            )
        };
        let mut row_ptrs = Vec::with_capacity(nrows + 1);
        row_ptrs.push(I::ZERO);
        let mut spans = Vec::with_capacity(nrows);
        let mut nnz = 0usize;
        let mut extent = 0usize;
        for (&s, &e) in starts.iter().zip(ends) {
            let (s, e) = (s.to_usize(), e.to_usize());
            let (Some(s), Some(e)) = (s, e) else {
                return Err(bad("ptrs"));
            };
            if e < s {
                return Err(bad("ptrs"));
            }
            nnz += e - s;
            extent = extent.max(e);
            check_fits::<I>(Extent::Nnz, nnz)?;
            row_ptrs.push(I::truncate(nnz));
            spans.push(s..e);
        }
        if nnz == 0 {
            // MKL may give null entry arrays for a product without entries.
            return Csr::try_from_parts(nrows, ncols, row_ptrs, Vec::new(), Vec::new());
        }
        // SAFETY: every row's entries lie in `0..extent` of MKL's column and value arrays,
        // which are non-null since there are entries.
        let (cols, vals) = unsafe {
            (
                std::slice::from_raw_parts(cols, extent),
                std::slice::from_raw_parts(vals, extent),
            )
        };
        // Copied out in parallel over row blocks (a product of tens of millions of entries
        // is copied in a loop that is most of the export's time).
        let mut col_idxs: Vec<I> = zeroed_output(nnz);
        let mut values: Vec<T> = zeroed_output(nnz);
        let blocks: Vec<_> = balanced_row_blocks(&row_ptrs, piece_count(nnz + nrows))
            .windows(2)
            .map(|w| w[0]..w[1])
            .collect();
        let jobs = cut_output(&row_ptrs, &blocks, (&mut col_idxs, &mut values));
        let all_inside = jobs.into_par_iter().all(|(rows, out_cols, out_vals)| {
            let mut at = 0;
            let mut inside = true;
            for span in &spans[rows] {
                let n = span.len();
                for (o, &c) in out_cols[at..at + n].iter_mut().zip(&cols[span.clone()]) {
                    match c.to_usize().filter(|&c| c < ncols) {
                        // `c < ncols`, and `ncols` fits `I` (an operand's dimension).
                        Some(c) => *o = I::truncate(c),
                        None => inside = false,
                    }
                }
                out_vals[at..at + n].copy_from_slice(&vals[span.clone()]);
                at += n;
            }
            inside
        });
        if !all_inside {
            return Err(bad("cols"));
        }
        Csr::try_from_parts(nrows, ncols, row_ptrs, col_idxs, values)
    }
}
