//! The reference kernel: serial textbook code, the oracle of the tests, never the default.

use super::{Handle, Kernel, KernelId};
use crate::error::{Error, Result};
use crate::{Csr, CsrRef, Dense, Index, Scalar};

/// The reference kernel: serial textbook code, the oracle of the tests, never the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceKernel;

fn unsupported<X>(op: &'static str) -> Result<X> {
    Err(Error::Unsupported {
        kernel: KernelId::Reference.name(),
        op,
        reason: String::from("not implemented yet"),
    })
}

impl<T: Scalar, I: Index> Kernel<T, I> for ReferenceKernel {
    fn id(&self) -> KernelId {
        KernelId::Reference
    }

    fn max_nnz(&self) -> usize {
        I::MAX_USIZE
    }

    fn to_handle<'a>(&self, a: CsrRef<'a, T, I>) -> Result<Handle<'a, T, I>> {
        Ok(Handle::borrowed(KernelId::Reference, a, Default::default()))
    }

    fn from_handle(&self, h: &Handle<'_, T, I>) -> Result<Csr<T, I>> {
        Ok(h.matrix().to_csr())
    }

    fn order_columns(&self, h: &mut Handle<'_, T, I>) -> Result<()> {
        h.matrix_mut().sort_by_column_index();
        Ok(())
    }

    fn mult_vec(
        &self,
        _h: &Handle<'_, T, I>,
        _alpha: T,
        _x: &[T],
        _beta: T,
        _y: &mut [T],
    ) -> Result<()> {
        unsupported("mult_vec")
    }

    fn mult_dense(
        &self,
        _h: &Handle<'_, T, I>,
        _alpha: T,
        _x: &Dense<T>,
        _beta: T,
        _y: &mut Dense<T>,
    ) -> Result<()> {
        unsupported("mult_dense")
    }

    fn mult_ab(
        &self,
        _a: &Handle<'_, T, I>,
        _b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        unsupported("mult_ab")
    }

    fn mult_abt(
        &self,
        _a: &Handle<'_, T, I>,
        _b: &Handle<'_, T, I>,
    ) -> Result<Handle<'static, T, I>> {
        unsupported("mult_abt")
    }
}
