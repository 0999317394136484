"""The kernel contract over the Rust kernels (shared by ``native``, ``numba``, ``mkl``)."""

import numpy as np

from csr import _csr


def to_handle(module, rust_name, csr, strategy=None):
    if csr.nnz > module.max_nnz:
        raise ValueError(f"{csr.nnz} entries exceed the {module.__name__} kernel's "
                         f"max_nnz = {module.max_nnz}; split the matrix by rows")
    return _csr.to_handle(rust_name, *csr._arrays(), strategy=strategy)


def from_handle(h):
    from csr.csr import CSR

    nrows, ncols, rp, ci, vs = h.to_arrays()
    return CSR(nrows, ncols, ci.shape[0], rp, ci, vs)


def mult_vec(h, x):
    return h.mult_vec(np.ascontiguousarray(x, dtype=h.dtype))
