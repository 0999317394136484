"""Intel MKL sparse BLAS (libmkl_rt, found at run time by the Rust kernel).

Importing this module raises ImportError when MKL cannot be loaded. ``max_nnz`` (MKL's
32-bit API limit) may be lowered: ``CSR.mult_vec`` and ``CSR.multiply`` split larger
matrices by rows, and ``to_handle`` refuses them. A pattern matrix's handle holds ones.
"""

from csr import _csr
from csr.kernels import _rust

_reason = _csr.kernel_unavailable("mkl")
if _reason is not None:
    raise ImportError(f"the mkl kernel cannot run: {_reason}")

name = "mkl"
max_nnz = 2**31 - 1
_rust.define(globals(), "mkl")
