"""``sp_matmul_topn``: ``sparse_dot_topn``'s function on this package's top-k products,
so that its users switch by changing an import."""

import threading
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sps

from csr import _csr
from csr.csr import CSR

_THREADS = threading.Lock()


@contextmanager
def _num_threads(n):
    """Runs the block on ``n`` threads (``None``: the current count; negative: one per
    core), then restores the
    count. The pool is the package's, shared: calls from other threads meanwhile run on
    it too."""
    if n is None:
        yield
        return
    n = 0 if int(n) < 0 else max(int(n), 1)
    with _THREADS:
        old = _csr.get_num_threads()
        _csr.set_num_threads(n)
        try:
            yield
        finally:
            _csr.set_num_threads(old)


def sp_matmul_topn(A, B, top_n, threshold=None, sort=False, density=None, n_threads=None):
    """The ``top_n`` largest entries of each row of ``A @ B``, as
    ``sparse_dot_topn.sp_matmul_topn`` (1.x): scipy sparse matrices in, a scipy
    ``csr_matrix`` out, computed by the active kernel's top-k product
    (:meth:`csr.CSR.multiply_topk`).

    - ``B`` may also be given transposed: when ``A``'s columns do not match ``B``'s rows but
      match its columns, the product is ``A @ B.T``.
    - ``threshold``: keep only values **strictly greater** than it. ``None`` keeps values
      greater than the dtype's smallest positive normal number (``np.finfo(dtype).tiny``:
      zeros and negative values dropped), as sparse_dot_topn does, except that with
      ``top_n`` equal to the product's column count and no ``sort`` the full product is
      returned (zeros and negative values included), as it does too.
    - ``sort``: each row ordered by value descending (ties by column); else by column.
    - ``n_threads``: the thread count for this call (``0`` or ``1``: one; negative: one
      per core; ``None``: the package's current count, :func:`csr.get_num_threads`, where
      sparse_dot_topn runs on one thread; the result does not depend on it). Calls that set
      a count run one at a time.
    - ``density`` is accepted for compatibility and unused (nothing is pre-sized by a
      guess).

    Values are float32 when both inputs are float32, else float64 (integer inputs give
    float64, where sparse_dot_topn keeps integers). Ties at the ``top_n``-th place go to
    the lower column; NaN is never kept.
    """
    del density
    transpose = A.shape[1] != B.shape[0]
    if transpose and A.shape[1] != B.shape[1]:
        raise ValueError(f"A is {A.shape[0]}x{A.shape[1]} and B is {B.shape[0]}x{B.shape[1]}: "
                         "A's columns must match B's rows (or B's columns)")
    f32 = A.dtype == np.float32 and B.dtype == np.float32
    dtype = np.float32 if f32 else np.float64
    a = CSR.from_scipy(sps.csr_matrix(A, dtype=dtype), copy=False)
    b = CSR.from_scipy(sps.csr_matrix(B, dtype=dtype), copy=False)
    ncols = B.shape[0] if transpose else B.shape[1]
    if threshold is None and not (top_n == ncols and not sort):
        threshold = np.finfo(dtype).tiny
    if threshold is not None:
        threshold = np.nextafter(dtype(threshold), dtype(np.inf))
    with _num_threads(n_threads):
        c = a.multiply_topk(b, top_n, transpose=transpose, threshold=threshold, sort=sort,
                            dtype=dtype)
    return c.to_scipy()
