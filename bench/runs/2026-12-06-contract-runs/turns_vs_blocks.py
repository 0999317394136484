"""poisson2d(1000) SpMV of four implementations, timed in turns call by call and in blocks
of back-to-back calls (medians of 40 calls each).

    .venv/bin/python turns_vs_blocks.py
    KMP_BLOCKTIME=0 OMP_WAIT_POLICY=passive .venv/bin/python turns_vs_blocks.py
"""

import os
import time

os.environ["OMP_NUM_THREADS"] = "2"
os.environ["MKL_NUM_THREADS"] = "2"

import graphblas as gb  # noqa: E402
import numpy as np  # noqa: E402
import scipy.io  # noqa: E402

import csr  # noqa: E402
from csr.kernels import mkl, native  # noqa: E402

gb.init("suitesparse", blocking=False)
gb.ss.config["nthreads"] = 2
m = scipy.io.mmread("/tmp/cmpw/poisson2d-1000.mtx").tocsr()
a = csr.CSR.from_scipy(m)
x = np.random.default_rng(0).random(m.shape[1])
h, mh = native.to_handle(a), mkl.to_handle(a)
ga, v = gb.io.from_scipy_sparse(m), gb.Vector.from_dense(x)
calls = {
    "ours": lambda: native.mult_vec(h, x),
    "mkl": lambda: mkl.mult_vec(mh, x),
    "graphblas": lambda: ga.mxv(v).new(),
    "scipy": lambda: m @ x,
}


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


for mode in ("turns", "blocks"):
    times = {k: [] for k in calls}
    if mode == "turns":
        for _ in range(40):
            for k, f in calls.items():
                times[k].append(timed(f))
    else:
        for k, f in calls.items():
            times[k] = [timed(f) for _ in range(40)]
    line = "  ".join(f"{k} {1e3 * sorted(t)[20]:.2f}" for k, t in times.items())
    print(os.environ.get("KMP_BLOCKTIME", "-"), mode, line)
