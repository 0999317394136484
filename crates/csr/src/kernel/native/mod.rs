//! The native kernel: pure Rust, parallel on rayon.
//!
//! - [`spmv`]: SpMV and SpMM with a [`Strategy`](crate::Strategy) per handle, its partition
//!   computed once when the handle is made: [`rows`] (`classical`, `load_balance`),
//!   [`merge_path`], [`sparselib`], [`compressed`], [`tiled`]; [`automatic`] picks one;
//!   [`dot`] holds the inner loops, [`locality`] tells when the row loops prefetch `x`;
//! - [`spgemm`]: Gustavson SpGEMM, symbolic then numeric, rows split by flop count, dense
//!   generation-stamped accumulators, sorted output rows; [`stencil`] gives the rows of
//!   stencil and banded products their structure once per run of rows;
//! - [`topk`]: top-k SpGEMM on the same chunks and accumulators, selecting each row's top
//!   entries instead of storing the row; [`gram`]: top-k of `A·Aᵀ` (one handle on both
//!   sides) computing each pair once.
//!
//! Threads come from the current rayon pool (run inside `ThreadPool::install` to choose
//! them); inputs below ~64k entries run on the calling thread. Results do not depend on the
//! thread count: every output value is summed in the same order.

mod automatic;
mod compressed;
mod dot;
mod gather;
mod gram;
mod locality;
mod merge_path;
mod rows;
mod spare;
mod sparselib;
mod spgemm;
mod spmv;
mod stencil;
mod stream;
mod tiled;
mod topk;

use std::mem::MaybeUninit;
use std::sync::{Mutex, OnceLock};

pub(crate) use spare::KeptWorkspaces;
pub(crate) use spmv::SpmvPlan;

use spgemm::{Order, Workspace};

use super::handle::get_or_build;
use super::topk::{TopK, topk_operands};
use super::{Handle, Kernel, KernelId, KernelState, shapes};
use crate::error::Result;
use crate::formats::common::check_mult_vec;
use crate::formats::validate;
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// The native kernel: pure Rust, parallel on rayon.
///
/// SpMV and SpMM run the matrix's [`Strategy`](crate::Strategy) (`automatic` by default,
/// resolved and partitioned once, when the handle is made; [`Handle::strategy`] tells which);
/// SpGEMM is row-wise Gustavson (one phase into per-thread buffers, or symbolic then
/// numeric for large outputs) with rows split by flop count; a row with at least as many
/// flops as `B` has columns sums into a dense accumulator and finds its columns, sorted, by
/// one scan. When `B` has so many columns that per-thread workspaces over them would dwarf
/// the product (a 1 × 2⁴⁰ matrix), rows accumulate by sorting their products instead, so
/// memory follows the flops. All operations accept unsorted rows, duplicates and explicit zeros; products have
/// sorted rows and keep explicit zeros from cancellation (see [`Csr::eliminate_zeros`]).
/// `mult_abt` transposes `B` once and keeps the transpose in `B`'s handle. The SpGEMM
/// accumulators (one per thread, over `B`'s columns) are kept between products: in `B`'s
/// handle, and when that handle is dropped, in a process-wide spare set of at most 64 MB
/// that the next product takes them from. `mult_abt_topk`
/// with one matrix on both sides (item-item similarity) computes each pair once.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeKernel;

impl NativeKernel {
    /// `y = alpha * A * x + beta * y` for a matrix given as CSR arrays that nobody has
    /// checked: what [`CsrRef::try_from_parts`] followed by SpMV with
    /// [`Strategy::LoadBalance`](crate::Strategy::LoadBalance) computes, bit for bit, with
    /// nothing else made (no handle, no plan): the call for a matrix used in a single
    /// product (a call from Python, say). The row pointers are checked in one vectorised
    /// pass; the columns are checked in short spans just before the product reads them, so
    /// the matrix is read from memory once.
    ///
    /// # Errors
    /// The error [`CsrRef::try_from_parts`] gives for the same arrays, except that a wrong
    /// length of `x` or `y` ([`crate::Error::DimensionMismatch`]) is reported before a bad
    /// column. On error, `y` holds unspecified values.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Error, kernel::NativeKernel};
    ///
    /// let mut y = [0.0; 2];
    /// NativeKernel::mult_vec_parts(2, 3, &[0, 2, 3], &[0, 2, 1], &[1.0, 2.0, 3.0], 1.0, &[1.0, 1.0, 1.0], 0.0, &mut y)?;
    /// assert_eq!(y, [3.0, 3.0]);
    ///
    /// let bad = NativeKernel::mult_vec_parts(2, 3, &[0, 2, 3], &[0, 7, 1], &[1.0, 2.0, 3.0], 1.0, &[1.0; 3], 0.0, &mut y);
    /// assert_eq!(bad, Err(Error::ColumnOutOfBounds { row: 0, pos: 1, col: 7, ncols: 3 }));
    /// # Ok::<(), Error>(())
    /// ```
    #[allow(
        clippy::too_many_arguments,
        reason = "a matrix's parts, then the SpMV's operands"
    )]
    pub fn mult_vec_parts<T: Scalar, I: Index>(
        nrows: usize,
        ncols: usize,
        row_ptrs: &[I],
        col_idxs: &[I],
        values: &[T],
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        validate::check_all_but_columns(nrows, ncols, row_ptrs, col_idxs.len(), values.len())?;
        check_mult_vec("mult_vec", (nrows, ncols), x.len(), y.len())?;
        // SAFETY: the row pointers and the lengths were checked just above; `y` is
        // initialised (it may be read with beta != 0), and the product writes only sums
        // into it.
        unsafe {
            Self::product_checking_columns(
                (ncols, row_ptrs, col_idxs, values),
                alpha,
                x,
                beta,
                dot::slots(y),
            )
        }
    }

    /// `A·x` into a new vector, for CSR arrays that nobody has checked: what
    /// [`mult_vec_parts`](Self::mult_vec_parts) computes with `alpha = 1`, `beta = 0`, with
    /// `y` written once (no zeroing before the product: for a 4M-row `y`, a tenth of the
    /// call).
    ///
    /// # Errors
    /// As for [`mult_vec_parts`](Self::mult_vec_parts), and
    /// [`crate::Error::OutOfMemory`] if `y` cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::NativeKernel;
    ///
    /// let y = NativeKernel::mult_vec_parts_to_vec(2, 3, &[0, 2, 3], &[0, 2, 1], &[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0])?;
    /// assert_eq!(y, [3.0, 3.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn mult_vec_parts_to_vec<T: Scalar, I: Index>(
        nrows: usize,
        ncols: usize,
        row_ptrs: &[I],
        col_idxs: &[I],
        values: &[T],
        x: &[T],
    ) -> Result<Vec<T>> {
        let len = Self::one_call_output_len(nrows, row_ptrs.len());
        let mut y = Vec::new();
        y.try_reserve_exact(len)
            .map_err(|_| crate::Error::OutOfMemory {
                what: "SpMV output",
                bytes: len.saturating_mul(size_of::<T>()),
            })?;
        Self::mult_vec_parts_uninit(
            nrows,
            ncols,
            (row_ptrs, col_idxs, values),
            x,
            &mut y.spare_capacity_mut()[..len],
        )?;
        // SAFETY: on success every one of the first len slots was written.
        unsafe { y.set_len(len) };
        Ok(y)
    }

    /// Whether the one-call product ([`mult_vec_parts_to_vec`](Self::mult_vec_parts_to_vec),
    /// [`mult_vec_parts_uninit`](Self::mult_vec_parts_uninit)) of `nrows` rows over
    /// `nnz_at_most` entries (the column array's length, or more) runs in one row block on
    /// the calling thread, with no rayon call, on every pool. A caller about to hand the
    /// call to a thread pool (the Python bindings) then runs it where it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::NativeKernel;
    ///
    /// assert!(NativeKernel::one_call_runs_serially(20_000, 60_000));
    /// assert!(!NativeKernel::one_call_runs_serially(4_000_000, 20_000_000));
    /// ```
    #[must_use]
    pub fn one_call_runs_serially(nrows: usize, nnz_at_most: usize) -> bool {
        // The row pointers are checked in parallel from MIN_PARALLEL_WORK rows on.
        nrows < crate::parallel::MIN_PARALLEL_WORK
            && crate::parallel::one_piece_anywhere(nrows.saturating_add(nnz_at_most))
    }

    /// Whether [`mult_vec_parts_uninit`](Self::mult_vec_parts_uninit) of a matrix of
    /// `nrows` rows has no parallel step but its row blocks, so that a caller outside the
    /// pool may run it under [`joined::with_helpers`](crate::joined::with_helpers) (the
    /// calling thread taking blocks beside the pool's workers): fewer rows than the count
    /// from which the row pointers are checked in parallel (the columns are checked as the
    /// product reads them; only a bad column's report may check them again in parallel).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::NativeKernel;
    ///
    /// assert!(NativeKernel::one_call_joins_caller(5_000));
    /// assert!(!NativeKernel::one_call_joins_caller(4_000_000));
    /// ```
    #[must_use]
    pub fn one_call_joins_caller(nrows: usize) -> bool {
        nrows < crate::parallel::MIN_PARALLEL_WORK
    }

    /// How long a caller that allocates `y` for a one-call product
    /// ([`mult_vec_parts_uninit`](Self::mult_vec_parts_uninit)) makes it, given the length
    /// of the row pointers: `nrows` where `nrows + 1` row pointers back that count, else 0
    /// (the product then reports the arrays' error). No allocation is sized by a row count
    /// the arrays do not back.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::NativeKernel;
    ///
    /// assert_eq!(NativeKernel::one_call_output_len(2, 3), 2);
    /// // A claim of 2⁶⁰ rows over three row pointers allocates nothing.
    /// assert_eq!(NativeKernel::one_call_output_len(1 << 60, 3), 0);
    /// ```
    #[must_use]
    pub fn one_call_output_len(nrows: usize, row_ptrs_len: usize) -> usize {
        if nrows.checked_add(1) == Some(row_ptrs_len) {
            nrows
        } else {
            0
        }
    }

    /// `A·x` into slots that need not be initialised (a buffer from another allocator, such
    /// as a new numpy array), for CSR arrays that nobody has checked: what
    /// [`mult_vec_parts_to_vec`](Self::mult_vec_parts_to_vec) computes, written into `y`.
    /// On success every slot of `y` is written.
    ///
    /// # Errors
    /// As for [`mult_vec_parts`](Self::mult_vec_parts) with `y.len()` as `y`'s length; on
    /// error the slots of `y` are unspecified (some perhaps still uninitialised).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use csr::kernel::NativeKernel;
    ///
    /// let mut y = [MaybeUninit::<f64>::uninit(); 2];
    /// let a = (&[0, 2, 3][..], &[0, 2, 1][..], &[1.0, 2.0, 3.0][..]);
    /// NativeKernel::mult_vec_parts_uninit(2, 3, a, &[1.0, 1.0, 1.0], &mut y)?;
    /// // SAFETY: the product succeeded, so it wrote every slot.
    /// assert_eq!(unsafe { [y[0].assume_init(), y[1].assume_init()] }, [3.0, 3.0]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn mult_vec_parts_uninit<T: Scalar, I: Index>(
        nrows: usize,
        ncols: usize,
        (row_ptrs, col_idxs, values): (&[I], &[I], &[T]),
        x: &[T],
        y: &mut [MaybeUninit<T>],
    ) -> Result<()> {
        validate::check_all_but_columns(nrows, ncols, row_ptrs, col_idxs.len(), values.len())?;
        check_mult_vec("mult_vec", (nrows, ncols), x.len(), y.len())?;
        // SAFETY: the row pointers and the lengths were checked just above (y.len() ==
        // nrows); beta = 0: the slots are never read.
        unsafe {
            Self::product_checking_columns(
                (ncols, row_ptrs, col_idxs, values),
                T::one(),
                x,
                T::zero(),
                y,
            )
        }
    }

    /// The product of [`mult_vec_parts`](Self::mult_vec_parts) once the row pointers and
    /// the lengths are checked, checking the columns as it reads them; on success every
    /// slot of `y` is written.
    ///
    /// # Errors
    /// The first column out of bounds, as [`CsrRef::try_from_parts`] reports it.
    ///
    /// # Safety
    /// `validate::check_all_but_columns` accepted the arrays for `y.len()` rows and
    /// `ncols`; `x.len() == ncols`; unless `beta = 0`, every slot of `y` is initialised.
    unsafe fn product_checking_columns<T: Scalar, I: Index>(
        (ncols, row_ptrs, col_idxs, values): (usize, &[I], &[I], &[T]),
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [MaybeUninit<T>],
    ) -> Result<()> {
        let bounds = rows::balanced_blocks(row_ptrs);
        // SAFETY: the row pointers are checked (nrows + 1 of them, non-decreasing from 0 to
        // nnz == cols.len() == vals.len()), the product checks the columns against
        // x.len() == ncols as it reads them, and `y` is initialised unless beta = 0 (all by
        // the caller).
        let inside = unsafe {
            rows::mult_vec_checking_columns(
                (row_ptrs, col_idxs, values),
                &bounds,
                alpha,
                x,
                beta,
                y,
            )
        };
        if inside {
            Ok(())
        } else {
            // The first bad entry, for the error.
            validate::check_columns(ncols, row_ptrs, col_idxs)
        }
    }
}

/// The handle state for matrix `a`: its SpMV plan (made now when `plan_now`, else on first
/// use) and an empty transpose cache.
fn native_state<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, plan_now: bool) -> KernelState<T, I> {
    let spmv = OnceLock::new();
    if plan_now {
        let _ = spmv.set(Box::new(SpmvPlan::new(a)));
    }
    KernelState::Native {
        spmv,
        transpose: OnceLock::new(),
        workspaces: KeptWorkspaces::new(),
    }
}

/// The SpGEMM workspaces kept in a handle, if it has a place for them.
fn workspaces<'h, T, I>(h: &'h Handle<'_, T, I>) -> Option<&'h Mutex<Vec<Workspace<T, I>>>> {
    match &h.state {
        KernelState::Native { workspaces, .. } => Some(&workspaces.kept),
        KernelState::None | KernelState::Mkl(_) => None,
    }
}

/// Runs `f` with `Bᵀ` and the SpGEMM workspaces over its columns (B's rows). A native
/// handle keeps both: the transpose is made on first use (outside its cell, see
/// [`get_or_build`]); any other handle gets a transpose for this call and no workspaces.
fn with_transpose<T: Scalar, I: Index, R>(
    b: &Handle<'_, T, I>,
    f: impl FnOnce(CsrRef<'_, T, I>, Option<&Mutex<Vec<Workspace<T, I>>>>) -> Result<R>,
) -> Result<R> {
    match &b.state {
        KernelState::Native {
            transpose,
            workspaces,
            ..
        } => f(
            get_or_build(transpose, || b.matrix().try_transpose())?.view(),
            Some(&workspaces.kept),
        ),
        KernelState::None | KernelState::Mkl(_) => f(b.matrix().try_transpose()?.view(), None),
    }
}

/// `A·B` (`A·Bᵀ` with `transpose_b`) as a handle owning it, its rows in `order`.
fn product<T: Scalar, I: Index>(
    a: &Handle<'_, T, I>,
    b: &Handle<'_, T, I>,
    transpose_b: bool,
    order: Order,
) -> Result<Handle<'static, T, I>> {
    let op = if transpose_b { "mult_abt" } else { "mult_ab" };
    a.check_kernel(KernelId::Native, op)?;
    b.check_kernel(KernelId::Native, op)?;
    let c = if transpose_b {
        let am = a.matrix();
        shapes::mult_ab(am, b.matrix(), true)?;
        with_transpose(b, |bt, workspaces| {
            spgemm::multiply(am, bt, op, workspaces, order)
        })?
    } else {
        spgemm::multiply(a.matrix(), b.matrix(), op, workspaces(b), order)?
    };
    Ok(product_handle(c))
}

/// The handle of a product, owning its matrix, with what its numeric pass saw of zeros.
fn product_handle<T: Scalar, I: Index>(c: spgemm::Product<T, I>) -> Handle<'static, T, I> {
    let state = native_state(c.matrix.view(), false);
    Handle::owned(KernelId::Native, c.matrix, state).known_zero_free(!c.holds_zeros)
}

/// Whether two views show the very same arrays (`A·Aᵀ` through one handle, or two handles
/// over one matrix).
fn same_matrix<T: Scalar, I: Index>(a: CsrRef<'_, T, I>, b: CsrRef<'_, T, I>) -> bool {
    a.shape() == b.shape()
        && std::ptr::eq(a.row_ptrs(), b.row_ptrs())
        && std::ptr::eq(a.col_idxs(), b.col_idxs())
        && std::ptr::eq(a.values(), b.values())
}

/// The SpMV plan stored in a handle (made on first use), or a fresh one if it has no place
/// for one.
fn plan<'h, T: Scalar, I: Index>(
    h: &'h Handle<'_, T, I>,
    fresh: &'h mut Option<SpmvPlan<T>>,
) -> &'h SpmvPlan<T> {
    match &h.state {
        KernelState::Native { spmv, .. } => h.plan(spmv),
        _ => fresh.insert(SpmvPlan::new(h.matrix())),
    }
}

impl<T: Scalar, I: Index> Kernel<T, I> for NativeKernel {
    fn id(&self) -> KernelId {
        KernelId::Native
    }

    fn max_nnz(&self) -> usize {
        I::MAX_USIZE
    }

    fn to_handle<'a>(&self, a: CsrRef<'a, T, I>) -> Result<Handle<'a, T, I>> {
        Ok(Handle::borrowed(KernelId::Native, a, native_state(a, true)))
    }

    fn from_handle(&self, h: &Handle<'_, T, I>) -> Result<Csr<T, I>> {
        h.check_kernel(KernelId::Native, "from_handle")?;
        Ok(h.matrix().to_csr())
    }

    fn order_columns(&self, h: &mut Handle<'_, T, I>) -> Result<()> {
        h.check_kernel(KernelId::Native, "order_columns")?;
        h.matrix_mut().sort_by_column_index();
        h.state = native_state(h.matrix(), true);
        Ok(())
    }

    fn mult_vec(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        h.check_kernel(KernelId::Native, "mult_vec")?;
        let a = h.matrix();
        shapes::mult_vec(a, x.len(), y.len())?;
        plan(h, &mut None).mult_vec(a, alpha, x, beta, y)
    }

    fn mult_dense(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &Dense<T>,
        beta: T,
        y: &mut Dense<T>,
    ) -> Result<()> {
        h.check_kernel(KernelId::Native, "mult_dense")?;
        let a = h.matrix();
        shapes::mult_dense(a, x, y)?;
        plan(h, &mut None).mult_dense(a, alpha, x, beta, y)
    }

    fn mult_ab(&self, a: &Handle<'_, T, I>, b: &Handle<'_, T, I>) -> Result<Handle<'static, T, I>> {
        product(a, b, false, Order::Sorted)
    }

    fn mult_abt(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        product(a, b, true, Order::Sorted)
    }

    fn mult_ab_unsorted(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        product(a, b, false, Order::Any)
    }

    fn mult_abt_unsorted(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        product(a, b, true, Order::Any)
    }

    fn mult_ab_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        let (am, bm) = topk_operands(KernelId::Native, a, b, false)?;
        let c = match gram::gram_topk_if_transpose(am, bm, workspaces(b), opts)? {
            Some(c) => c,
            None => topk::multiply_topk(am, bm, workspaces(b), opts)?,
        };
        let state = native_state(c.view(), false);
        Ok(Handle::owned(KernelId::Native, c, state))
    }

    fn mult_abt_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        let (am, bm) = topk_operands(KernelId::Native, a, b, true)?;
        let c = with_transpose(b, |bt, workspaces| {
            // One matrix on both sides: each pair once, where the Gram path applies.
            if same_matrix(am, bm)
                && let Some(c) = gram::gram_topk(am, bt, workspaces, opts)?
            {
                return Ok(c);
            }
            topk::multiply_topk(am, bt, workspaces, opts)
        })?;
        let state = native_state(c.view(), false);
        Ok(Handle::owned(KernelId::Native, c, state))
    }
}

#[cfg(test)]
mod tests;
