import os, sys
os.environ["OMP_NUM_THREADS"]="2"
sys.path.insert(0, "/work/main/bench")
import numpy as np, scipy.io, scipy.sparse as sp
def rows_sorted(r):
    r = sp.csr_matrix(r)
    d = np.diff(r.indices)
    starts = r.indptr[1:-1]
    ok = np.ones(len(d), bool); 
    mask = np.ones(len(d), bool); mask[starts[(starts>0)&(starts<=len(d))]-1] = False
    return bool(np.all(d[mask] > 0))
m = scipy.io.mmread("/tmp/cmpw/powerlaw-200k-3.mtx").tocsr()
print("scipy A@A sorted:", rows_sorted(m @ m))
import graphblas as gb
g = gb.io.from_scipy_sparse(m)
out = gb.io.to_scipy_sparse(g.mxm(g).new())
print("graphblas sorted:", rows_sorted(out))
import sparse_dot_topn as sdt
print("sdt sp_matmul sorted:", rows_sorted(sdt.sp_matmul(m, m, n_threads=2)))
