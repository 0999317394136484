//! [`Handle`]: a matrix prepared by a kernel.

use std::sync::OnceLock;

use super::KernelId;
use super::mkl::MklState;
use super::native::{KeptWorkspaces, SpmvPlan};
use crate::error::{Error, Result};
use crate::{Csr, CsrRef, Index, Scalar, Strategy};

/// The matrix behind a handle: borrowed from the caller, or owned (a product, or a sorted
/// copy made by `order_columns`).
#[derive(Debug)]
enum Matrix<'a, T, I> {
    Borrowed(CsrRef<'a, T, I>),
    Owned(Csr<T, I>),
}

/// What a kernel keeps in a handle besides the matrix. Dropping it releases it.
#[derive(Debug, Default)]
pub(crate) enum KernelState<T, I> {
    /// Nothing (reference kernel, products).
    #[default]
    None,
    /// Native kernel: the SpMV plan (strategy and partition), and the transpose, built on
    /// first use by `mult_abt` and kept.
    Native {
        /// The SpMV strategy and its partition, made once: when `to_handle` makes the
        /// handle; for a product's handle, or after a mutation, on first use (SpMV or
        /// [`Handle::strategy`]), so that products nobody multiplies by a vector do not pay
        /// for a plan (`tiled` copies the matrix).
        spmv: OnceLock<Box<SpmvPlan<T>>>,
        /// `Aᵀ`, computed lazily once.
        transpose: OnceLock<Csr<T, I>>,
        /// SpGEMM accumulators (over this matrix's columns) kept from earlier products with
        /// this matrix on the right, one per thread.
        workspaces: KeptWorkspaces<T, I>,
    },
    /// MKL kernel: MKL matrices over the handle's arrays (which must outlive them: a handle
    /// drops its state before its matrix).
    Mkl(MklState<T, I>),
}

/// A matrix prepared by a [`Kernel`](super::Kernel), as LensKit's kernels have.
///
/// A handle borrows the matrix it was made from (`'a`), so it cannot outlive it; products
/// own their matrix (`Handle<'static, T, I>`). Dropping a handle releases everything the
/// kernel allocated for it. Handles are `Send + Sync`: many threads may multiply with one
/// shared handle at once.
#[derive(Debug)]
#[must_use = "a handle does nothing unless used; dropping it releases it"]
pub struct Handle<'a, T, I> {
    kernel: KernelId,
    /// Declared before `matrix` so that it is dropped first: kernel state (MKL's handles)
    /// may point into the matrix's arrays.
    pub(crate) state: KernelState<T, I>,
    matrix: Matrix<'a, T, I>,
    /// Set where the kernel saw, as it computed the matrix, that no stored value is zero.
    zero_free: bool,
}

impl<'a, T: Scalar, I: Index> Handle<'a, T, I> {
    /// A handle over a borrowed matrix.
    pub(crate) fn borrowed(
        kernel: KernelId,
        a: CsrRef<'a, T, I>,
        state: KernelState<T, I>,
    ) -> Self {
        Self {
            kernel,
            matrix: Matrix::Borrowed(a),
            state,
            zero_free: false,
        }
    }

    /// A handle owning its matrix.
    pub(crate) fn owned(kernel: KernelId, a: Csr<T, I>, state: KernelState<T, I>) -> Self {
        Self {
            kernel,
            matrix: Matrix::Owned(a),
            state,
            zero_free: false,
        }
    }

    /// Records that no stored value of the matrix is zero (a product whose numeric pass
    /// saw none), so that [`Handle::is_known_zero_free`] spares callers a scan.
    pub(crate) fn known_zero_free(mut self, zero_free: bool) -> Self {
        self.zero_free = zero_free;
        self
    }

    /// The kernel that made this handle.
    #[must_use]
    pub fn kernel(&self) -> KernelId {
        self.kernel
    }

    /// The matrix behind the handle.
    #[must_use]
    pub fn matrix(&self) -> CsrRef<'_, T, I> {
        match &self.matrix {
            Matrix::Borrowed(a) => *a,
            Matrix::Owned(a) => a.view(),
        }
    }

    /// The SpMV strategy this handle runs, as resolved when it was made (what `automatic`
    /// picked), or `None` for a kernel without strategies (the reference kernel).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::{Kernel, NativeKernel};
    /// use csr::{Csr, Strategy};
    ///
    /// // Every row of the identity holds one entry at offset 0 from the row: one run of
    /// // rows sharing their column offsets, which `automatic` encodes compactly.
    /// let a = Csr::<f64, i32>::identity(10)?;
    /// let h = Kernel::<f64, i32>::to_handle(&NativeKernel, a.view())?;
    /// assert_eq!(h.strategy(), Some(Strategy::Compressed));
    /// assert!(h.strategy_reason().unwrap().contains("runs of rows"));
    ///
    /// // Named strategies run as asked.
    /// let named = a.view().with_strategy(Strategy::LoadBalance);
    /// let h = Kernel::<f64, i32>::to_handle(&NativeKernel, named)?;
    /// assert_eq!(h.strategy(), Some(Strategy::LoadBalance));
    /// assert_eq!(h.strategy_reason(), Some("requested"));
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn strategy(&self) -> Option<Strategy> {
        match &self.state {
            KernelState::Native { spmv, .. } => Some(self.plan(spmv).strategy()),
            _ => None,
        }
    }

    /// Why the handle runs its [`strategy`](Self::strategy): `"requested"` when the matrix
    /// named it, else `automatic`'s reason.
    #[must_use]
    pub fn strategy_reason(&self) -> Option<&str> {
        match &self.state {
            KernelState::Native { spmv, .. } => Some(self.plan(spmv).reason()),
            _ => None,
        }
    }

    /// Whether this handle's SpMV ([`Kernel::mult_vec`](super::Kernel::mult_vec)) runs on
    /// the calling thread with no rayon call: a native handle whose plan, already made
    /// (`to_handle` makes it; a product's handle on its first SpMV), runs one row block. A
    /// caller about to hand the call to a thread pool (the Python bindings) then runs it
    /// where it is, and saves the hand-over: 16–43% of the call on matrices of 51k and 85k
    /// entries, 2 threads (`bench/runs/2026-12-07-serial-spmv`).
    #[must_use]
    pub fn spmv_runs_serially(&self) -> bool {
        self.made_plan_says(SpmvPlan::runs_serially_for)
    }

    /// Whether this handle's SpMV runs its row blocks through
    /// [`joined::with_helpers`](crate::joined::with_helpers) when called inside it from a
    /// thread outside the pool (the calling thread taking blocks beside the pool's
    /// workers): a native handle whose plan, already made, runs contiguous row blocks
    /// (`classical`, `load_balance`), with no other parallel step (`y` is the caller's).
    #[must_use]
    pub fn spmv_joins_caller(&self) -> bool {
        self.made_plan_says(SpmvPlan::runs_row_blocks_for)
    }

    /// What `test` says of the native SpMV plan for this handle's matrix, `false` where no
    /// plan is made yet or the kernel is not native.
    fn made_plan_says(&self, test: impl FnOnce(&SpmvPlan<T>, CsrRef<'_, T, I>) -> bool) -> bool {
        match &self.state {
            KernelState::Native { spmv, .. } => {
                spmv.get().is_some_and(|plan| test(plan, self.matrix()))
            }
            _ => false,
        }
    }

    /// The native SpMV plan in `spmv` (this handle's), made now if it was not yet.
    pub(crate) fn plan<'s>(&'s self, spmv: &'s OnceLock<Box<SpmvPlan<T>>>) -> &'s SpmvPlan<T> {
        match get_or_build(spmv, || {
            Ok::<_, std::convert::Infallible>(Box::new(SpmvPlan::new(self.matrix())))
        }) {
            Ok(plan) => plan,
            Err(never) => match never {},
        }
    }

    /// `(nrows, ncols)` of the matrix.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        self.matrix().shape()
    }

    /// Whether the kernel that made this handle knows that no stored value is zero: a
    /// native product whose numeric pass met no cancellation. `false` means unknown, not
    /// that zeros are stored. Callers that must drop stored zeros
    /// ([`Csr::eliminate_zeros`]) can skip that scan where this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::kernel::{Kernel, NativeKernel};
    /// use csr::Csr;
    ///
    /// // [1 1] · [1 -1; 1 1] = [2 0]: the second entry cancels.
    /// let a = Csr::<f64, i32>::try_from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0, 1.0])?;
    /// let b = Csr::<f64, i32>::try_from_parts(
    ///     2, 2, vec![0, 2, 4], vec![0, 1, 0, 1], vec![1.0, -1.0, 1.0, 1.0])?;
    /// let k = NativeKernel;
    /// let (ha, hb) = (k.to_handle(a.view())?, k.to_handle(b.view())?);
    /// let c = k.mult_ab(&ha, &hb)?;
    /// assert_eq!(c.matrix().values(), &[2.0, 0.0]);
    /// assert!(!c.is_known_zero_free());
    ///
    /// // [1 1] · I: no sum cancels, and the product says so.
    /// let i = Csr::<f64, i32>::identity(2)?;
    /// let c = k.mult_ab(&ha, &k.to_handle(i.view())?)?;
    /// assert!(c.is_known_zero_free());
    /// # Ok::<(), csr::Error>(())
    /// ```
    #[must_use]
    pub fn is_known_zero_free(&self) -> bool {
        self.zero_free
    }

    /// The matrix, owned (a copy if it was borrowed).
    #[must_use]
    pub fn into_csr(self) -> Csr<T, I> {
        match self.matrix {
            Matrix::Borrowed(a) => a.to_csr(),
            Matrix::Owned(a) => a,
        }
    }

    /// Mutable access to the matrix, copying a borrowed one first (copy on write). Clears
    /// any derived state, which would no longer match (the kernel recomputes what it needs).
    pub(crate) fn matrix_mut(&mut self) -> &mut Csr<T, I> {
        if let Matrix::Borrowed(a) = self.matrix {
            self.matrix = Matrix::Owned(a.to_csr());
        }
        self.zero_free = false;
        self.state = match self.state {
            // MKL's matrices point into the old arrays: drop them; the kernel rebuilds them.
            KernelState::None | KernelState::Mkl(_) => KernelState::None,
            KernelState::Native { .. } => KernelState::Native {
                spmv: OnceLock::new(),
                transpose: OnceLock::new(),
                workspaces: KeptWorkspaces::new(),
            },
        };
        match &mut self.matrix {
            Matrix::Owned(a) => a,
            Matrix::Borrowed(_) => unreachable!("a borrowed matrix was copied above"),
        }
    }

    /// Fails with [`Error::ForeignHandle`] unless `kernel` made this handle.
    pub(crate) fn check_kernel(&self, kernel: KernelId, op: &'static str) -> Result<()> {
        if self.kernel != kernel {
            return Err(Error::ForeignHandle {
                op,
                kernel: kernel.name(),
                handle_kernel: self.kernel.name(),
            });
        }
        Ok(())
    }
}

/// The value in `cell`, built by `build` first if the cell is empty (an error from `build`
/// leaves the cell empty).
///
/// Unlike [`OnceLock::get_or_init`], `build` runs outside the cell. The builds here run rayon
/// work, and a rayon worker waiting for that work steals other tasks: one that needs the same
/// cell would re-enter `get_or_init` on the thread already initialising it, which std
/// documents as a deadlock. Here it builds its own value instead. Threads that race may each
/// build one; the first stored is kept and the others are dropped (the builds are
/// deterministic, so every caller sees equal values).
pub(crate) fn get_or_build<V, E>(
    cell: &OnceLock<V>,
    build: impl FnOnce() -> std::result::Result<V, E>,
) -> std::result::Result<&V, E> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let built = build()?;
    // Initialising with a ready value runs no user code: it cannot re-enter.
    Ok(cell.get_or_init(|| built))
}
