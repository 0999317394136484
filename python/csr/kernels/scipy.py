"""A kernel written with scipy.sparse: the simple oracle. Handles are ``csr_matrix``es."""

import numpy as np

from csr import _topk

name = "scipy"
max_nnz = 2**63 - 1


def to_handle(csr):
    """The matrix as a scipy ``csr_matrix`` (sharing the arrays where it can)."""
    return csr.to_scipy()


def from_handle(h):
    """The handle as a :class:`~csr.CSR`."""
    from csr.csr import CSR

    return CSR.from_scipy(h, copy=False)


def release_handle(h):
    """Nothing to release."""


def order_columns(h):
    """Sorts the rows by column in place."""
    h.sort_indices()


def _ordered(c, order_columns):
    if order_columns:
        c.sort_indices()
    return c


def mult_ab(a_h, b_h, *, order_columns=True):
    """``A·B``; rows sorted by column unless ``order_columns=False`` (scipy's order)."""
    return _ordered((a_h @ b_h).tocsr(), order_columns)


def mult_abt(a_h, b_h, *, order_columns=True):
    """``A·Bᵀ``; rows sorted by column unless ``order_columns=False`` (scipy's order)."""
    return _ordered((a_h @ b_h.T).tocsr(), order_columns)


def mult_vec(a_h, x):
    """``A·x``."""
    return np.asarray(a_h @ x)


def mult_ab_topk(a_h, b_h, k, *, threshold=None, exclude_diagonal=False, sort=False):
    """The top ``k`` entries of each row of ``A·B``: the full product, then each row's
    selection (see :meth:`csr.CSR.multiply_topk`)."""
    return _topk.select(_topk.full_product(a_h, b_h), k, threshold=threshold,
                        exclude_diagonal=exclude_diagonal, sort=sort)


def mult_abt_topk(a_h, b_h, k, *, threshold=None, exclude_diagonal=False, sort=False):
    """The top ``k`` entries of each row of ``A·Bᵀ``."""
    return _topk.select(_topk.full_product(a_h, b_h.T), k, threshold=threshold,
                        exclude_diagonal=exclude_diagonal, sort=sort)
