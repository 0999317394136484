"""The rating matrix's A·Aᵀ through the installed package, rows in any order then sorted:
N calls each in one process, medians (kept with its record). Usage: rating_aat.py N
[FILE.mtx]"""

import os
import sys
import time

os.environ.setdefault("CSR_NUM_THREADS", "2")

import scipy.io  # noqa: E402

import csr  # noqa: E402
from csr.kernels import set_kernel  # noqa: E402

set_kernel("native")
path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/cmpw/rating-5000x50000.mtx"
a = csr.CSR.from_scipy(scipy.io.mmread(path).tocsr())
for order_columns in (False, True):
    times = []
    for _ in range(int(sys.argv[1])):
        start = time.perf_counter()
        a.multiply(a, transpose=True, order_columns=order_columns)
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"order_columns={order_columns}: median {times[len(times) // 2] * 1e3:.2f}", end="  ")
print()
