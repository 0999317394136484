"""The kernel contract over the Rust kernels, defined once for ``native``, ``numba`` and
``mkl``: :func:`define` fills a kernel module's namespace."""

import numpy as np

from csr import _csr

# Handles made for one call (CSR.mult_vec, CSR.multiply) skip the SpMV planning that pays
# off only over many calls (automatic's compressed and tiled strategies copy the matrix;
# on mkl, a named strategy also drops the SpMV hint and its analysis).
ONE_SHOT = {"strategy": "load_balance"}


def define(ns, rust_name):
    """Defines the kernel functions in module namespace ``ns`` (whose ``max_nnz`` they
    read at call time) over the Rust kernel ``rust_name``."""

    def to_handle(csr, *, strategy=None):
        """A handle over ``csr``'s arrays (zero copy; read-only until released).
        ``strategy`` names the native SpMV strategy (default ``automatic``)."""
        if csr.nnz > ns["max_nnz"]:
            raise ValueError(f"{csr.nnz} entries exceed the {ns['__name__']} kernel's "
                             f"max_nnz = {ns['max_nnz']}; split the matrix by rows")
        return _csr.to_handle(rust_name, *csr._arrays(), strategy=strategy)

    def from_handle(h):
        """The handle's matrix as a :class:`~csr.CSR` (copied out)."""
        from csr.csr import CSR

        nrows, ncols, rp, ci, vs = h.to_arrays()
        return CSR(nrows, ncols, ci.shape[0], rp, ci, vs)

    def _take(h, drop_zeros=False):
        """``from_handle`` then ``release_handle`` in one step: the handle's arrays move
        into the result (no copy for a product); ``drop_zeros`` removes stored zeros."""
        from csr.csr import CSR

        nrows, ncols, rp, ci, vs = h.take_arrays(drop_zeros)
        return CSR(nrows, ncols, ci.shape[0], rp, ci, vs)

    def release_handle(h):
        """Releases ``h`` (its arrays become writeable again)."""
        h.release()

    def order_columns(h):
        """Sorts the handle's rows by column (on a copy: the CSR is unchanged)."""
        h.order_columns()

    def mult_ab(a_h, b_h, *, order_columns=True):
        """``A·B`` as a handle; rows sorted by column unless ``order_columns=False``."""
        return a_h.mult_ab(b_h, order_columns)

    def mult_abt(a_h, b_h, *, order_columns=True):
        """``A·Bᵀ`` as a handle; rows sorted by column unless ``order_columns=False``."""
        return a_h.mult_abt(b_h, order_columns)

    def mult_ab_topk(a_h, b_h, k, *, threshold=None, exclude_diagonal=False, sort=False):
        """The top ``k`` entries of each row of ``A·B`` as a handle (see
        :meth:`csr.CSR.multiply_topk`); the product is never held whole."""
        return a_h.mult_ab_topk(b_h, k, threshold, exclude_diagonal, sort)

    def mult_abt_topk(a_h, b_h, k, *, threshold=None, exclude_diagonal=False, sort=False):
        """The top ``k`` entries of each row of ``A·Bᵀ`` as a handle."""
        return a_h.mult_abt_topk(b_h, k, threshold, exclude_diagonal, sort)

    def mult_vec(a_h, x):
        """``A·x`` in the handle's value dtype."""
        return a_h.mult_vec(np.ascontiguousarray(x, dtype=a_h.dtype))

    for f in (to_handle, from_handle, release_handle, order_columns, mult_ab, mult_abt,
              mult_ab_topk, mult_abt_topk, mult_vec):
        f.__module__ = ns["__name__"]
        ns[f.__name__] = f
    ns["_one_shot"] = ONE_SHOT
    ns["_take"] = _take
    # ``CSR.mult_vec`` without a handle, on every Rust kernel: the arrays are checked
    # (vectorised passes), then the native ``load_balance`` product runs (a native
    # ``load_balance`` handle's product, bit for bit). A handle made for one product costs
    # more than the product: an MKL handle of poisson2d(2000) takes 20 ms to make, for a
    # 22 ms product.
    ns["_mult_vec_once"] = _csr.mult_vec_once
