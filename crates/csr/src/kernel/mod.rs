//! Compute kernels: the [`Kernel`] trait, [`Handle`]s, and kernel selection.
//!
//! As in LensKit's `csr` package, heavy operations go through a *kernel*. A kernel turns a
//! matrix into a [`Handle`] (`to_handle`), computes with handles (`mult_vec`, `mult_dense`,
//! `mult_ab`, `mult_abt`, their top-k forms `mult_ab_topk` and `mult_abt_topk` (see [`TopK`]),
//! `order_columns`) and copies results out (`from_handle`). Unlike the
//! original, a handle borrows its matrix, so the compiler stops it outliving the matrix, and
//! it releases whatever the kernel allocated when it is dropped: no explicit release needed.
//!
//! | kernel | what | default |
//! |---|---|---|
//! | [`NativeKernel`] (`native`) | pure Rust, parallel on rayon, the fast one | when MKL is absent |
//! | [`ReferenceKernel`] (`reference`) | serial textbook code, the oracle of the tests | never |
//! | [`MklKernel`] (`mkl`) | Intel MKL sparse BLAS, loaded at run time | when it loads |
//!
//! The process default ([`default_kernel`]) is fixed at first use: the `CSR_KERNEL`
//! environment variable if set (an unknown name is an error, not a silent fallback), else
//! `mkl` if it can be loaded, else `native`. [`set_kernel`] changes the calling thread's
//! active kernel only; [`use_kernel`] does so until its guard is dropped, restoring the
//! previous kernel (nesting works). Hot code can skip the registry and call a concrete kernel
//! type directly (static dispatch).
//!
//! # Examples
//!
//! ```
//! use csr::kernel::{self, Kernel};
//! use csr::Csr;
//!
//! let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![2.0, 3.0])?;
//! let k = kernel::get_kernel::<f64, i32>("native")?;
//! let h = k.to_handle(a.view())?;
//! let mut y = vec![0.0; 2];
//! k.mult_vec(&h, 1.0, &[1.0, 10.0], 0.0, &mut y)?;
//! assert_eq!(y, vec![20.0, 3.0]);
//! let c = k.from_handle(&k.mult_ab(&h, &h)?)?; // A·A
//! assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, 0, 6.0), (1, 1, 6.0)]);
//! # Ok::<(), csr::Error>(())
//! ```

mod handle;
mod mkl;
mod native;
mod reference;
mod registry;
mod shapes;
mod topk;
#[cfg(target_arch = "x86_64")]
mod topk_avx512;

pub use handle::Handle;
pub(crate) use handle::KernelState;
pub use mkl::{MKL_LIB_ENV, MklInfo, MklKernel, mkl_info};
pub use native::NativeKernel;
pub use reference::ReferenceKernel;
pub use registry::{
    KERNEL_ENV, KernelGuard, KernelId, KernelInfo, available_kernels, default_kernel, get_kernel,
    kernel, kernel_for, set_kernel, use_kernel,
};
pub use topk::{Cosine, TopK, TopKOrder, cosine_topk, select_topk};

use crate::error::Result;
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// A compute kernel for matrices with values `T` and indices `I`.
///
/// The trait is object-safe: [`get_kernel`] returns a `&'static dyn Kernel<T, I>` chosen by
/// name at run time. Every operation checks shapes and returns
/// [`crate::Error::DimensionMismatch`] on a mismatch; a kernel that cannot do an operation
/// or a type returns [`crate::Error::Unsupported`]. No operation panics on user input.
///
/// Operations accept unsorted rows, duplicates and explicit zeros unless their docs say
/// otherwise.
pub trait Kernel<T: Scalar, I: Index>: Send + Sync {
    /// Which kernel this is.
    fn id(&self) -> KernelId;

    /// The kernel's name (`"native"`).
    fn name(&self) -> &'static str {
        self.id().name()
    }

    /// The largest number of stored entries a handle may hold; larger matrices are split by
    /// rows where an operation allows it.
    fn max_nnz(&self) -> usize;

    /// Prepares `a` for computation. The handle borrows `a`.
    ///
    /// # Errors
    /// [`crate::Error::Unsupported`] if the kernel cannot take this matrix.
    fn to_handle<'a>(&self, a: CsrRef<'a, T, I>) -> Result<Handle<'a, T, I>>;

    /// Copies the matrix behind a handle out (e.g. a product).
    ///
    /// # Errors
    /// [`crate::Error::ForeignHandle`] or a kernel failure.
    #[allow(
        clippy::wrong_self_convention,
        reason = "LensKit's kernel operation name, kept for users of the seed system"
    )]
    fn from_handle(&self, h: &Handle<'_, T, I>) -> Result<Csr<T, I>>;

    /// Releases a handle now (dropping it does the same).
    fn release(&self, h: Handle<'_, T, I>) {
        drop(h);
    }

    /// Sorts every row of the handle's matrix by column index. A borrowed matrix is copied
    /// first: the caller's arrays are never modified.
    ///
    /// # Errors
    /// A kernel failure.
    fn order_columns(&self, h: &mut Handle<'_, T, I>) -> Result<()>;

    /// `y = alpha * A * x + beta * y`. With `beta == 0` the old contents of `y` are ignored
    /// (NaN included).
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
    fn mult_vec(&self, h: &Handle<'_, T, I>, alpha: T, x: &[T], beta: T, y: &mut [T])
    -> Result<()>;

    /// `Y = alpha * A * X + beta * Y` for a dense block `X` of right-hand sides (row-major:
    /// `X` is `ncols x k`, `Y` is `nrows x k`). With `beta == 0` the old `Y` is ignored.
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] if the shapes disagree.
    fn mult_dense(
        &self,
        h: &Handle<'_, T, I>,
        alpha: T,
        x: &Dense<T>,
        beta: T,
        y: &mut Dense<T>,
    ) -> Result<()>;

    /// The product `A·B`, as a handle that owns it. Output rows are sorted by column;
    /// explicit zeros from cancellation are kept.
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `A.ncols == B.nrows`;
    /// [`crate::Error::IndexTooNarrow`] if the product's nnz does not fit `I`.
    fn mult_ab(&self, a: &Handle<'_, T, I>, b: &Handle<'_, T, I>) -> Result<Handle<'static, T, I>>;

    /// The product `A·Bᵀ` (the caller does not transpose `B`), as a handle that owns it.
    /// Output rows are sorted by column; explicit zeros from cancellation are kept.
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `A.ncols == B.ncols`;
    /// [`crate::Error::IndexTooNarrow`] if the product's nnz does not fit `I`.
    fn mult_abt(&self, a: &Handle<'_, T, I>, b: &Handle<'_, T, I>)
    -> Result<Handle<'static, T, I>>;

    /// [`mult_ab`](Kernel::mult_ab) with the columns of each output row in any order: the
    /// kernel may leave them as its accumulator found them instead of sorting them (what
    /// MKL's `sp2m`, scipy and `sparse_dot_topn` return). The entries, their values (bit
    /// for bit) and the row pointers are those of `mult_ab`; only the order within a row
    /// may differ. [`order_columns`](Kernel::order_columns) sorts them later if needed.
    /// The default is `mult_ab` itself (sorted rows are in an order too).
    ///
    /// # Errors
    /// As for [`mult_ab`](Kernel::mult_ab).
    fn mult_ab_unsorted(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        self.mult_ab(a, b)
    }

    /// [`mult_abt`](Kernel::mult_abt) with the columns of each output row in any order,
    /// as [`mult_ab_unsorted`](Kernel::mult_ab_unsorted) says.
    ///
    /// # Errors
    /// As for [`mult_abt`](Kernel::mult_abt).
    fn mult_abt_unsorted(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        self.mult_abt(a, b)
    }

    /// The `opts.k` largest entries of each row of `A·B` (after `opts`' threshold and
    /// diagonal exclusion), as a handle that owns them: at most `k` entries per row,
    /// ordered as `opts.order` says. Ties, zeros and non-finite values behave as the
    /// [`TopK`] docs say, identically in every kernel. Kernels that can avoid it never hold
    /// the whole product (the native kernel keeps only the output and one accumulator per
    /// thread).
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `A.ncols == B.nrows`;
    /// [`crate::Error::Unsupported`] for complex values (no order) or a kernel without the
    /// operation; [`crate::Error::IndexTooNarrow`] if the result's nnz does not fit `I`.
    fn mult_ab_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>>;

    /// [`mult_ab_topk`](Kernel::mult_ab_topk) for `A·Bᵀ` (the caller does not transpose
    /// `B`): with `B = A`, the `k` rows most similar to each row of `A` by dot product.
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] unless `A.ncols == B.ncols`; otherwise as
    /// [`mult_ab_topk`](Kernel::mult_ab_topk).
    fn mult_abt_topk(
        &self,
        a: &Handle<'_, T, I>,
        b: &Handle<'_, T, I>,
        opts: &TopK<T::Real>,
    ) -> Result<Handle<'static, T, I>>;
}
