//! Shape checks shared by every kernel, so each operation rejects mismatched operands with
//! the same [`Error::DimensionMismatch`] whatever the kernel.

use crate::error::{Error, Result};
use crate::{CsrRef, Dense, Element, Index, Scalar};

/// `y = αAx + βy` needs `x.len() == ncols` and `y.len() == nrows`; the error's `rhs` is
/// `(x.len(), y.len())`.
pub(crate) fn mult_vec<T: Element, I: Index>(
    a: CsrRef<'_, T, I>,
    x_len: usize,
    y_len: usize,
) -> Result<()> {
    crate::formats::common::check_mult_vec("mult_vec", a.shape(), x_len, y_len)
}

/// `Y = αAX + βY` needs `X` to be `ncols × k` and `Y` `nrows × k`; the error's `rhs` is the
/// shape of `X`.
pub(crate) fn mult_dense<T: Element, I: Index, V: Scalar>(
    a: CsrRef<'_, T, I>,
    x: &Dense<V>,
    y: &Dense<V>,
) -> Result<()> {
    if x.nrows() != a.ncols() || y.nrows() != a.nrows() || y.ncols() != x.ncols() {
        return Err(Error::DimensionMismatch {
            op: "mult_dense",
            lhs: a.shape(),
            rhs: x.shape(),
        });
    }
    Ok(())
}

/// `A·B` needs `A.ncols == B.nrows`; `A·Bᵀ` (`transpose_b`) needs `A.ncols == B.ncols`.
pub(crate) fn mult_ab<T: Element, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    transpose_b: bool,
) -> Result<()> {
    product(
        a,
        b,
        transpose_b,
        if transpose_b { "mult_abt" } else { "mult_ab" },
    )
}

/// [`mult_ab`]'s check, reported as operation `op` (e.g. `"mult_abt_topk"`).
pub(crate) fn product<T: Element, I: Index>(
    a: CsrRef<'_, T, I>,
    b: CsrRef<'_, T, I>,
    transpose_b: bool,
    op: &'static str,
) -> Result<()> {
    let inner_b = if transpose_b { b.ncols() } else { b.nrows() };
    if a.ncols() != inner_b {
        return Err(Error::DimensionMismatch {
            op,
            lhs: a.shape(),
            rhs: b.shape(),
        });
    }
    Ok(())
}
