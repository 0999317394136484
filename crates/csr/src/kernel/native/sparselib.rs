//! The `sparselib` strategy: SpMV through the vendor library (MKL's inspector–executor
//! `mkl_sparse_?_mv` after `mkl_sparse_set_mv_hint` + `mkl_sparse_optimize`).
//!
//! The whole path sits behind [`multiply`] so that wiring it to the MKL kernel touches one
//! function. Until that kernel exists it reports [`Error::KernelUnavailable`].

use crate::error::{Error, Result};
use crate::kernel::KernelId;
use crate::{CsrRef, Dense, Index, Scalar};

/// The operands of one product: a vector or a dense block of right-hand sides.
#[allow(
    dead_code,
    reason = "read by the MKL call once the MKL kernel lands; until then `multiply` only reports it missing"
)]
pub(super) enum Operands<'o, T> {
    /// `y = alpha * A * x + beta * y`.
    Vec { x: &'o [T], y: &'o mut [T] },
    /// `Y = alpha * A * X + beta * Y`.
    Dense {
        x: &'o Dense<T>,
        y: &'o mut Dense<T>,
    },
}

/// Runs the product through the vendor library.
///
/// # Errors
/// [`Error::KernelUnavailable`] naming `mkl`: the MKL kernel is not available (its reason
/// included).
pub(super) fn multiply<T: Scalar, I: Index>(
    _a: CsrRef<'_, T, I>,
    _alpha: T,
    _beta: T,
    _operands: Operands<'_, T>,
) -> Result<()> {
    let why = match KernelId::Mkl.availability() {
        Err(Error::KernelUnavailable { reason, .. }) => reason,
        Err(other) => other.to_string(),
        Ok(()) => String::from("the MKL kernel is available but not yet wired to this strategy"),
    };
    Err(Error::KernelUnavailable {
        kernel: "mkl",
        reason: format!("the sparselib SpMV strategy needs the MKL kernel: {why}"),
    })
}
