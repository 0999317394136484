"""The kernel contract's ``from_handle`` (a copy out of the handle) of poisson2d(2000)
(20M entries) and of its ``A·A`` (52M entries), against scipy's ``copy()`` of the matrix:
medians of 9 calls, three rounds. Run with the installed package, or with another build
first on ``PYTHONPATH``:

    .venv/bin/python bench/runs/2026-12-07-parallel-copy/from_handle.py MATRIX.npz
"""

import os
import sys
import time

os.environ.setdefault("CSR_NUM_THREADS", "2")

import scipy.sparse as sp  # noqa: E402

import csr  # noqa: E402
from csr.kernels import native  # noqa: E402


def median_ms(f, n=9):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
        del result
    return sorted(times)[n // 2] * 1e3


def main():
    m = sp.load_npz(sys.argv[1]).tocsr()
    a = csr.CSR.from_scipy(m, copy=False)
    ha = native.to_handle(a)
    hp = native.mult_ab(ha, ha, order_columns=False)
    print(csr.__file__)
    for _ in range(3):
        matrix = median_ms(lambda: native.from_handle(ha))
        product = median_ms(lambda: native.from_handle(hp))
        copy = median_ms(lambda: m.copy())
        print(
            f"from_handle(matrix, {m.nnz / 1e6:.0f}M) {matrix:.1f} ms   "
            f"from_handle(product) {product:.1f} ms   scipy m.copy() {copy:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
