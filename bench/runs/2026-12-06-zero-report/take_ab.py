"""What `CSR.multiply` pays after the product: `mult_ab` (or `mult_abt`) of the native
kernel, then `_take(..., drop_zeros=True)` (the product's arrays handed to numpy, stored
zeros dropped), timed apart; A·A of poisson2d(N) and A·Aᵀ of the 5000 × 50000 rating
matrix. Median of REPS calls. Run once per build of the package, e.g.

    PYTHONPATH=/tmp/pkgA N=1000 .venv/bin/python bench/runs/2026-12-06-zero-report/take_ab.py
"""

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import python_compare as pc  # noqa: E402

import csr  # noqa: E402
from csr.csr import _take  # noqa: E402
from csr.kernels import native as k  # noqa: E402

rng = np.random.default_rng(42)
cases = [
    ("poisson A·A", pc.poisson2d(int(os.environ.get("N", 1000)), rng), k.mult_ab),
    ("rating A·Aᵀ", pc.rating(50000, 5000, rng).T.tocsr(), k.mult_abt),
]
out = []
for name, m, product in cases:
    m.indptr = m.indptr.astype(np.int32)
    m.indices = m.indices.astype(np.int32)
    h = k.to_handle(csr.CSR.from_scipy(m))
    mult, take = [], []
    for _ in range(int(os.environ.get("REPS", 9)) + 1):
        t0 = time.perf_counter()
        c = product(h, h)
        t1 = time.perf_counter()
        c = _take(k, c, drop_zeros=True)
        t2 = time.perf_counter()
        mult.append((t1 - t0) * 1e3)
        take.append((t2 - t1) * 1e3)
        del c
    nnz = _take(k, product(h, h), drop_zeros=True).nnz
    out.append(f"{name} (nnz {nnz}): product {statistics.median(mult[1:]):.1f} ms, "
               f"take {statistics.median(take[1:]):.2f} ms")
    k.release_handle(h)
print(os.environ.get("PYTHONPATH"), " | ".join(out))
