"""Compressed sparse row matrices: LensKit ``csr``'s API over a parallel Rust core.

Code written for ``csr`` 0.5.2 runs unchanged: :class:`CSR`, the constructors, and the
kernels (``csr.kernels``) with the same names and behaviour, without Numba. The heavy
operations run in Rust on a thread pool with the GIL released; :func:`set_num_threads` sizes
that pool (``CSR_NUM_THREADS`` or ``RAYON_NUM_THREADS`` at start-up).

>>> import numpy as np
>>> from csr import CSR
>>> a = CSR.from_coo(np.array([0, 1, 1]), np.array([1, 0, 2]), np.array([1.0, 2.0, 3.0]))
>>> a
<CSR 2x3 (3 nnz)>
>>> a.mult_vec(np.ones(3))
array([1., 5.])
"""

import glob as _glob
import os as _os
import sys as _sys

# The Rust mkl kernel finds libmkl_rt in an *activated* venv; a venv's python run directly
# (``.venv/bin/python``) is not activated, so point it at this interpreter's prefix.
if "CSR_MKL_LIB" not in _os.environ:
    _mkl = sorted(_glob.glob(_os.path.join(_sys.prefix, "lib", "libmkl_rt.so.*")))
    if _mkl:
        _os.environ["CSR_MKL_LIB"] = _mkl[-1]

from csr import constructors  # noqa: E402
from csr._csr import __version__, get_num_threads, set_num_threads  # noqa: E402
from csr.constructors import (  # noqa: E402
    create,
    create_empty,
    create_from_sizes,
    create_novalues,
)
from csr.csr import CSR  # noqa: E402
from csr.topn import sp_matmul_topn  # noqa: E402

__all__ = [
    "CSR",
    "__version__",
    "constructors",
    "create",
    "create_empty",
    "create_from_sizes",
    "create_novalues",
    "get_num_threads",
    "set_num_threads",
    "sp_matmul_topn",
]
