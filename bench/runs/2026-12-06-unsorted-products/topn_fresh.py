"""Twelve `sp_matmul_topn` calls in a fresh process (TF-IDF pair of
`bench/topk_compare.py`, top 10, 2 threads): ms per call and its minor page faults.

    .venv/bin/python topn_fresh.py ours     # or: sdt (sparse_dot_topn)
"""

import resource
import sys
import time

import scipy.io

a = scipy.io.mmread("/tmp/topk-full/tfidf_a.mtx").tocsr()
bt = scipy.io.mmread("/tmp/topk-full/tfidf_b.mtx").tocsr().T.tocsr()
if sys.argv[1] == "ours":
    from csr import sp_matmul_topn
    from csr.kernels import set_kernel

    set_kernel("native")
else:
    from sparse_dot_topn import sp_matmul_topn


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


calls = []
for _ in range(12):
    f0 = faults()
    t = time.perf_counter()
    sp_matmul_topn(a, bt, top_n=10, n_threads=2)
    calls.append(f"{1e3 * (time.perf_counter() - t):.1f}({faults() - f0})")
print(sys.argv[1], " ".join(calls))
