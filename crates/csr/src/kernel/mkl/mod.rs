//! The `mkl` kernel: Intel MKL's sparse BLAS (inspector-executor API), loaded at run time.
//!
//! Nothing about MKL is needed to build: `libmkl_rt` is found and loaded with `libloading`
//! on first use (see [`MKL_LIB_ENV`] and `library.rs` for the search order), so one binary
//! runs with or without MKL. If it cannot be loaded, the kernel reports itself unavailable
//! with the reason; no call panics or aborts, and every MKL failure status becomes
//! [`crate::Error::Mkl`] (LensKit's shim aborts the process instead).
//!
//! | index type | MKL API | arrays |
//! |---|---|---|
//! | `i32` | LP64 (`mkl_sparse_d_mv`) | borrowed |
//! | `i64`, `usize` | ILP64 (`mkl_sparse_d_mv_64`) | borrowed |
//! | `u32` | ILP64 | copied into `i64` once per handle |
//!
//! A handle wraps an MKL `sparse_matrix_t` over the matrix's own arrays (MKL does not copy
//! them; the handle borrows the matrix, so it cannot outlive it) and destroys it on drop.
//! At handle creation the kernel calls `mkl_sparse_set_mv_hint` with the expected number of
//! SpMV calls and `mkl_sparse_optimize`. A matrix with more than [`Kernel::max_nnz`]
//! entries is split into row blocks, one MKL matrix each, as LensKit's kernel does.
//! Products come from `mkl_sparse_sp2m` (with the transpose flag on `B` for `A·Bᵀ`), then
//! `mkl_sparse_order`, and are copied out into a [`Csr`]. Top-k products run `sp2m` on row
//! blocks of `A` whose product is bounded (16M entries) and select each block's rows
//! before the next. MKL only ever sees sorted rows
//! without duplicate columns (its `sp2m` writes out of bounds on duplicates, found by the
//! proptests): a handle over any other matrix keeps such a copy (duplicates summed) for
//! MKL, built once when the handle is made. `order_columns` uses
//! `mkl_sparse_order` (on a copy of a borrowed matrix) unless a row has duplicate columns:
//! MKL's sort is not stable, so those matrices are sorted by the library's stable sort.

mod ffi;
mod library;
mod sparse;

use std::any::TypeId;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

pub use library::MKL_LIB_ENV;
use sparse::MklMatrix;

use self::ffi::{MklApi, MklInt};
use super::topk::{TopK, empty_result, select_rows, topk_operands};
use super::{Handle, Kernel, KernelId, KernelState, shapes};
use crate::error::{Error, Extent, Result, check_fits};
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// What `csr kernels` reports about a loaded MKL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MklInfo {
    /// The library file that was loaded.
    pub path: std::path::PathBuf,
    /// MKL's version string.
    pub version: String,
    /// The threading layer selected, and why.
    pub threading: &'static str,
}

/// Loads MKL if not done yet and describes it.
///
/// # Errors
/// [`Error::KernelUnavailable`] saying why MKL cannot be loaded.
pub fn mkl_info() -> Result<MklInfo> {
    library::loaded()
        .map(|l| MklInfo {
            path: l.path.clone(),
            version: l.version.clone(),
            threading: l.threading,
        })
        .map_err(unavailable)
}

fn unavailable(reason: &str) -> Error {
    Error::KernelUnavailable {
        kernel: "mkl",
        reason: reason.to_owned(),
    }
}

fn api() -> Result<&'static MklApi> {
    library::loaded().map(|l| &l.api).map_err(unavailable)
}

/// The `mkl` kernel: Intel MKL's sparse BLAS (inspector-executor API), loaded at run time
/// (see [`MKL_LIB_ENV`] and [`mkl_info`]). If MKL cannot be loaded, every operation returns
/// [`Error::KernelUnavailable`] with the reason; MKL failures are [`Error::Mkl`].
///
/// | index type | MKL API | arrays |
/// |---|---|---|
/// | `i32` | LP64 (`mkl_sparse_d_mv`) | borrowed |
/// | `i64`, `usize` | ILP64 (`mkl_sparse_d_mv_64`) | borrowed |
/// | `u32` | ILP64 | copied into `i64` once per handle |
///
/// A handle wraps MKL matrices over the handle's own arrays (MKL does not copy them) and
/// destroys them on drop; handles are made with `mkl_sparse_set_mv_hint` and
/// `mkl_sparse_optimize`. MKL only sees sorted rows without duplicate columns: a handle over
/// any other matrix keeps such a copy (duplicates summed). Products come from
/// `mkl_sparse_sp2m` and `mkl_sparse_order` (sorted rows). SpMV results are not
/// bit-identical to the other kernels' (MKL sums in its own order).
///
/// # Examples
///
/// ```
/// use csr::kernel::{Kernel, MklKernel};
/// use csr::Csr;
///
/// let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![2.0, 3.0])?;
/// let mkl = MklKernel::new();
/// match mkl.to_handle(a.view()) {
///     Ok(h) => {
///         let mut y = vec![0.0; 2];
///         mkl.mult_vec(&h, 1.0, &[1.0, 10.0], 0.0, &mut y)?;
///         assert_eq!(y, vec![20.0, 3.0]);
///     }
///     Err(csr::Error::KernelUnavailable { reason, .. }) => eprintln!("no MKL: {reason}"),
///     Err(e) => return Err(e),
/// }
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MklKernel {
    max_nnz: Option<usize>,
    expected_mv_calls: usize,
}

impl Default for MklKernel {
    fn default() -> Self {
        Self::new()
    }
}

impl MklKernel {
    /// The SpMV call count passed to `mkl_sparse_set_mv_hint` unless set otherwise.
    pub const DEFAULT_EXPECTED_MV_CALLS: usize = 1000;

    /// The kernel with MKL's own entry limit and the default SpMV hint.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_nnz: None,
            expected_mv_calls: Self::DEFAULT_EXPECTED_MV_CALLS,
        }
    }

    /// The same kernel with at most `max_nnz` entries per MKL matrix: larger matrices are
    /// split into row blocks (at least 1).
    #[must_use]
    pub const fn with_max_nnz(self, max_nnz: usize) -> Self {
        Self {
            max_nnz: Some(if max_nnz == 0 { 1 } else { max_nnz }),
            ..self
        }
    }

    /// The same kernel telling MKL to expect `calls` SpMV calls per handle (0 skips the
    /// hint; every MKL matrix is still passed through `mkl_sparse_optimize` before it can be
    /// shared).
    #[must_use]
    pub const fn with_expected_mv_calls(self, calls: usize) -> Self {
        Self {
            expected_mv_calls: calls,
            ..self
        }
    }

    /// Whether MKL can be loaded here.
    ///
    /// # Errors
    /// [`Error::KernelUnavailable`] with the reason.
    pub fn availability() -> Result<()> {
        api().map(|_| ())
    }

    fn mv_hint(self) -> Option<usize> {
        (self.expected_mv_calls > 0).then_some(self.expected_mv_calls)
    }
}

/// The MKL matrices of a handle, over integers `N`.
#[derive(Debug)]
pub(crate) struct Blocks<N> {
    /// One MKL matrix per row block, in row order, covering every row (none for a matrix
    /// without entries). Declared first so it is dropped before the arrays it points into.
    blocks: Vec<(Range<usize>, MklMatrix)>,
    /// The index arrays converted to `N`, when the matrix's own could not be passed as they
    /// are (`u32` indices): `(row_ptrs, col_idxs)`. Never read: it owns what MKL points to.
    #[allow(dead_code, reason = "owns the arrays the MKL matrices point into")]
    copies: Option<(Vec<N>, Vec<N>)>,
}

/// Where a matrix given to [`MklKernel::state`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// The caller's: any CSR; prepared for SpMV (hint + optimize).
    Caller,
    /// A product MKL made and ordered: already sorted without duplicates, and most often
    /// just copied out, so not checked and optimized without an SpMV hint.
    Product,
}

/// The MKL matrices of a handle, over LP64 or ILP64 integers.
#[derive(Debug)]
pub(crate) enum MklBlocks {
    Lp64(Blocks<i32>),
    Ilp64(Blocks<i64>),
}

/// What an MKL handle keeps.
#[derive(Debug)]
pub(crate) struct MklState<T, I> {
    /// The MKL matrices. Declared first so they are dropped before `canonical`, which they
    /// may point into.
    blocks: MklBlocks,
    /// A sorted copy without duplicate columns, which MKL works on when the handle's matrix
    /// is not so (`mkl_sparse_sp2m` writes out of bounds on rows with duplicate columns).
    /// Never read: it owns what the MKL matrices point to.
    #[allow(dead_code, reason = "owns the arrays the MKL matrices point into")]
    canonical: Option<Csr<T, I>>,
}

/// How the index type `I` reaches MKL.
enum IndexRoute {
    /// `I` is `i32`: LP64, borrowed.
    Lp64,
    /// `I` is `i64` or `usize`: ILP64, borrowed.
    Ilp64,
    /// `I` is `u32`: ILP64, copied.
    Ilp64Copy,
}

fn route<I: Index>() -> IndexRoute {
    let t = TypeId::of::<I>();
    if t == TypeId::of::<i32>() {
        IndexRoute::Lp64
    } else if t == TypeId::of::<i64>() || t == TypeId::of::<usize>() {
        IndexRoute::Ilp64
    } else {
        IndexRoute::Ilp64Copy
    }
}

/// `a`'s index arrays as `N`: borrowed when `I` has `N`'s size (`route` chose it so that
/// every value fits), else `None`.
fn borrowed_indices<'a, I: Index, N: MklInt>(
    row_ptrs: &'a [I],
    col_idxs: &'a [I],
) -> Option<(&'a [N], &'a [N])> {
    Some((
        bytemuck::try_cast_slice(row_ptrs).ok()?,
        bytemuck::try_cast_slice(col_idxs).ok()?,
    ))
}

/// `a`'s index arrays converted to `N`.
fn copied_indices<I: Index, N: MklInt>(row_ptrs: &[I], col_idxs: &[I]) -> Result<(Vec<N>, Vec<N>)> {
    let convert = |v: &[I]| -> Result<Vec<N>> {
        v.iter()
            .map(|&i| sparse::mkl_int(i.to_usize(), "index"))
            .collect()
    };
    Ok((convert(row_ptrs)?, convert(col_idxs)?))
}

/// Row blocks of at most `max_nnz` entries covering every row.
fn row_blocks<I: Index>(row_ptrs: &[I], max_nnz: usize) -> Result<Vec<Range<usize>>> {
    let nrows = row_ptrs.len() - 1;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < nrows {
        let limit = row_ptrs[start].to_usize().saturating_add(max_nnz);
        // The first row whose end passes the limit ends the block before it.
        let end = start + row_ptrs[start + 1..].partition_point(|p| p.to_usize() <= limit);
        if end == start {
            return Err(Error::Unsupported {
                kernel: "mkl",
                op: "to_handle",
                reason: format!(
                    "row {start} has {} entries, more than max_nnz = {max_nnz}",
                    row_ptrs[start + 1].to_usize() - row_ptrs[start].to_usize()
                ),
            });
        }
        blocks.push(start..end);
        start = end;
    }
    Ok(blocks)
}

impl MklKernel {
    /// The largest MKL matrix, in entries, for index type `I`.
    fn limit<I: Index>(self) -> usize {
        let api_limit = match route::<I>() {
            IndexRoute::Lp64 => i32::MAX as usize,
            IndexRoute::Ilp64 | IndexRoute::Ilp64Copy => i64::MAX as usize,
        };
        self.max_nnz.map_or(api_limit, |m| m.min(api_limit))
    }

    /// Builds the MKL matrices for `a` (whose arrays must outlive them: they go into the
    /// same [`Handle`] as `a`, which drops its state before its matrix).
    fn state<T: Scalar, I: Index>(
        self,
        a: CsrRef<'_, T, I>,
        origin: Origin,
    ) -> Result<MklState<T, I>> {
        let api = api()?;
        let (hint, check) = match origin {
            Origin::Caller => (self.mv_hint(), true),
            Origin::Product => (None, false),
        };
        let needs_copy = check && !a.is_sorted_without_duplicates();
        let canonical = needs_copy.then(|| {
            let mut c = a.to_csr();
            c.sum_duplicates();
            c
        });
        let a = canonical.as_ref().map_or(a, Csr::view);
        let blocks = match route::<I>() {
            IndexRoute::Lp64 => MklBlocks::Lp64(self.blocks(api, a, None, hint)?),
            IndexRoute::Ilp64 => MklBlocks::Ilp64(self.blocks(api, a, None, hint)?),
            IndexRoute::Ilp64Copy => {
                let copies = copied_indices(a.row_ptrs(), a.col_idxs())?;
                MklBlocks::Ilp64(self.blocks(api, a, Some(copies), hint)?)
            }
        };
        Ok(MklState { blocks, canonical })
    }

    fn blocks<T: Scalar, I: Index, N: MklInt>(
        self,
        api: &MklApi,
        a: CsrRef<'_, T, I>,
        copies: Option<(Vec<N>, Vec<N>)>,
        hint: Option<usize>,
    ) -> Result<Blocks<N>> {
        sparse::mkl_int::<N>(a.nrows(), "rows")?;
        sparse::mkl_int::<N>(a.ncols(), "columns")?;
        sparse::mkl_int::<N>(a.nnz(), "stored entries")?;
        let mut blocks = Vec::new();
        if a.nrows() > 0 && a.ncols() > 0 && a.nnz() > 0 {
            let (row_ptrs, col_idxs) = match &copies {
                Some((p, c)) => (p.as_slice(), c.as_slice()),
                None => borrowed_indices::<I, N>(a.row_ptrs(), a.col_idxs()).ok_or_else(|| {
                    Error::Unsupported {
                        kernel: "mkl",
                        op: "to_handle",
                        reason: format!("{} indices cannot be passed to MKL as they are", I::NAME),
                    }
                })?,
            };
            for rows in row_blocks(a.row_ptrs(), self.limit::<I>())? {
                // SAFETY: the arrays are a validated CSR matrix (`a`, or its converted
                // copy stored beside the blocks) that outlives the blocks: both live in one
                // handle, which drops its state first. Only `order_columns` writes to them,
                // through `MklMatrix::order` on an owned copy.
                let m = unsafe {
                    MklMatrix::wrap(
                        api,
                        row_ptrs,
                        (col_idxs.as_ptr().cast_mut(), a.values().as_ptr().cast_mut()),
                        rows.clone(),
                        a.ncols(),
                        hint,
                    )?
                };
                blocks.push((rows, m));
            }
        }
        Ok(Blocks { blocks, copies })
    }
}

/// The MKL state of a handle this kernel made.
fn mkl_state<'h, T: Scalar, I: Index>(
    h: &'h Handle<'_, T, I>,
    op: &'static str,
) -> Result<&'h MklState<T, I>> {
    match &h.state {
        KernelState::Mkl(state) => Ok(state),
        _ if h.kernel() == KernelId::Mkl => Err(Error::HandleStateLost { op, kernel: "mkl" }),
        _ => Err(Error::ForeignHandle {
            op,
            kernel: "mkl",
            handle_kernel: h.kernel().name(),
        }),
    }
}

/// MKL calls running now, process-wide.
static CALLS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// MKL threads for one call when `in_flight` calls (this one included) share a rayon pool of
/// `pool` threads: the pool split between them, at least one each. A lone call gets the
/// whole pool; calls made from many rayon tasks at once get one thread each, instead of
/// every call starting a pool's worth of OpenMP threads (pool² threads in all).
fn threads_per_call(pool: usize, in_flight: usize) -> usize {
    (pool / in_flight.max(1)).max(1)
}

/// Runs `f` with MKL using the calling thread's share of the current rayon pool
/// ([`threads_per_call`]).
fn with_threads<R>(api: &MklApi, f: impl FnOnce() -> R) -> R {
    let in_flight = CALLS_IN_FLIGHT.fetch_add(1, AtomicOrdering::SeqCst) + 1;
    let share = threads_per_call(rayon::current_num_threads(), in_flight);
    let threads = i32::try_from(share).unwrap_or(i32::MAX);
    // SAFETY: MKL_Set_Num_Threads_Local only sets a per-thread MKL setting.
    let previous = unsafe { (api.set_num_threads_local)(threads) };
    let result = f();
    // SAFETY: as above; restores the calling thread's previous setting.
    unsafe { (api.set_num_threads_local)(previous) };
    CALLS_IN_FLIGHT.fetch_sub(1, AtomicOrdering::SeqCst);
    result
}

/// `y *= beta`, with `beta == 0` giving exact zeros (NaN in `y` ignored).
fn scale<T: Scalar>(y: &mut [T], beta: T) {
    if beta == T::zero() {
        y.fill(T::zero());
    } else {
        y.iter_mut().for_each(|v| *v *= beta);
    }
}

fn mult_vec_blocks<T: Scalar, N: MklInt>(
    api: &MklApi,
    blocks: &Blocks<N>,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) -> Result<()> {
    if blocks.blocks.is_empty() {
        scale(y, beta);
        return Ok(());
    }
    with_threads(api, || {
        blocks
            .blocks
            .iter()
            .try_for_each(|(rows, m)| m.mv::<T, N>(api, alpha, x, beta, &mut y[rows.clone()]))
    })
}

fn mult_dense_blocks<T: Scalar, N: MklInt>(
    api: &MklApi,
    blocks: &Blocks<N>,
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) -> Result<()> {
    let k = x.ncols();
    if k == 0 {
        return Ok(());
    }
    if blocks.blocks.is_empty() {
        for r in 0..y.nrows() {
            scale(y.row_mut(r), beta);
        }
        return Ok(());
    }
    let (ldx, ldy) = (x.stride(), y.stride());
    let x = x.raw_values();
    let y = y.raw_values_mut();
    with_threads(api, || {
        blocks.blocks.iter().try_for_each(|(rows, m)| {
            let y_rows = &mut y[rows.start * ldy..];
            m.mm::<T, N>(api, alpha, (x, ldx), k, beta, (y_rows, ldy))
        })
    })
}

fn product_blocks<T: Scalar, I: Index, N: MklInt>(
    api: &MklApi,
    a: &Blocks<N>,
    b: &Blocks<N>,
    shape: (usize, usize),
    transpose_b: bool,
) -> Result<Csr<T, I>> {
    let b = match b.blocks.as_slice() {
        [] => {
            return Csr::try_from_parts(
                shape.0,
                shape.1,
                vec![I::ZERO; shape.0 + 1],
                Vec::new(),
                Vec::new(),
            );
        }
        [(_, b)] => b,
        _ => {
            return Err(Error::Unsupported {
                kernel: "mkl",
                op: if transpose_b { "mult_abt" } else { "mult_ab" },
                reason: String::from("B has more entries than max_nnz: it cannot be split"),
            });
        }
    };
    if a.blocks.is_empty() {
        return Csr::try_from_parts(
            shape.0,
            shape.1,
            vec![I::ZERO; shape.0 + 1],
            Vec::new(),
            Vec::new(),
        );
    }
    let parts = with_threads(api, || {
        a.blocks
            .iter()
            .map(|(_, m)| m.product::<T, I, N>(api, b, transpose_b))
            .collect::<Result<Vec<_>>>()
    })?;
    let c = stack_rows(parts, shape)?;
    Ok(c)
}

/// Fails unless every row block of `A·B` (`A·Bᵀ` with `transpose_b`) surely has fewer
/// than 2³¹ entries, which MKL's LP64 `sp2m` needs (its counts are 32-bit). The bound is the
/// block's products `Σ nnz(B's row k)` over its entries `(i, k)`, the most entries it can
/// have; a larger block is refused rather than handed to MKL to overflow.
fn lp64_products_fit<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    transpose_b: bool,
    blocks: impl Iterator<Item = Range<usize>>,
) -> Result<()> {
    let meets = meets(b, transpose_b);
    for rows in blocks {
        let bound = products(a, &meets, rows.clone());
        if bound > i32::MAX as usize {
            return Err(Error::Unsupported {
                kernel: "mkl",
                op: if transpose_b { "mult_abt" } else { "mult_ab" },
                reason: format!(
                    "rows {}..{} of the product may hold up to {bound} entries, past MKL's \
                     32-bit (LP64) API: use i64 indices, a smaller max_nnz, or the native kernel",
                    rows.start, rows.end
                ),
            });
        }
    }
    Ok(())
}

/// For each column `k` of `A`, the products an entry `(i, k)` of `A` brings to `A·B`: the
/// entries of B's row `k` (with `transpose_b`, of Bᵀ's row `k`: B's column `k`).
fn meets<T: Scalar, I: Index>(b: CsrRef<'_, T, I>, transpose_b: bool) -> Vec<usize> {
    if transpose_b {
        let mut counts = vec![0usize; b.ncols()];
        b.col_idxs().iter().for_each(|c| counts[c.to_usize()] += 1);
        counts
    } else {
        b.row_lengths().collect()
    }
}

/// The products of rows `rows` of `A` (an upper bound on their entries in the product),
/// given [`meets`] of `B`; saturating.
fn products<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    meets: &[usize],
    rows: Range<usize>,
) -> usize {
    let entries = a.row_ptrs()[rows.start].to_usize()..a.row_ptrs()[rows.end].to_usize();
    a.col_idxs()[entries]
        .iter()
        .fold(0usize, |s, k| s.saturating_add(meets[k.to_usize()]))
}

/// The rows of `parts`, one after the other, as one `shape` matrix.
fn stack_rows<T: Scalar, I: Index>(
    mut parts: Vec<Csr<T, I>>,
    shape: (usize, usize),
) -> Result<Csr<T, I>> {
    if parts.len() == 1 {
        let c = parts.pop().expect("one part");
        // MKL reports the product's width; it is the operands' (checked before the call).
        if c.shape() == shape {
            return Ok(c);
        }
    }
    let rows: usize = parts.iter().map(Csr::nrows).sum();
    let cols = parts.iter().map(Csr::ncols).max().unwrap_or(0);
    if rows != shape.0 || cols > shape.1 {
        return Err(Error::MklOutput {
            call: "mkl_sparse_sp2m",
            problem: format!(
                "{} row blocks of {rows} rows in all and up to {cols} columns for a {} x {} product",
                parts.len(),
                shape.0,
                shape.1
            ),
        });
    }
    let nnz: usize = parts.iter().map(Csr::nnz).sum();
    check_fits::<I>(Extent::Nnz, nnz)?;
    let mut row_ptrs = Vec::with_capacity(shape.0 + 1);
    let mut col_idxs = Vec::with_capacity(nnz);
    let mut values = Vec::with_capacity(nnz);
    row_ptrs.push(I::ZERO);
    for part in &parts {
        let offset = col_idxs.len();
        row_ptrs.extend(
            part.row_ptrs()[1..]
                .iter()
                .map(|p| I::truncate(p.to_usize() + offset)),
        );
        col_idxs.extend_from_slice(part.col_idxs());
        values.extend_from_slice(part.values());
    }
    Csr::try_from_parts(shape.0, shape.1, row_ptrs, col_idxs, values)
}

impl<T: Scalar, I: Index> Kernel<T, I> for MklKernel {
    fn id(&self) -> KernelId {
        KernelId::Mkl
    }

    fn max_nnz(&self) -> usize {
        self.limit::<I>()
    }

    fn to_handle<'a>(&self, a: CsrRef<'a, T, I>) -> Result<Handle<'a, T, I>> {
        let state = self.state(a, Origin::Caller)?;
        Ok(Handle::borrowed(KernelId::Mkl, a, KernelState::Mkl(state)))
    }

    fn from_handle(&self, h: &Handle<'_, T, I>) -> Result<Csr<T, I>> {
        h.check_kernel(KernelId::Mkl, "from_handle")?;
        // The handle's MKL matrices wrap the handle's own arrays (products are copied out of
        // MKL when they are made), so copying those out is what `export_csr` would give.
        Ok(h.matrix().to_csr())
    }

    fn order_columns(&self, h: &mut Handle<'_, T, I>) -> Result<()> {
        h.check_kernel(KernelId::Mkl, "order_columns")?;
        let api = api()?;
        let a = h.matrix_mut();
        let sorted = match route::<I>() {
            // mkl_sparse_order is not stable: with duplicate columns in a row, their values
            // could swap. Sort those matrices with the library's stable sort.
            _ if a.has_duplicates() => {
                a.sort_by_column_index();
                Ok(())
            }
            IndexRoute::Lp64 => order_in_place::<T, I, i32>(api, a),
            IndexRoute::Ilp64 => order_in_place::<T, I, i64>(api, a),
            // MKL would sort the i64 copy, not the matrix: sort the matrix itself.
            IndexRoute::Ilp64Copy => {
                a.sort_by_column_index();
                Ok(())
            }
        };
        // `matrix_mut` dropped the MKL matrices (they pointed at the old arrays): rebuild
        // them even when the sort failed, so the handle stays usable.
        h.state = KernelState::Mkl(self.state(h.matrix(), Origin::Caller)?);
        sorted
    }

    fn mult_vec(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &[T],
        beta: T,
        y: &mut [T],
    ) -> Result<()> {
        h.check_kernel(KernelId::Mkl, "mult_vec")?;
        shapes::mult_vec(h.matrix(), x.len(), y.len())?;
        state_mult_vec(mkl_state(h, "mult_vec")?, alpha, x, beta, y)
    }

    fn mult_dense(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &Dense<T>,
        beta: T,
        y: &mut Dense<T>,
    ) -> Result<()> {
        h.check_kernel(KernelId::Mkl, "mult_dense")?;
        shapes::mult_dense(h.matrix(), x, y)?;
        state_mult_dense(mkl_state(h, "mult_dense")?, alpha, x, beta, y)
    }

    fn mult_ab(&self, a: &Handle<'_, T, I>, b: &Handle<'_, T, I>) -> Result<Handle<'static, T, I>> {
        self.product(a, b, false)
    }

    fn mult_abt(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        self.product(a, b, true)
    }

    fn mult_ab_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        self.topk_product(a, b, opts, false)
    }

    fn mult_abt_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>> {
        self.topk_product(a, b, opts, true)
    }
}

/// The most product entries (a flop-count bound) one row block of an MKL top-k product
/// holds at once: 16M entries, about 200 MB with `f64` values and `i32` indices plus MKL's
/// own copy. A memory bound chosen, not measured for speed.
const TOPK_BLOCK_ENTRIES: usize = 1 << 24;

impl MklKernel {
    /// A top-k product: `A` is cut into row blocks whose product holds at most
    /// [`TOPK_BLOCK_ENTRIES`] (or `max_nnz`) entries, each block's full product comes from
    /// `mkl_sparse_sp2m`, and its rows are selected before the next block runs.
    fn topk_product<T: Scalar, I: Index>(
        self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
        transpose_b: bool,
    ) -> Result<Handle<'static, T, I>> {
        let (am, bm) = topk_operands(KernelId::Mkl, a, b, transpose_b)?;
        let shape = (
            am.nrows(),
            if transpose_b { bm.nrows() } else { bm.ncols() },
        );
        let c = if opts.k == 0 {
            empty_result(shape.0, shape.1)?
        } else {
            let meets = meets(bm, transpose_b);
            let limit = self.limit::<I>().min(TOPK_BLOCK_ENTRIES);
            let row_flops = |r: usize| products(am, &meets, r..r + 1);
            // Blocks are bounded by their product here, not by max_nnz: one row may hold
            // more entries than max_nnz.
            let whole = Self {
                max_nnz: None,
                ..self
            };
            let mut parts = Vec::new();
            let mut start = 0;
            while start < shape.0 {
                // At least one row; then rows while the block's product stays in bounds.
                let (mut end, mut flops) = (start + 1, row_flops(start));
                while end < shape.0 && flops.saturating_add(row_flops(end)) <= limit {
                    flops += row_flops(end);
                    end += 1;
                }
                let block = am.submatrix(start..end, 0..am.ncols())?;
                let hb = whole.to_handle(block.view())?;
                let product = whole.product(&hb, b, transpose_b)?;
                parts.push(select_rows(product.matrix(), opts, start)?);
                start = end;
            }
            stack_rows(parts, shape)?
        };
        let state = self.state(c.view(), Origin::Product)?;
        Ok(Handle::owned(KernelId::Mkl, c, KernelState::Mkl(state)))
    }

    fn product<T: Scalar, I: Index>(
        self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        transpose_b: bool,
    ) -> Result<Handle<'static, T, I>> {
        let op = if transpose_b { "mult_abt" } else { "mult_ab" };
        a.check_kernel(KernelId::Mkl, op)?;
        b.check_kernel(KernelId::Mkl, op)?;
        shapes::mult_ab(a.matrix(), b.matrix(), transpose_b)?;
        let (b_rows, b_cols) = b.shape();
        let shape = (a.shape().0, if transpose_b { b_rows } else { b_cols });
        let api = api()?;
        let c: Csr<T, I> = match (&mkl_state(a, op)?.blocks, &mkl_state(b, op)?.blocks) {
            (MklBlocks::Lp64(x), MklBlocks::Lp64(y)) => {
                let rows = x.blocks.iter().map(|(rows, _)| rows.clone());
                lp64_products_fit(a.matrix(), b.matrix(), transpose_b, rows)?;
                product_blocks::<T, I, i32>(api, x, y, shape, transpose_b)?
            }
            (MklBlocks::Ilp64(x), MklBlocks::Ilp64(y)) => {
                product_blocks::<T, I, i64>(api, x, y, shape, transpose_b)?
            }
            _ => unreachable!("one index type always takes the same MKL route"),
        };
        let state = self.state(c.view(), Origin::Product)?;
        Ok(Handle::owned(KernelId::Mkl, c, KernelState::Mkl(state)))
    }
}

/// The MKL matrices for `a` that the native kernel's `sparselib` strategy multiplies with
/// (made with the SpMV hint and `mkl_sparse_optimize`). They point into `a`'s arrays: the
/// caller keeps them in the handle that holds `a`.
pub(crate) fn sparselib_state<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> Result<MklState<T, I>> {
    MklKernel::new().state(a, Origin::Caller)
}

/// `y = alpha·A·x + beta·y` with the MKL matrices of `state` (a handle's, or those of
/// [`sparselib_state`]); shapes already checked.
pub(crate) fn state_mult_vec<T: Scalar, I: Index>(
    state: &MklState<T, I>,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) -> Result<()> {
    let api = api()?;
    match &state.blocks {
        MklBlocks::Lp64(b) => mult_vec_blocks(api, b, alpha, x, beta, y),
        MklBlocks::Ilp64(b) => mult_vec_blocks(api, b, alpha, x, beta, y),
    }
}

/// `Y = alpha·A·X + beta·Y` with the MKL matrices of `state` (see [`state_mult_vec`]);
/// shapes already checked.
pub(crate) fn state_mult_dense<T: Scalar, I: Index>(
    state: &MklState<T, I>,
    alpha: T,
    x: &Dense<T>,
    beta: T,
    y: &mut Dense<T>,
) -> Result<()> {
    let api = api()?;
    match &state.blocks {
        MklBlocks::Lp64(b) => mult_dense_blocks(api, b, alpha, x, beta, y),
        MklBlocks::Ilp64(b) => mult_dense_blocks(api, b, alpha, x, beta, y),
    }
}

/// Sorts the rows of `a` with `mkl_sparse_order`, which sorts the arrays in place.
fn order_in_place<T: Scalar, I: Index, N: MklInt>(api: &MklApi, a: &mut Csr<T, I>) -> Result<()> {
    let (nrows, ncols, nnz) = (a.nrows(), a.ncols(), a.nnz());
    if nrows == 0 || ncols == 0 || nnz == 0 {
        return Ok(());
    }
    let (row_ptrs, col_idxs, values) = a.parts_mut();
    let row_ptrs: &[N] = bytemuck::cast_slice(row_ptrs);
    let col_idxs: &mut [N] = bytemuck::cast_slice_mut(col_idxs);
    let entries = (col_idxs.as_mut_ptr(), values.as_mut_ptr());
    // SAFETY: the arrays are a valid CSR matrix; the column and value arrays are exclusively
    // borrowed for this whole function, which drops the MKL matrix before returning, so
    // MKL's in-place sort in `order` is the only access to them meanwhile.
    let mut m = unsafe { MklMatrix::wrap(api, row_ptrs, entries, 0..nrows, ncols, None)? };
    with_threads(api, || m.order::<N>(api))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_blocks_of_the_wrong_shape_are_an_mkl_output_error() {
        let block = |rows| Csr::<f64, i32>::empty(rows, 4).unwrap();
        // Two blocks of 2 and 3 rows for a 6-row product.
        let err = stack_rows(vec![block(2), block(3)], (6, 4)).unwrap_err();
        assert!(
            matches!(&err, Error::MklOutput { call: "mkl_sparse_sp2m", problem } if problem.contains("5 rows")),
            "{err}"
        );
        // Wider than the product.
        let err = stack_rows(vec![block(2), Csr::empty(4, 9).unwrap()], (6, 4)).unwrap_err();
        assert!(matches!(err, Error::MklOutput { .. }), "{err}");
        let c = stack_rows(vec![block(2), block(4)], (6, 4)).unwrap();
        assert_eq!(c.shape(), (6, 4));
    }

    #[test]
    fn lp64_products_past_two_to_the_31_are_refused_before_mkl() {
        // A: one row of 50 000 entries, all in column 0 (duplicates are valid). B: row 0 (for
        // A·B) or column 0 (for A·Bᵀ) holds 50 000 entries. 2.5e9 products in one row block.
        let n = 50_000;
        let a = Csr::<f32, i32>::try_from_parts(1, n, vec![0, n as i32], vec![0; n], vec![1.0; n])
            .unwrap();
        let row0 = Csr::<f32, i32>::try_from_parts(
            n,
            n,
            std::iter::once(0)
                .chain(std::iter::repeat_n(n as i32, n))
                .collect(),
            (0..n as i32).collect(),
            vec![1.0; n],
        )
        .unwrap();
        let col0 = row0.transpose();
        for (b, transpose_b) in [(&row0, false), (&col0, true)] {
            let err = lp64_products_fit(a.view(), b.view(), transpose_b, std::iter::once(0..1))
                .unwrap_err();
            assert!(
                matches!(&err, Error::Unsupported { reason, .. } if reason.contains("2500000000 entries")),
                "{err}"
            );
        }
        // Blocks whose products stay below 2^31 pass: row0·row0 makes 50 000 in all; a
        // one-row block of col0·col0ᵀ makes 50 000.
        lp64_products_fit(row0.view(), row0.view(), false, std::iter::once(0..n)).unwrap();
        lp64_products_fit(col0.view(), col0.view(), true, std::iter::once(0..1)).unwrap();
    }

    #[test]
    fn concurrent_calls_share_the_pool() {
        assert_eq!(threads_per_call(8, 1), 8);
        assert_eq!(threads_per_call(8, 2), 4);
        assert_eq!(threads_per_call(8, 3), 2);
        assert_eq!(threads_per_call(8, 8), 1);
        assert_eq!(threads_per_call(8, 100), 1);
        assert_eq!(threads_per_call(1, 0), 1);
    }

    #[test]
    fn an_mkl_handle_without_its_state_says_so() {
        let a = Csr::<f64, i32>::identity(2).unwrap();
        let h = Handle::borrowed(KernelId::Mkl, a.view(), KernelState::None);
        let err = mkl_state(&h, "mult_vec").unwrap_err();
        assert_eq!(
            err,
            Error::HandleStateLost {
                op: "mult_vec",
                kernel: "mkl"
            }
        );
        assert!(!err.to_string().contains("not mkl"), "{err}");
        let native = Handle::borrowed(KernelId::Native, a.view(), KernelState::None);
        assert!(matches!(
            mkl_state(&native, "mult_vec"),
            Err(Error::ForeignHandle {
                handle_kernel: "native",
                ..
            })
        ));
    }
}
