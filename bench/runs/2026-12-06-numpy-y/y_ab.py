"""One-call `CSR.mult_vec` on poisson2d(1000) and poisson2d(2000): median of 25 calls and
the minor page faults per call. Run once per build of the package, e.g.

    PYTHONPATH=/tmp/pkgA .venv/bin/python bench/runs/2026-12-06-numpy-y/y_ab.py

with `MALLOC_MMAP_THRESHOLD_=1000000` to make glibc map every large block afresh (the slow
mode that otherwise comes and goes with glibc's dynamic threshold)."""

import os
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import python_compare as pc  # noqa: E402

import csr  # noqa: E402

csr.kernels.set_kernel("native")
rng = np.random.default_rng(42)
mats = {"poisson1000": pc.poisson2d(1000, rng), "poisson2000": pc.poisson2d(2000, rng)}
out = []
for name, m in mats.items():
    m.indptr = m.indptr.astype(np.int32)
    m.indices = m.indices.astype(np.int32)
    a = csr.CSR.from_scipy(m)
    x = np.random.default_rng(0).random(m.shape[1])
    a.mult_vec(x)
    a.mult_vec(x)
    times = []
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(25):
        t = time.perf_counter()
        a.mult_vec(x)
        times.append((time.perf_counter() - t) * 1e3)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) / 25
    out.append(f"{name} {statistics.median(times):.2f} ms (faults/call {faults:.0f})")
print(os.environ.get("PYTHONPATH"), os.environ.get("MALLOC_MMAP_THRESHOLD_", "-"),
      " | ".join(out))
