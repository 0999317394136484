"""Matrix Market files (``.mtx``, ``.mtx.gz``) through the Rust reader and writer.

>>> import os, tempfile, numpy as np
>>> from csr import CSR, io
>>> a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), np.array([2.5, -1.0]))
>>> path = os.path.join(tempfile.mkdtemp(), "a.mtx.gz")
>>> io.write(path, a)
>>> b = io.read(path)
>>> (b.nrows, b.ncols, b.values.tolist())
(2, 2, [2.5, -1.0])
"""

import os

from csr import _csr
from csr.csr import CSR

__all__ = ["read", "write"]


def read(path):
    """Reads a Matrix Market file (gzip detected by content) into a :class:`~csr.CSR`.

    Symmetry is expanded and duplicates are summed (like ``scipy.io.mmread(path).tocsr()``);
    a ``pattern`` file gives a pattern matrix (``values is None``). Errors name the line.
    """
    nrows, ncols, rp, ci, vs = _csr.read_mm(os.fspath(path))
    return CSR(nrows, ncols, ci.shape[0], rp, ci, vs)


def write(path, m):
    """Writes ``m`` to ``path`` atomically (``.gz`` compresses); a pattern matrix writes a
    ``pattern`` file. Values are written in the shortest form that reads back exactly."""
    _csr.write_mm(os.fspath(path), *m._arrays())
