"""A 5-point stencil on a 1000 x 1000 grid with one row in every GAP (at a random place in
each run of GAP rows) missing its first entry, written as Matrix Market: segments of
repeating product rows a few to a few dozen rows long.

    python broken_stencil.py GAP OUT.mtx
"""

import sys

import numpy as np
import scipy.io
import scipy.sparse as sps


def main():
    n, gap, out = 1000, int(sys.argv[1]), sys.argv[2]
    one = sps.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1])
    a = (sps.kron(one, sps.identity(n)) + sps.kron(sps.identity(n), one)).tocsr()
    rng = np.random.default_rng(1)
    starts = np.arange(0, n * n, gap)
    rows = starts + rng.integers(0, gap, len(starts))
    rows = rows[rows < n * n]
    keep = np.ones(a.nnz, bool)
    keep[a.indptr[rows]] = False
    coo = a.tocoo()
    b = sps.csr_matrix(
        (rng.uniform(-1, 1, keep.sum()), (coo.row[keep], coo.col[keep])), shape=a.shape
    )
    scipy.io.mmwrite(out, b)


if __name__ == "__main__":
    main()
