"""Kernels: what computes products, and which one is active.

A kernel is a module (``csr.kernels.native``, ``numba``, ``mkl``, ``scipy``) with the
LensKit kernel contract: ``max_nnz``, ``to_handle``, ``from_handle``, ``release_handle``,
``order_columns``, ``mult_ab``, ``mult_abt``, ``mult_vec``; beyond LensKit, ``mult_ab`` and
``mult_abt`` take ``order_columns=False`` (the product's rows in any order: the kernel may skip
sorting them, see :meth:`csr.CSR.multiply`), and ``mult_ab_topk`` and ``mult_abt_topk``
(``(a_h, b_h, k, *, threshold, exclude_diagonal, sort)``: the top entries of each row of a
product, see :meth:`csr.CSR.multiply_topk`).

The default (:func:`_default_kernel`) is ``CSR_KERNEL`` if set, else ``mkl`` if
``csr.kernels.mkl`` imports, else ``numba`` (the legacy name: here it runs the native Rust
kernel). :func:`set_kernel` changes the calling thread's kernel; :func:`use_kernel` changes
it until its ``with`` block ends, restoring the previous one (nesting works).

Handles of the Rust kernels (``native``, ``numba``, ``mkl``) read the matrix's arrays in
place. **Contract:** while a handle lives, the arrays it was made from are read-only (their
``WRITEABLE`` flag is off: writes raise ``ValueError``); releasing the handle
(:func:`releasing`, ``release_handle``) makes them writeable again. Turning the flag back on
by hand, or writing through a writeable view made before the handle, breaks the contract
(the next call on the handle raises ``ValueError`` if it sees it).
"""

import importlib
import os
import threading
from collections import namedtuple
from contextlib import contextmanager

from csr import _csr

__all__ = ["KernelInfo", "available", "get_kernel", "releasing", "set_kernel", "use_kernel"]

_KERNELS = ("native", "numba", "mkl", "scipy")
_state = threading.local()
_default = None
_default_lock = threading.Lock()


def _default_kernel():
    """The process default kernel: ``CSR_KERNEL``, else ``mkl`` if it loads, else
    ``numba`` (the native Rust kernel under its legacy name)."""
    name = os.environ.get("CSR_KERNEL")
    if name:
        return get_kernel(name)
    try:
        return get_kernel("mkl")
    except ImportError:
        return get_kernel("numba")


def _process_default():
    global _default
    with _default_lock:
        if _default is None:
            _default = _default_kernel()
        return _default


def get_kernel(name=None):
    """The kernel module ``csr.kernels.<name>``, or the calling thread's active kernel."""
    if name is None:
        active = getattr(_state, "active", None)
        return active if active is not None else _process_default()
    return importlib.import_module(f"csr.kernels.{name}")


def set_kernel(name):
    """Makes ``name`` the calling thread's active kernel (other threads are unaffected)."""
    _state.active = get_kernel(name)


@contextmanager
def use_kernel(name):
    """Makes ``name`` the active kernel until the ``with`` block ends; yields the kernel."""
    prev = getattr(_state, "active", None)
    k = get_kernel(name)
    _state.active = k
    try:
        yield k
    finally:
        _state.active = prev


@contextmanager
def releasing(h, k):
    """Yields handle ``h`` and releases it with kernel ``k`` when the block ends."""
    try:
        yield h
    finally:
        k.release_handle(h)


KernelInfo = namedtuple("KernelInfo", ["name", "available", "reason"])


def available():
    """Every kernel with whether it can run here and, if not, why.

    >>> [k.name for k in available()]
    ['native', 'numba', 'mkl', 'scipy']
    """
    rust = dict(_csr.kernels())
    out = []
    for name in _KERNELS:
        if name == "scipy":
            reason = None
        else:
            reason = rust["native" if name == "numba" else name]
        out.append(KernelInfo(name, reason is None, reason))
    return out
