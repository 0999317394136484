import os, sys, time
import numpy as np, scipy.io
import csr
csr.kernels.set_kernel("native")
name = sys.argv[1]; tr = sys.argv[2] == "t"
m = scipy.io.mmread(f"/tmp/cmpw/{name}.mtx").tocsr()
a = csr.CSR.from_scipy(m); at = csr.CSR.from_scipy(m.T.tocsr())
b = at if tr else a
ts = {True: [], False: []}
for i in range(30):
    for o in (True, False):
        t = time.perf_counter(); a.multiply(b, order_columns=o); ts[o].append(time.perf_counter() - t)
for o in (True, False):
    s = sorted(ts[o]); print(name, "A·Aᵀ" if tr else "A·A", "sorted" if o else "any", f"median {1e3*s[len(s)//2]:.2f} min {1e3*s[0]:.2f}")
