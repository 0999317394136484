"""Item-item A·Aᵀ of the rating matrix from Python, rows in any order and sorted: three
rounds of medians of 7 calls, one line per process (TAG names the package under test).

Run with ``PYTHONPATH`` pointing at the package to time (or none, for the project's
``.venv``); the matrix is ``/tmp/s4/r.npz`` (``python_compare.rating(50_000, 5_000)``,
items × users, saved once)."""

import os
import sys

import numpy as np
import scipy.sparse as sps

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import python_compare as pc  # noqa: E402

from csr import CSR  # noqa: E402
from csr.kernels import set_kernel  # noqa: E402

set_kernel("native")
R = sps.load_npz(os.environ.get("NPZ", "/tmp/s4/r.npz")).tocsr()
R.indptr = R.indptr.astype(np.int32)
R.indices = R.indices.astype(np.int32)
r = CSR.from_scipy(R)
anyorder, ordered = [], []
for _ in range(3):
    anyorder.append(
        1000 * pc.median_time(lambda: r.multiply(r, transpose=True, order_columns=False), 7))
    ordered.append(1000 * pc.median_time(lambda: r.multiply(r, transpose=True), 7))
print(os.environ.get("TAG"), "any", " ".join(f"{t:.1f}" for t in anyorder),
      "| sorted", " ".join(f"{t:.1f}" for t in ordered), flush=True)
