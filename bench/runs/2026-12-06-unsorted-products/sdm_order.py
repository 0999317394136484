"""sparse_dot_mkl's products with rows as MKL leaves them and with `reorder_output=True`,
beside ours (sorted), medians of 15 calls each (blocks of back-to-back calls).

    .venv/bin/python sdm_order.py powerlaw-200k-3 rating-5000x50000 poisson2d-1000
"""

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import scipy.io  # noqa: E402
from python_compare import load_sparse_dot_mkl  # noqa: E402

import csr  # noqa: E402

csr.kernels.set_kernel("native")
sdm = load_sparse_dot_mkl()


def median_ms(f, n=15):
    f()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1e3 * sorted(times)[n // 2]


for name in sys.argv[1:]:
    m = scipy.io.mmread(f"/tmp/cmpw/{name}.mtx").tocsr()
    mt = m.T.tocsr()
    a = csr.CSR.from_scipy(m)
    pairs = [("A·Aᵀ", mt, True)]
    if m.shape[0] == m.shape[1]:
        pairs.insert(0, ("A·A", m, False))
    for label, b, transpose in pairs:
        ours = median_ms(lambda: a.multiply(a, transpose=transpose))  # noqa: B023
        unsorted = median_ms(lambda: sdm.dot_product_mkl(m, b))  # noqa: B023
        ordered = median_ms(lambda: sdm.dot_product_mkl(m, b, reorder_output=True))  # noqa: B023
        print(
            f"{name} {label}: ours (sorted) {ours:.2f} ms, sparse_dot_mkl unsorted "
            f"{unsorted:.2f}, reorder_output=True {ordered:.2f}"
        )
