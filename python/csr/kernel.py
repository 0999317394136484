"""The default kernel's functions, bound when this module is imported (LensKit
``csr.kernel``)."""

from csr.kernels import get_kernel

_k = get_kernel()
name = _k.name
to_handle = _k.to_handle
from_handle = _k.from_handle
release_handle = _k.release_handle
order_columns = _k.order_columns
mult_ab = _k.mult_ab
mult_abt = _k.mult_abt
mult_vec = _k.mult_vec
max_nnz = _k.max_nnz
