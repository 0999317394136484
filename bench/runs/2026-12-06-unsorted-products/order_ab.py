"""Our package's product, rows sorted and in any order, alternating call by call.

    .venv/bin/python order_ab.py powerlaw-200k-3 n    # A·A  (t: A·Aᵀ)
"""

import sys
import time

import scipy.io

import csr

csr.kernels.set_kernel("native")
name, transpose = sys.argv[1], sys.argv[2] == "t"
m = scipy.io.mmread(f"/tmp/cmpw/{name}.mtx").tocsr()
a = csr.CSR.from_scipy(m)
b = csr.CSR.from_scipy(m.T.tocsr()) if transpose else a
times = {True: [], False: []}
for _ in range(30):
    for ordered in (True, False):
        t = time.perf_counter()
        a.multiply(b, order_columns=ordered)
        times[ordered].append(time.perf_counter() - t)
for ordered in (True, False):
    s = sorted(times[ordered])
    print(
        name,
        "A·Aᵀ" if transpose else "A·A",
        "sorted" if ordered else "any",
        f"median {1e3 * s[len(s) // 2]:.2f} min {1e3 * s[0]:.2f}",
    )
