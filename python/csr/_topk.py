"""Top-k selection in Python: the rules of the Rust kernels' top-k products (``TopK`` in the
library) applied to a product already formed, for the scipy kernel and for products
computed in blocks."""

import numpy as np
import scipy.sparse as sps


def _ones(m):
    """``m`` (scipy CSR/CSC) with every stored entry 1.0: its structure as values."""
    m = m.copy()
    m.data = np.ones(m.data.shape[0])
    return m


def full_product(a, b):
    """``a @ b`` (scipy matrices) as CSR with every position the product reaches stored,
    sums that are exactly zero included (scipy drops them; the top-k rules keep them)."""
    c = (a @ b).tocsr()
    reach = (_ones(a) @ _ones(b)).tocsr()
    if reach.nnz == c.nnz:
        # c's positions are a subset of reach's: the same set.
        return c
    rows, cols = reach.nonzero()
    vals = np.asarray(c[rows, cols]).ravel()
    return sps.csr_matrix((vals, (rows, cols)), shape=c.shape, dtype=c.dtype)


def select(c, k, *, threshold=None, exclude_diagonal=False, sort=False):
    """The top ``k`` entries of each row of the scipy matrix ``c`` (each position stored
    once), by the top-k rules: largest values first, ties to the lower column, NaN never
    kept, ``threshold`` keeps values ``>=`` it (compared in ``c``'s dtype),
    ``exclude_diagonal`` drops ``(i, i)`` before selecting; rows ordered by column, or by
    value descending (ties by column) with ``sort``. Returns a scipy ``csr_matrix``."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    c = c.tocsr()
    nrows = c.shape[0]
    rows = np.repeat(np.arange(nrows, dtype=np.int64), np.diff(c.indptr))
    cols = c.indices.astype(np.int64)
    vals = c.data
    keep = ~np.isnan(vals)
    if threshold is not None:
        keep &= vals >= vals.dtype.type(threshold)
    if exclude_diagonal:
        keep &= cols != rows
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    # By row, then value descending (-0.0 ties with 0.0), then column.
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows, minlength=nrows)
    starts = np.cumsum(counts) - counts
    top = np.arange(rows.shape[0]) - np.repeat(starts, counts) < k
    rows, cols, vals = rows[top], cols[top], vals[top]
    if not sort:
        order = np.lexsort((cols, rows))
        cols, vals = cols[order], vals[order]
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(np.minimum(counts, k), out=indptr[1:])
    return sps.csr_matrix((vals, cols, indptr), shape=c.shape)
