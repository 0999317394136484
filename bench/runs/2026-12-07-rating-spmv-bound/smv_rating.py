"""SpMV of bench/compare.py's rating matrix from Python: ours (`native.mult_vec` on a kept
handle) against MKL's optimized handle through our binding, best of 5 medians of 2000
calls, ms. Thread counts come from CSR_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS."""
import time

import numpy as np
import scipy.io

import csr
from csr.kernels import native

m = scipy.io.mmread("/tmp/cmpw/rating-5000x50000.mtx").tocsr()
a = csr.CSR.from_scipy(m)
h = native.to_handle(a)
x = np.random.default_rng(0).random(m.shape[1])
try:
    from csr.kernels import mkl

    mh = mkl.to_handle(a)
except ImportError:
    mh = None


def med(f, n=2000, rounds=5):
    best = 1e9
    for _ in range(rounds):
        ts = np.empty(n)
        for i in range(n):
            s = time.perf_counter()
            f()
            ts[i] = time.perf_counter() - s
        best = min(best, np.median(ts))
    return best * 1e3


ours = med(lambda: native.mult_vec(h, x))
theirs = f"{med(lambda: mkl.mult_vec(mh, x)):.4f}" if mh else "-"
again = med(lambda: native.mult_vec(h, x))
print(h.strategy, "ours", f"{ours:.4f}", "mkl", theirs, "ours", f"{again:.4f}")
