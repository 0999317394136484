"""Power-law 200k A·A in any order through the installed package: N calls in one process,
median and minimum (kept with its record). Usage: powerlaw_aa.py N [FILE.mtx]"""

import os
import sys
import time

os.environ.setdefault("CSR_NUM_THREADS", "2")

import scipy.io  # noqa: E402

import csr  # noqa: E402
from csr.kernels import set_kernel  # noqa: E402

set_kernel("native")
path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/cmpw/powerlaw-200k-3.mtx"
a = csr.CSR.from_scipy(scipy.io.mmread(path).tocsr())
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    a.multiply(a, order_columns=False)
    times.append(time.perf_counter() - start)
times.sort()
print(f"median {times[len(times) // 2] * 1e3:.2f} ms min {times[0] * 1e3:.2f}")
