"""Intel MKL sparse BLAS (libmkl_rt, found at run time by the Rust kernel).

Importing this module raises ImportError when MKL cannot be loaded. ``max_nnz`` (MKL's
32-bit API limit) may be lowered: ``CSR.mult_vec`` and ``CSR.multiply`` split larger
matrices by rows, and ``to_handle`` refuses them. A pattern matrix's handle holds ones.
"""

from csr import _csr

_reason = _csr.kernel_unavailable("mkl")
if _reason is not None:
    raise ImportError(f"the mkl kernel cannot run: {_reason}")

import sys  # noqa: E402

from csr.kernels import _rust  # noqa: E402

name = "mkl"
max_nnz = 2**31 - 1
_self = sys.modules[__name__]
# Handles made for one call (CSR.mult_vec, CSR.multiply) skip the SpMV planning that pays
# off only over many calls (automatic's compressed and tiled strategies copy the matrix).
_one_shot = {"strategy": "load_balance"}


def to_handle(csr, *, strategy=None):
    """A handle over ``csr``'s arrays (zero copy; read-only until released)."""
    return _rust.to_handle(_self, "mkl", csr, strategy)


def from_handle(h):
    """The handle's matrix as a :class:`~csr.CSR` (copied out)."""
    return _rust.from_handle(h)


def release_handle(h):
    """Releases ``h`` (its arrays become writeable again)."""
    h.release()


def order_columns(h):
    """Sorts the handle's rows by column (on a copy: the CSR is unchanged)."""
    h.order_columns()


def mult_ab(a_h, b_h):
    """``A·B`` as a handle."""
    return a_h.mult_ab(b_h)


def mult_abt(a_h, b_h):
    """``A·Bᵀ`` as a handle."""
    return a_h.mult_abt(b_h)


def mult_vec(a_h, x):
    """``A·x`` in the handle's value dtype."""
    return _rust.mult_vec(a_h, x)
