"""Hypothesis strategies for CSR matrices (LensKit ``csr.test_utils``)."""

import numpy as np
import scipy.sparse as sps
from hypothesis import strategies as st
from hypothesis.extra import numpy as nph

from csr.csr import CSR

__all__ = ["csr_slow", "csrs", "fractions", "mm_pairs", "sparse_matrices"]


def fractions(**kwargs):
    """Floats in ``[0, 1]`` (bounds may be narrowed with ``min_value`` / ``max_value``)."""
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("max_value", 1)
    return st.floats(**kwargs)


@st.composite
def csrs(draw, nrows=None, ncols=None, nnz=None, values=None, dtype="f8"):
    """A CSR matrix with random shape, entries and (unless ``values=False``) values.

    ``nrows``, ``ncols``, ``nnz`` may be ints or strategies; ``values=None`` draws whether
    the matrix has values. Rows come out unsorted and may hold duplicates.
    """
    if nrows is None:
        nrows = st.integers(1, 100)
    if ncols is None:
        ncols = st.integers(1, 100)
    if not isinstance(nrows, int):
        nrows = draw(nrows)
    if not isinstance(ncols, int):
        ncols = draw(ncols)
    if nnz is None:
        nnz = st.integers(0, min(nrows * ncols, 1000))
    if not isinstance(nnz, int):
        nnz = draw(nnz)
    rows = draw(nph.arrays(np.intc, nnz, elements=st.integers(0, nrows - 1)))
    cols = draw(nph.arrays(np.intc, nnz, elements=st.integers(0, ncols - 1)))
    if values is None:
        values = draw(st.booleans())
    vals = None
    if values:
        vals = draw(nph.arrays(dtype, nnz, elements=st.floats(-1e3, 1e3, width=32)))
    return CSR.from_coo(rows, cols, vals, (nrows, ncols))


def csr_slow(**kwargs):
    """Like :func:`csrs`, with larger sizes (for slow tests)."""
    kwargs.setdefault("nrows", st.integers(1, 1000))
    kwargs.setdefault("ncols", st.integers(1, 1000))
    kwargs.setdefault("nnz", st.integers(0, 10000))
    return csrs(**kwargs)


@st.composite
def sparse_matrices(draw, max_shape=(100, 100), density=None, format="csr", dtype="f8"):
    """A scipy sparse matrix of random shape and density (canonical: no duplicates)."""
    nrows = draw(st.integers(1, max_shape[0]))
    ncols = draw(st.integers(1, max_shape[1]))
    dens = draw(density if density is not None else fractions(max_value=0.5))
    seed = draw(st.integers(0, 2**31))
    return sps.random(nrows, ncols, density=dens, format=format, dtype=dtype,
                      random_state=seed)


@st.composite
def mm_pairs(draw, max_shape=(100, 100), max_density=0.3, as_csr=False):
    """Two scipy matrices ``A`` (m × k) and ``B`` (k × n) that can be multiplied (or CSRs
    with ``as_csr``)."""
    m = draw(st.integers(1, max_shape[0]))
    k = draw(st.integers(1, max_shape[1]))
    n = draw(st.integers(1, max_shape[0]))
    da = draw(fractions(max_value=max_density))
    db = draw(fractions(max_value=max_density))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    a = sps.random(m, k, density=da, format="csr", random_state=rng)
    b = sps.random(k, n, density=db, format="csr", random_state=rng)
    if as_csr:
        return CSR.from_scipy(a), CSR.from_scipy(b)
    return a, b
