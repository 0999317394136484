#!/usr/bin/env python3
"""scipy's side of the core benchmark (crates/csr/benches/core.rs), on equivalent matrices.

poisson2d(2000) has exactly the structure of `csr::generate` (5-point stencil, natural
ordering, random values); powerlaw(1M) draws row lengths from the same Pareto law (shape 1.2,
mean about 16, clamped to [1, n]) with uniform distinct columns. Times are medians of 7 runs.

    python3 bench/scipy_core.py            # needs numpy and scipy
"""
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp

REPS = 7


def poisson2d(n, rng):
    one_d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    a = (sp.kron(sp.identity(n), one_d) + sp.kron(one_d, sp.identity(n))).tocsr()
    a.sort_indices()
    a.data = rng.uniform(-1.0, 0.0, a.nnz)
    diag = a.indices == np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    a.data[diag] = rng.uniform(4.0, 5.0, diag.sum())
    return a


def powerlaw(n, rng, mean=16.0, alpha=1.2):
    """Pareto row lengths; columns drawn with replacement, then merged (a few long rows lose
    a small share of their entries to repeats, so nnz is slightly below the Rust matrix)."""
    xm = mean * (alpha - 1.0) / alpha
    lengths = np.clip((xm * (1.0 - rng.random(n)) ** (-1.0 / alpha)).astype(np.int64), 1, n)
    rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
    cols = rng.integers(0, n, rows.size, dtype=np.int32)
    a = sp.coo_matrix((rng.uniform(-1.0, 1.0, rows.size), (rows, cols)), shape=(n, n)).tocsr()
    a.sum_duplicates()
    return a


def median_ms(fn, setup=lambda: None):
    times = []
    for rep in range(REPS + 1):
        arg = setup()
        t = time.perf_counter()
        fn(arg)
        if rep > 0:
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def bench(name, a, rng):
    nnz = a.nnz
    coo = a.tocoo()
    order = rng.permutation(nnz)
    rows = coo.row[order].astype(np.int32)
    cols = coo.col[order].astype(np.int32)
    vals = coo.data[order]
    t_asm = median_ms(lambda _: sp.coo_matrix((vals, (rows, cols)), shape=a.shape).tocsr())
    t_tr = median_ms(lambda _: a.T.tocsr())

    shuffled = a.copy()
    for i in range(0, a.shape[0]):
        lo, hi = a.indptr[i], a.indptr[i + 1]
        if hi - lo > 1:
            p = lo + rng.permutation(hi - lo)
            shuffled.indices[lo:hi] = a.indices[p]
            shuffled.data[lo:hi] = a.data[p]

    def fresh():
        arrays = (shuffled.data.copy(), shuffled.indices.copy(), shuffled.indptr.copy())
        return sp.csr_matrix(arrays, shape=a.shape)

    t_sort = median_ms(lambda m: m.sort_indices(), fresh)
    print(
        f"{name:<16} nnz={nnz:>9}  coo.tocsr() {t_asm:8.1f} ms   .T.tocsr() {t_tr:8.1f} ms   "
        f"sort_indices() {t_sort:8.1f} ms"
    )


def main():
    print(
        f"scipy {scipy.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}; median of {REPS}"
    )
    rng = np.random.default_rng(42)
    bench("poisson2d:2000", poisson2d(2000, rng), rng)
    bench("powerlaw:1m", powerlaw(1_000_000, rng), rng)


if __name__ == "__main__":
    main()
