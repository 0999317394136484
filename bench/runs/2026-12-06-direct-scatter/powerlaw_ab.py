"""Ours on ``bench/compare.py``'s power-law file (200k × 200k, 3 per row, native kernel):
``multiply(a, transpose=True)`` (its fresh handle transposes ``a`` on every call) and
``transpose()``, alternating, 21 calls each after a warm-up; prints medians and minima in ms.
Run with ``PYTHONPATH`` pointing at the package to measure.
"""

import statistics
import sys
import time

import scipy.io

import csr

csr.kernels.set_kernel("native")
m = scipy.io.mmread(sys.argv[1]).tocsr()
a = csr.CSR.from_scipy(m)
calls = {"A·Aᵀ": lambda: a.multiply(a, transpose=True), "transpose": lambda: a.transpose()}
times = {name: [] for name in calls}
for f in calls.values():
    f()
for _ in range(21):
    for name, f in calls.items():
        t0 = time.perf_counter()
        f()
        times[name].append((time.perf_counter() - t0) * 1e3)
print(
    csr.__file__.rsplit("/", 2)[-3],
    " ".join(f"{n} median {statistics.median(t):.2f} min {min(t):.2f}" for n, t in times.items()),
)
