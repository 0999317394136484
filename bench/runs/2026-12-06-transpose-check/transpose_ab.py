"""Ours against scipy on the transpose of poisson2d-2000, as ``python_compare.py`` builds it.

Eleven alternating calls after two warm-ups each; prints the package's folder and the
medians in ms. Run with ``PYTHONPATH`` pointing at the package to measure.
"""

import json
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, "/work/main/bench")
import python_compare as pc  # noqa: E402

import csr  # noqa: E402

rng = np.random.default_rng(42)
m = pc.poisson2d(2000, rng)
m.indptr = m.indptr.astype(np.int32)
m.indices = m.indices.astype(np.int32)
a = csr.CSR.from_scipy(m)
impls = {"ours": lambda: a.transpose(), "scipy": lambda: m.T.tocsr()}
times = {k: [] for k in impls}
for f in impls.values():
    f()
    f()
for _ in range(11):
    for k, f in impls.items():
        t = time.perf_counter()
        f()
        times[k].append((time.perf_counter() - t) * 1e3)
out = {k: round(statistics.median(v), 2) for k, v in times.items()}
out["ratio"] = round(out["scipy"] / out["ours"], 2)
print(csr.__file__.split("/")[2], json.dumps(out))
