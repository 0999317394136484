"""One-call `CSR.mult_vec` on the rating matrix of `python_compare.py` (5000 x 50000, 940k
entries, the same generator calls) against scipy: medians of 200 calls. Run once per build:
PYTHONPATH=/tmp/pkgA .venv/bin/python bench/runs/2026-12-06-numpy-y/rating_ab.py"""

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
pc.poisson2d(200, rng)
pc.powerlaw(20000, rng)
m = pc.rating(50000, 5000, rng).T.tocsr()
m.indptr = m.indptr.astype(np.int32)
m.indices = m.indices.astype(np.int32)
a = csr.CSR.from_scipy(m)
x = np.random.default_rng(0).random(m.shape[1])
res = {}
for name, f in [("ours", lambda: a.mult_vec(x)), ("scipy", lambda: m @ x),
                ("ours again", lambda: a.mult_vec(x))]:
    f()
    f()
    times = []
    for _ in range(200):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    res[name] = round(statistics.median(times), 3)
print(os.environ.get("PYTHONPATH"), m.shape, m.nnz, res)
