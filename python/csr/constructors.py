"""Functions that make :class:`~csr.CSR` matrices (LensKit ``csr.constructors``)."""

import numpy as np

from csr.csr import CSR, _ptrs_from_sizes


def create_empty(nrows, ncols):
    """An empty ``nrows × ncols`` matrix (no entries, float64 values)."""
    return CSR(nrows, ncols, 0, np.zeros(nrows + 1, np.intc), np.zeros(0, np.intc),
               np.zeros(0))


def create_novalues(nrows, ncols, nnz, rowptrs, colinds):
    """A pattern matrix (no values: every stored entry is one)."""
    return CSR(nrows, ncols, nnz, rowptrs, colinds, None)


def create(nrows, ncols, nnz, rowptrs, colinds, values):
    """A matrix from its arrays (cast like the :class:`~csr.CSR` constructor)."""
    return CSR(nrows, ncols, nnz, rowptrs, colinds, values)


def create_from_sizes(nrows, ncols, sizes):
    """A matrix with ``sizes[i]`` entries in row ``i``, to be filled in by the caller.

    The row pointers are the running sum of ``sizes`` (int32, or int64 past 2³¹ − 1
    entries); the column indices are −1 and the values NaN (float64) until written.
    """
    nnz, rowptrs = _ptrs_from_sizes(nrows, sizes)
    colinds = np.full(nnz, -1, dtype=np.intc)
    values = np.full(nnz, np.nan)
    return CSR(nrows, ncols, nnz, rowptrs, colinds, values, _cast=False)
