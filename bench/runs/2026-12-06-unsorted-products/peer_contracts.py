"""Whether each peer's A·A comes with every row sorted by column."""

import os

os.environ["OMP_NUM_THREADS"] = "2"

import graphblas as gb  # noqa: E402
import numpy as np  # noqa: E402
import scipy.io  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sparse_dot_topn as sdt  # noqa: E402


def rows_sorted(r):
    """Every row strictly increasing (differences across a row boundary ignored)."""
    r = sp.csr_matrix(r)
    d = np.diff(r.indices)
    starts = r.indptr[1:-1]
    inside = np.ones(len(d), bool)
    inside[starts[(starts > 0) & (starts <= len(d))] - 1] = False
    return bool(np.all(d[inside] > 0))


m = scipy.io.mmread("/tmp/cmpw/powerlaw-200k-3.mtx").tocsr()
print("scipy A@A sorted:", rows_sorted(m @ m))
g = gb.io.from_scipy_sparse(m)
print("graphblas sorted:", rows_sorted(gb.io.to_scipy_sparse(g.mxm(g).new())))
print("sdt sp_matmul sorted:", rows_sorted(sdt.sp_matmul(m, m, n_threads=2)))
