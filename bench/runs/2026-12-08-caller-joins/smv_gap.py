"""SpMV from Python with GAP_US of busy waiting before each call (the pool's workers
asleep, as in a program that does other work between products): ours on a kept native
handle and in one call (`CSR.mult_vec`), MKL's optimized handle, scipy; median of 1000
calls, best of 3 rounds, µs. Usage: smv_gap.py FILE.mtx"""
import os
import sys
import time

import numpy as np
import scipy.io

import csr
from csr.kernels import native

gap = float(os.environ.get("GAP_US", "1000")) * 1e-6
m = scipy.io.mmread(sys.argv[1]).tocsr()
a = csr.CSR.from_scipy(m)
h = native.to_handle(a)
x = np.random.default_rng(0).random(m.shape[1])
from csr.kernels import mkl  # noqa: E402

mh = mkl.to_handle(a)


def med(f, n=1000, rounds=3):
    best = 1e9
    for _ in range(rounds):
        ts = np.empty(n)
        for i in range(n):
            g = time.perf_counter()
            while time.perf_counter() - g < gap:
                pass
            s = time.perf_counter()
            f()
            ts[i] = time.perf_counter() - s
        best = min(best, np.median(ts))
    return best * 1e6


import csr.kernels  # noqa: E402

csr.kernels.set_kernel("native")
print(h.strategy, f"handle {med(lambda: native.mult_vec(h, x)):.1f}",
      f"one call {med(lambda: a.mult_vec(x)):.1f}",
      f"mkl {med(lambda: mkl.mult_vec(mh, x)):.1f}", f"scipy {med(lambda: m @ x):.1f}",
      f"handle {med(lambda: native.mult_vec(h, x)):.1f}")
