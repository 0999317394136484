#!/usr/bin/env python3
"""Our library against the libraries Python users pick, on the same files, in one run.

Writes each workload once as a Matrix Market file and times, in this process and with the
same thread count, our Python package (native kernel) against scipy, MKL (its optimized
handle, through our `mkl` kernel), sparse_dot_mkl, python-graphblas (SuiteSparse:GraphBLAS)
and sparse_dot_topn: SpMV (ours with a handle kept, its `automatic` strategy planned once,
and as one call without a handle), A·A, A·Aᵀ, and reading the file (``csr.io.read``
against ``scipy.io.mmread``, fast_matrix_market's threaded reader). Every implementation
is timed by the same harness, in turn. Prints the times and the ratio peer time / our time
(above 1: ours is faster); a peer that is not installed shows ``-``. Also runs
``csr bench FILE --json`` on each file and prints its native times apart (cold single
calls, so not comparable with the table).

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
    """The comparison's matrices, each with whether it is only read: a stencil, power-law
    short rows, an item × user matrix; then a 20M-entry and a 2M-entry file to read."""
    if scale == "small":
        return {
            "poisson2d-200": (poisson2d(200, rng), False),
            "powerlaw-20k-3": (powerlaw(20_000, rng, mean=3), False),
            "rating-500x5000": (rating(5_000, 500, rng).T.tocsr(), False),
            "powerlaw-80k-3": (powerlaw(80_000, rng, mean=3), True),
        }
    return {
        "poisson2d-1000": (poisson2d(1000, rng), False),
        "powerlaw-200k-3": (powerlaw(200_000, rng, mean=3), False),
        "rating-5000x50000": (rating(50_000, 5_000, rng).T.tocsr(), False),
        "powerlaw-800k-3": (powerlaw(800_000, rng, mean=3), True),
        "poisson2d-2000": (poisson2d(2000, rng), True),
    }


OURS = "ours"


def bench_rows(csr_bin, path, threads, reps, workdir):
    """``csr bench FILE --json`` on the file: SpMV (automatic), A·A, A·Aᵀ on the native
    kernel. Those are cold single calls (a 5 ms pause before each, the strategies and
    kernels interleaved), so they are shown beside the table, not in its ratios."""
    out = os.path.join(workdir, "bench.json")
    subprocess.run(
        [csr_bin, "bench", path, "--threads", str(threads), "--reps", str(reps), "--json", out],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rows = json.load(open(out))["results"]

    def pick(op, strategy=None):
        hits = [
            r["median_s"]
            for r in rows
            if r["op"] == op
            and r["kernel"] == "native"
            and (strategy is None or r["strategy"] == strategy)
        ]
        return min(hits) if hits else None

    times = {
        "spmv": pick("spmv", "automatic"),
        "A·A": pick("spgemm_ab"),
        "A·Aᵀ": pick("spgemm_abt"),
    }
    return {op: t for op, t in times.items() if t is not None}


def sorted_rows(c):
    """``c`` (a scipy product) with its rows sorted by column, as ours are."""
    c.sort_indices()
    return c


def graphblas_done(c, materialize):
    """A GraphBLAS result made whole: non-blocking mode returns it with work pending, and
    ``wait()`` finishes it, sorting its rows ("materialize")."""
    if materialize:
        c.wait("materialize")
    return c


def calls(m, threads):
    """Every implementation's call for each operation on scipy matrix ``m``:
    {op: {impl: f}}; ``OURS`` is our package on the native kernel. A·A only for a square
    ``m``; A·Aᵀ gets ``Aᵀ`` ready made, as every peer does.

    Each product is timed twice, to the same output contract for everyone: ``(sorted)``,
    every row sorted by column when the call returns (ours by default; scipy and
    sparse_dot_topn then ``sort_indices()``; sparse_dot_mkl with ``reorder_output=True``;
    GraphBLAS ``wait("materialize")``), and ``(any order)``, each returning its rows in
    its own order (ours with ``order_columns=False``; the peers as they come: scipy's,
    MKL's and sparse_dot_topn's rows are unsorted, GraphBLAS leaves its result pending)."""
    import csr.kernels
    from csr.kernels import native

    csr.kernels.set_kernel("native")
    x = np.random.default_rng(0).random(m.shape[1])
    mt = m.T.tocsr()
    a, at = csr.CSR.from_scipy(m), csr.CSR.from_scipy(mt)
    # A handle made once (its `automatic` strategy planned once), as GraphBLAS keeps its
    # matrix object and MKL its optimized handle.
    handle = native.to_handle(a)
    ops = {
        f"spmv ({handle.strategy})": {
            OURS: lambda: native.mult_vec(handle, x),
            "scipy": lambda: m @ x,
        },
        "spmv (one call)": {OURS: lambda: a.mult_vec(x), "scipy": lambda: m @ x},
    }
    products = {"A·A": (a, m), "A·Aᵀ": (at, mt)}
    if m.shape[0] != m.shape[1]:
        del products["A·A"]
    for op, (b, mb) in products.items():
        ops[f"{op} (sorted)"] = {
            OURS: lambda b=b: a.multiply(b),
            "scipy": lambda mb=mb: sorted_rows(m @ mb),
        }
        ops[f"{op} (any order)"] = {
            OURS: lambda b=b: a.multiply(b, order_columns=False),
            "scipy": lambda mb=mb: m @ mb,
        }
    spmv_handle = next(iter(ops))
    try:
        from csr.kernels import mkl

        # MKL's own optimized handle (hint + mkl_sparse_optimize), through our binding.
        mh = mkl.to_handle(a)
        ops[spmv_handle]["mkl (optimized)"] = lambda: mkl.mult_vec(mh, x)
    except ImportError:
        pass
    sdm = load_sparse_dot_mkl()
    if sdm is not None:
        dot = sdm.dot_product_mkl
        ops["spmv (one call)"]["sparse_dot_mkl"] = lambda: dot(m, x)
        for op, (_, mb) in products.items():
            ops[f"{op} (sorted)"]["sparse_dot_mkl"] = lambda mb=mb: dot(
                m, mb, reorder_output=True
            )
            ops[f"{op} (any order)"]["sparse_dot_mkl"] = lambda mb=mb: dot(m, mb)
    try:
        import graphblas as gb

        gb.init("suitesparse", blocking=False)
        gb.ss.config["nthreads"] = threads
        ga, gat = gb.io.from_scipy_sparse(m), gb.io.from_scipy_sparse(mt)
        v = gb.Vector.from_dense(x)
        ops[spmv_handle]["graphblas"] = lambda: ga.mxv(v).new()
        for op, gb_b in (("A·A", ga), ("A·Aᵀ", gat)):
            if op in products:
                for kind, whole in (("sorted", True), ("any order", False)):
                    ops[f"{op} ({kind})"]["graphblas"] = lambda g=gb_b, w=whole: (
                        graphblas_done(ga.mxm(g).new(), w)
                    )
    except ImportError:
        pass
    try:
        from sparse_dot_topn import sp_matmul

        for op, (_, mb) in products.items():
            ops[f"{op} (sorted)"]["sparse_dot_topn"] = lambda mb=mb: sorted_rows(
                sp_matmul(m, mb, n_threads=threads)
            )
            ops[f"{op} (any order)"]["sparse_dot_topn"] = lambda mb=mb: sp_matmul(
                m, mb, n_threads=threads
            )
    except ImportError:
        pass
    return ops


def read_calls(path):
    """Reading the file in process: ``csr.io.read`` against ``scipy.io.mmread``."""
    import csr.io

    return {OURS: lambda: csr.io.read(path), "scipy": lambda: scipy.io.mmread(path)}


def time_alternating(impls, reps, rounds):
    """{impl: seconds}: each round times every implementation once (``median_time``, in
    turn), and each keeps its best round, so that a slow spell of the machine does not
    fall on one implementation only.

    Each implementation runs its calls back to back, as a program that uses it would.
    Turns call by call were tried (2026-12-06): then every call starts with caches filled
    by the others' data, and MKL's and GraphBLAS's OpenMP threads, which spin after a call
    (KMP_BLOCKTIME), take the cores from whoever runs next; poisson2d(1000) SpMV went from
    ours 1.48 ms, MKL 1.51 (back to back) to ours 2.70, MKL 4.46 (call by call), or ours
    2.53, MKL 2.40 with the spinning turned off: a measure of the harness, not of SpMV."""
    best = {}
    for _ in range(rounds):
        for name, f in impls.items():
            t = median_time(f, reps)
            best[name] = min(best.get(name, t), t)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="times each implementation is timed in turn (its best round counts)",
    )
    p.add_argument("--scale", choices=["small", "full"], default="full")
    p.add_argument(
        "--csr",
        default=os.path.join(REPO, "target", "release", "csr"),
        help="our release binary (cargo build --release -p csr-cli)",
    )
    p.add_argument("--workdir", help="where the Matrix Market files go (default: a temp dir)")
    p.add_argument("--json", help="also write every time to this file")
    args = p.parse_args()
    if not os.path.exists(args.csr):
        sys.exit(f"{args.csr} not found: build it with `cargo build --release -p csr-cli`")
    import csr
    import csr.io

    workdir = args.workdir or tempfile.mkdtemp(prefix="csr-compare-")
    os.makedirs(workdir, exist_ok=True)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  {platform.node()}  "
        f"{platform.processor() or platform.machine()}  cores={os.cpu_count()}  "
        f"threads={args.threads}"
    )
    print(f"# numpy {np.__version__}, scipy {scipy.__version__}; command: {' '.join(sys.argv)}")
    print(
        "# every time: in this process, median of --reps back-to-back calls (batched when "
        "short), best of --rounds rounds; ratio = peer / ours"
    )
    names = ["scipy", "mkl (optimized)", "sparse_dot_mkl", "graphblas", "sparse_dot_topn"]
    print(
        f"{'op | workload':42} {'ours ms':>9} "
        + " ".join(f"{n + ' ms':>18} {'×':>5}" for n in names)
        + f" {'× best':>7}"
    )
    record, cold = [], []

    def show(op, name, times):
        t_ours = times.pop(OURS)
        line = f"{op + ' | ' + name:42} {t_ours * 1e3:9.3f} "
        for n in names:
            t = times.get(n)
            line += f"{t * 1e3:18.3f} {t / t_ours:5.2f} " if t else f"{'-':>18} {'-':>5} "
        best = min(times.values(), default=None)
        line += f"{best / t_ours:7.2f}" if best else f"{'-':>7}"
        print(line, flush=True)
        record.append({"workload": name, "op": op, "ours_s": t_ours, "peers_s": times})

    rng = np.random.default_rng(42)
    for name, (m, read_only) in workloads(args.scale, rng).items():
        m.indptr = m.indptr.astype(np.int32)
        m.indices = m.indices.astype(np.int32)
        path = os.path.join(workdir, f"{name}.mtx")
        if not os.path.exists(path):
            csr.io.write(path, csr.CSR.from_scipy(m))
        if not read_only:
            cold.append((name, bench_rows(args.csr, path, args.threads, args.reps, workdir)))
            for op, impls in calls(m, args.threads).items():
                show(op, name, time_alternating(impls, args.reps, args.rounds))
        del m
        show(
            f"read ({os.path.getsize(path) / 1e6:.0f} MB)",
            name,
            time_alternating(read_calls(path), max(3, args.reps // 2), args.rounds),
        )
    print(
        "\n# `csr bench FILE` on the same files (cold single calls: a 5 ms pause before "
        "each, kernels interleaved), ms"
    )
    for name, times in cold:
        print(f"{name:24} " + "  ".join(f"{op} {t * 1e3:.3f}" for op, t in times.items()))
        record.append({"workload": name, "op": "csr bench", "ours_s": times})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
