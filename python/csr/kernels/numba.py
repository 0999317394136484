"""The legacy name of the fast default kernel: it runs the native Rust kernel, so that
``CSR_KERNEL=numba`` and ``get_kernel("numba")`` keep working (no Numba is used)."""

from csr.kernels import _rust

name = "numba"
max_nnz = 2**63 - 1
_rust.define(globals(), "native")
