//! The `sparselib` strategy: SpMV through the vendor library, MKL's inspector–executor
//! `mkl_sparse_?_mv` / `mkl_sparse_?_mm`, prepared with `mkl_sparse_set_mv_hint` +
//! `mkl_sparse_optimize` once, when the handle's plan is made.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::kernel::mkl::{self, MklState};
use crate::{CsrRef, Dense, Index, Scalar};

/// The operands of one product: a vector or a dense block of right-hand sides.
pub(super) enum Operands<'o, T> {
    /// `y = alpha * A * x + beta * y`.
    Vec { x: &'o [T], y: &'o mut [T] },
    /// `Y = alpha * A * X + beta * Y`.
    Dense {
        x: &'o Dense<T>,
        y: &'o mut Dense<T>,
    },
}

/// MKL's prepared matrices for one plan, or why there are none. Type-erased (the plan is not
/// generic); they point into the arrays of the matrix the plan was made for, so a `Vendor`
/// lives in that matrix's handle (which drops its state before its matrix).
#[derive(Clone)]
pub(super) struct Vendor(std::result::Result<Arc<dyn Any + Send + Sync>, Error>);

impl fmt::Debug for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(_) => f.write_str("Vendor(MKL matrices)"),
            Err(e) => write!(f, "Vendor(unavailable: {e})"),
        }
    }
}

impl Vendor {
    /// Prepares MKL's matrices for `a`; if MKL cannot be loaded, records why.
    pub(super) fn new<T: Scalar, I: Index>(a: CsrRef<'_, T, I>) -> Self {
        let state = mkl::sparselib_state(a).map_err(|e| match e {
            Error::KernelUnavailable { reason, .. } => Error::KernelUnavailable {
                kernel: "mkl",
                reason: format!("the sparselib SpMV strategy needs the MKL kernel: {reason}"),
            },
            other => other,
        });
        Self(state.map(|s| Arc::new(s) as Arc<dyn Any + Send + Sync>))
    }
}

/// Runs the product through MKL.
///
/// # Errors
/// [`Error::KernelUnavailable`] naming `mkl` if MKL could not be loaded when the plan was
/// made; [`Error::Mkl`] if an MKL call fails.
pub(super) fn multiply<T: Scalar, I: Index>(
    vendor: &Vendor,
    alpha: T,
    beta: T,
    operands: Operands<'_, T>,
) -> Result<()> {
    let state = vendor.0.as_ref().map_err(Clone::clone)?;
    let state = state
        .downcast_ref::<MklState<T, I>>()
        .ok_or_else(|| Error::Unsupported {
            kernel: "native",
            op: "sparselib SpMV",
            reason: String::from("the plan was made for other value or index types"),
        })?;
    match operands {
        Operands::Vec { x, y } => mkl::state_mult_vec(state, alpha, x, beta, y),
        Operands::Dense { x, y } => mkl::state_mult_dense(state, alpha, x, beta, y),
    }
}
