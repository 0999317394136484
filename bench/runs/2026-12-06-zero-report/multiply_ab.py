"""`CSR.multiply` from Python: A·A of poisson2d(N) and A·Aᵀ of the 5000 × 50000 rating
matrix (`bench/python_compare.py`'s generators), median of REPS calls each, native kernel.
Run once per build of the package, alternating, e.g.

    PYTHONPATH=/tmp/pkgA N=2000 .venv/bin/python bench/runs/2026-12-06-zero-report/multiply_ab.py
"""

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import python_compare as pc  # noqa: E402

import csr  # noqa: E402

csr.kernels.set_kernel("native")
rng = np.random.default_rng(42)
cases = [
    ("poisson A·A", pc.poisson2d(int(os.environ.get("N", 2000)), rng), False),
    ("rating A·Aᵀ", pc.rating(50000, 5000, rng).T.tocsr(), True),
]
out = []
for name, m, transpose in cases:
    m.indptr = m.indptr.astype(np.int32)
    m.indices = m.indices.astype(np.int32)
    a = csr.CSR.from_scipy(m)
    a.multiply(a, transpose=transpose)
    times = []
    for _ in range(int(os.environ.get("REPS", 9))):
        t = time.perf_counter()
        a.multiply(a, transpose=transpose)
        times.append((time.perf_counter() - t) * 1e3)
    out.append(f"{name} {statistics.median(times):.1f} ms")
print(os.environ.get("PYTHONPATH"), " | ".join(out))
