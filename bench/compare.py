#!/usr/bin/env python3
"""Our `csr` binary against the libraries Python users pick, on the same files, in one run.

Writes each workload once as a Matrix Market file, runs ``csr bench FILE --json`` on it
(SpMV, A·A, A·Aᵀ with our kernels), times scipy, sparse_dot_mkl, python-graphblas
(SuiteSparse:GraphBLAS) and sparse_dot_topn on the same matrices with the same thread
count, and times reading the file in process (``csr.io.read`` against
``scipy.io.mmread``, fast_matrix_market's threaded reader). Prints each operation's times
and the ratio peer time / our time (above 1: ours is faster); a peer that is not installed
shows ``-``.

    .venv/bin/python bench/compare.py --threads 2 --reps 7 --json out.json

The peers are optional (``pip install python-graphblas sparse-dot-mkl sparse-dot-topn``).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

# Thread counts must be fixed before numpy, MKL or GraphBLAS load.
_THREADS = "2"
for i, arg in enumerate(sys.argv):
    if arg == "--threads" and i + 1 < len(sys.argv):
        _THREADS = sys.argv[i + 1]
    elif arg.startswith("--threads="):
        _THREADS = arg.split("=", 1)[1]
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS", "CSR_NUM_THREADS"):
    os.environ[var] = _THREADS

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.io  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_compare import (  # noqa: E402
    load_sparse_dot_mkl,
    median_time,
    poisson2d,
    powerlaw,
    rating,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def workloads(scale, rng):
    """The comparison's matrices: a stencil, power-law short rows, an item × user matrix."""
    if scale == "small":
        return {
            "poisson2d-200": poisson2d(200, rng),
            "powerlaw-20k-3": powerlaw(20_000, rng, mean=3),
            "rating-500x5000": rating(5_000, 500, rng).T.tocsr(),
        }
    return {
        "poisson2d-1000": poisson2d(1000, rng),
        "powerlaw-200k-3": powerlaw(200_000, rng, mean=3),
        "rating-5000x50000": rating(50_000, 5_000, rng).T.tocsr(),
    }


def ours(csr_bin, path, threads, reps, workdir):
    """Our times from ``csr bench``: SpMV (automatic, and our best strategy), A·A, A·Aᵀ."""
    out = os.path.join(workdir, "bench.json")
    subprocess.run(
        [csr_bin, "bench", path, "--threads", str(threads), "--reps", str(reps),
         "--json", out],
        check=True, stdout=subprocess.DEVNULL,
    )
    rows = json.load(open(out))["results"]

    def pick(op, strategy=None):
        hits = [r["median_s"] for r in rows if r["op"] == op and r["kernel"] == "native"
                and (strategy is None or r["strategy"] == strategy)]
        return min(hits) if hits else None

    times = {
        "spmv (automatic)": pick("spmv", "automatic"),
        "spmv (best strategy)": pick("spmv"),
        "A·A": pick("spgemm_ab"),
        "A·Aᵀ": pick("spgemm_abt"),
    }
    return {op: t for op, t in times.items() if t is not None}


def peers(m, threads, reps):
    """Each installed peer's times on scipy matrix ``m``: {peer: {op: seconds}}. A·A only
    for a square ``m``."""
    x = np.random.default_rng(0).random(m.shape[1])
    mt = m.T.tocsr()

    def ops(spmv, ab, abt):
        calls = {"spmv": spmv, "A·Aᵀ": abt}
        if m.shape[0] == m.shape[1]:
            calls["A·A"] = ab
        return {op: median_time(f, reps) for op, f in calls.items() if f is not None}

    res = {"scipy": ops(lambda: m @ x, lambda: m @ m, lambda: m @ mt)}
    sdm = load_sparse_dot_mkl()
    if sdm is not None:
        dot = sdm.dot_product_mkl
        res["sparse_dot_mkl"] = ops(lambda: dot(m, x), lambda: dot(m, m), lambda: dot(m, mt))
    try:
        import graphblas as gb

        gb.init("suitesparse", blocking=False)
        gb.ss.config["nthreads"] = threads
        a, at = gb.io.from_scipy_sparse(m), gb.io.from_scipy_sparse(mt)
        v = gb.Vector.from_dense(x)
        res["graphblas"] = ops(lambda: a.mxv(v).new(), lambda: a.mxm(a).new(),
                               lambda: a.mxm(at).new())
    except ImportError:
        pass
    try:
        from sparse_dot_topn import sp_matmul

        res["sparse_dot_topn"] = ops(None, lambda: sp_matmul(m, m, n_threads=threads),
                                     lambda: sp_matmul(m, mt, n_threads=threads))
    except ImportError:
        pass
    return res


def read_times(path, reps):
    """Reading the file in process: ``csr.io.read`` against ``scipy.io.mmread``."""
    import csr.io

    return median_time(lambda: csr.io.read(path), reps), median_time(
        lambda: scipy.io.mmread(path), reps)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--scale", choices=["small", "full"], default="full")
    p.add_argument("--csr", default=os.path.join(REPO, "target", "release", "csr"),
                   help="our release binary (cargo build --release -p csr-cli)")
    p.add_argument("--workdir", help="where the Matrix Market files go (default: a temp dir)")
    p.add_argument("--json", help="also write every time to this file")
    args = p.parse_args()
    if not os.path.exists(args.csr):
        sys.exit(f"{args.csr} not found: build it with `cargo build --release -p csr-cli`")
    import csr
    import csr.io

    workdir = args.workdir or tempfile.mkdtemp(prefix="csr-compare-")
    os.makedirs(workdir, exist_ok=True)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  cores={os.cpu_count()}  "
          f"threads={args.threads}")
    print(f"# numpy {np.__version__}, scipy {scipy.__version__}; command: {' '.join(sys.argv)}")
    names = ["scipy", "sparse_dot_mkl", "graphblas", "sparse_dot_topn"]
    print(f"{'op | workload':40} {'ours ms':>9} "
          + " ".join(f"{n + ' ms':>18} {'×':>5}" for n in names) + f" {'× best':>7}")
    record = []
    for name, m in workloads(args.scale, np.random.default_rng(42)).items():
        m.indptr = m.indptr.astype(np.int32)
        m.indices = m.indices.astype(np.int32)
        path = os.path.join(workdir, f"{name}.mtx")
        if not os.path.exists(path):
            csr.io.write(path, csr.CSR.from_scipy(m))
        ours_t = ours(args.csr, path, args.threads, args.reps, workdir)
        peer_t = peers(m, args.threads, args.reps)
        read_ours, read_scipy = read_times(path, max(3, args.reps // 2))
        ops = [(op, ours_t[op], op.split(" ")[0]) for op in ours_t]
        ops.append((f"read ({m.nnz / 1e6:.1f}M entries)", read_ours, "read"))
        peer_t["scipy"]["read"] = read_scipy
        for op, t_ours, key in ops:
            times = {n: peer_t.get(n, {}).get(key) for n in names}
            line = f"{op + ' | ' + name:40} {t_ours * 1e3:9.2f} "
            for n in names:
                t = times[n]
                line += f"{t * 1e3:18.2f} {t / t_ours:5.2f} " if t else f"{'-':>18} {'-':>5} "
            best = min((t for t in times.values() if t), default=None)
            line += f"{best / t_ours:7.2f}" if best else f"{'-':>7}"
            print(line, flush=True)
            record.append({"workload": name, "op": op, "ours_s": t_ours, "peers_s": times})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
