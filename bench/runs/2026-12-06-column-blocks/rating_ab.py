"""Ours on the rating matrix of ``python_compare.py`` (items × users, 5000 × 50000, native
kernel): ``multiply(a, transpose=True)`` and ``transpose()``, alternating, fifteen calls each
after a warm-up; prints medians and minima in ms. Run with ``PYTHONPATH`` pointing at the
package to measure.
"""

import statistics
import sys
import time

import numpy as np

sys.path.insert(0, "/work/main/bench")
import python_compare as pc  # noqa: E402

import csr  # noqa: E402

csr.kernels.set_kernel("native")
rng = np.random.default_rng(42)
m = pc.rating(50000, 5000, rng).T.tocsr()
a = csr.CSR.from_scipy(m)
calls = {"A·Aᵀ": lambda: a.multiply(a, transpose=True), "transpose": lambda: a.transpose()}
times = {name: [] for name in calls}
for f in calls.values():
    f()
for _ in range(15):
    for name, f in calls.items():
        t0 = time.perf_counter()
        f()
        times[name].append((time.perf_counter() - t0) * 1e3)
print(
    csr.__file__.rsplit("/", 2)[-3],
    " ".join(f"{n} median {statistics.median(t):.2f} min {min(t):.2f}" for n, t in times.items()),
)
