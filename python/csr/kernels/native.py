"""The native Rust kernel: parallel on the package's thread pool, the fast default when MKL
is absent. Handles report their SpMV strategy (``h.strategy``, ``h.strategy_reason``).

Functions: ``to_handle``, ``from_handle``, ``release_handle``, ``order_columns``,
``mult_ab``, ``mult_abt``, ``mult_vec`` (see :mod:`csr.kernels`).
"""

from csr.kernels import _rust

name = "native"
max_nnz = 2**63 - 1
_rust.define(globals(), "native")
