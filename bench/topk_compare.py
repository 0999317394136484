#!/usr/bin/env python3
"""Top-k sparse products: csr against sparse_dot_topn and scipy, same matrices, same threads.

Workloads (matrices written once as Matrix Market files by `csr info --generate ... --output`,
then read by every implementation):

- ratings: `items:ratings:50k:5k:20` (the 5k x 50k item x user rating matrix A), A·Aᵀ, top 20;
- tfidf: two `random:20k:193k:30` matrices A, B (seeds 1 and 2: 20k x 193k, 30 entries per
  row, values uniform in [-1, 1); sparse_dot_topn's benchmark shape, but uniform columns,
  not a Zipf vocabulary), A·Bᵀ, top 10.

Implementations, each run in a child process of its own (peak RSS from `ru_maxrss`):

- csr: `csr spgemm A B --transpose-b --top-k K --kernel native` with RAYON_NUM_THREADS set; the
  time is the product's, as the command prints it (a fresh process: Bᵀ is computed in the
  timed call); the peak RSS is the whole `csr` process's (reading, product, writing);
- sparse_dot_topn: `sp_matmul_topn(A, Bt, top_n=K, n_threads=T)` with Bt = Bᵀ in CSR made
  before timing (sparse_dot_topn 1.x);
- csr-python: the Python package's `csr.sp_matmul_topn`, called exactly as sparse_dot_topn
  (the native kernel's top-k product through the bindings; skipped with a message where
  `import csr` fails);
- csr-python-aat (only where B = A, the item-item case): `A.multiply_topk(A, K,
  transpose=True)` on the package's `CSR`, as LensKit code calls it: one matrix on both
  sides, so the native kernel computes each pair once (`csr` above gets the same path:
  the command is given one file twice);
- scipy: `A @ B.T` (CSR), then each row's top K by `np.argpartition`: the full product
  followed by a selection.

For the python children the table also gives the RSS growth over the loaded inputs. With
`--bench-json`, the in-process rows of `csr bench` on the ratings workload (top-k product,
full product + selection, cosine_topk, with their own peak memory) are run and printed too.

    python3 -m venv /work/venv-bench
    /work/venv-bench/bin/pip install sparse-dot-topn==1.2.0 scipy
    cargo build --release -p csr-cli
    /work/venv-bench/bin/python bench/topk_compare.py --csr target/release/csr --threads 2
    /work/venv-bench/bin/python bench/topk_compare.py --small   # a smoke run in seconds

The project's `.venv` (after `bash scripts/python-tests`) holds the package, scipy and
sparse_dot_topn: `.venv/bin/python bench/topk_compare.py --csr
target/release/csr --threads 2` runs every row.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = {
    # name: (A spec, A seed, B spec or None for B = A, B seed, k, transpose A after generating)
    "ratings": ("ratings:50k:5k:20", 42, None, None, 20, True),
    "tfidf": ("random:20k:193k:30", 1, "random:20k:193k:30", 2, 10, False),
}
SMALL = {
    "ratings": ("ratings:5000:500:20", 42, None, None, 20, True),
    "tfidf": ("random:2000:19300:30", 1, "random:2000:19300:30", 2, 10, False),
}
IMPLS = ("csr", "csr-python", "csr-python-aat", "sparse_dot_topn", "scipy")
# Implementations that only run where B = A (one matrix on both sides).
SAME_ONLY = ("csr-python-aat",)


def maxrss_bytes(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss * 1024  # kB on Linux


def load(path):
    import scipy.io
    import scipy.sparse as sp

    return sp.csr_matrix(scipy.io.mmread(path))


def checksum(c):
    return {"nnz": int(c.nnz), "sum": float(c.data.sum())}


def scipy_topk(a, b, k):
    import numpy as np
    import scipy.sparse as sp

    c = (a @ b.T).tocsr()
    indptr = [0]
    cols, vals = [], []
    for r in range(c.shape[0]):
        s, e = c.indptr[r], c.indptr[r + 1]
        v = c.data[s:e]
        if e - s > k:
            keep = np.argpartition(-v, k - 1)[:k]
        else:
            keep = np.arange(e - s)
        cols.append(c.indices[s:e][keep])
        vals.append(v[keep])
        indptr.append(indptr[-1] + keep.size)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
    vals = np.concatenate(vals) if vals else np.zeros(0)
    return sp.csr_matrix((vals, cols, np.array(indptr)), shape=c.shape)


def child(impl, a_path, b_path, k, threads, reps, csr_bin, out_path):
    """Runs one implementation `reps` times (after a warm-up); prints a JSON line."""
    if impl == "csr":
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        cmd = [
            csr_bin,
            "spgemm",
            a_path,
            b_path,
            "--transpose-b",
            "--top-k",
            str(k),
            "--kernel",
            "native",
            "--output",
            out_path,
        ]
        times = []
        for rep in range(reps + 1):
            out = subprocess.run(
                cmd, env=env, check=True, capture_output=True, text=True
            ).stdout
            # "C = top K per row of A·Bᵀ: ..., kernel native, 12.345 ms -> FILE"
            ms = float(out.rsplit(" ms ->", 1)[0].rsplit(",", 1)[1])
            if rep > 0:
                times.append(ms / 1e3)
        result = {
            "peak_rss": maxrss_bytes(resource.RUSAGE_CHILDREN),
            "over_inputs": None,
        }
        c = load(out_path)
    else:
        a = load(a_path)
        b = a if b_path == a_path else load(b_path)
        if impl == "csr-python-aat":
            import csr
            from csr.kernels import set_kernel

            set_kernel("native")
            m = csr.CSR.from_scipy(a)

            def run():
                return m.multiply_topk(m, k, transpose=True).to_scipy()
        elif impl in ("sparse_dot_topn", "csr-python"):
            if impl == "sparse_dot_topn":
                from sparse_dot_topn import sp_matmul_topn
            else:
                from csr import sp_matmul_topn
                from csr.kernels import set_kernel

                set_kernel("native")

            bt = b.T.tocsr()

            def run():
                return sp_matmul_topn(a, bt, top_n=k, n_threads=threads)
        else:

            def run():
                return scipy_topk(a, b, k)

        loaded = maxrss_bytes()
        times = []
        for rep in range(reps + 1):
            t = time.perf_counter()
            c = run()
            if rep > 0:
                times.append(time.perf_counter() - t)
        result = {"peak_rss": maxrss_bytes(), "over_inputs": maxrss_bytes() - loaded}
    result.update(median_s=statistics.median(times), **checksum(c))
    print(json.dumps(result))


def generate(csr_bin, spec, seed, transpose, path):
    cmd = [
        csr_bin,
        "info",
        "--generate",
        spec,
        "--seed",
        str(seed),
        "--output",
        str(path),
    ]
    if transpose:
        cmd.append("--transpose")
    subprocess.run(cmd, check=True, capture_output=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csr", default="target/release/csr", help="the csr binary")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--small", action="store_true", help="small matrices: a smoke run")
    p.add_argument(
        "--workdir", help="where the .mtx files go (default: a temporary directory)"
    )
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument(
        "--bench-json", help="also run `csr bench` on the ratings workload, JSON here"
    )
    p.add_argument(
        "--child",
        nargs=5,
        metavar=("IMPL", "A", "B", "K", "OUT"),
        help=argparse.SUPPRESS,
    )
    args = p.parse_args()
    csr_bin = str(Path(args.csr).resolve())
    if args.child:
        impl, a, b, k, out = args.child
        child(impl, a, b, int(k), args.threads, args.reps, csr_bin, out)
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="topk-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for name, (spec_a, seed_a, spec_b, seed_b, k, transpose) in (
        SMALL if args.small else WORKLOADS
    ).items():
        a_path = workdir / f"{name}_a.mtx"
        generate(csr_bin, spec_a, seed_a, transpose, a_path)
        b_path = a_path
        if spec_b:
            b_path = workdir / f"{name}_b.mtx"
            generate(csr_bin, spec_b, seed_b, transpose, b_path)
        for impl in IMPLS:
            if spec_b and impl in SAME_ONLY:
                continue
            cmd = [
                sys.executable,
                __file__,
                "--csr",
                csr_bin,
                "--threads",
                str(args.threads),
                "--reps",
                str(args.reps),
                "--child",
                impl,
                str(a_path),
                str(b_path),
                str(k),
                str(workdir / f"{name}_{impl}_out.mtx"),
            ]
            run = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{name} {impl}: failed\n{run.stderr}", file=sys.stderr)
                continue
            r = json.loads(run.stdout.strip().splitlines()[-1])
            r.update(workload=name, impl=impl, k=k, threads=args.threads)
            results.append(r)

    print(f"top-k products, {args.threads} threads, median of {args.reps} runs")
    print(
        f"{'workload':10} {'impl':16} {'ms':>10} {'x csr':>7} "
        f"{'peak RSS MB':>12} {'+inputs MB':>11}  check"
    )
    for r in results:
        ours = next(
            x for x in results if x["workload"] == r["workload"] and x["impl"] == "csr"
        )
        ratio = r["median_s"] / ours["median_s"]
        grow = "-" if r["over_inputs"] is None else f"{r['over_inputs'] / 1e6:.1f}"
        same = (
            abs(r["sum"] - ours["sum"]) <= 1e-9 * max(1.0, abs(ours["sum"]))
            and r["nnz"] == ours["nnz"]
        )
        print(
            f"{r['workload']:10} {r['impl']:16} {r['median_s'] * 1e3:10.2f} {ratio:7.2f} "
            f"{r['peak_rss'] / 1e6:12.1f} {grow:>11}  {'same nnz and sum' if same else 'DIFFERS'}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))

    if args.bench_json:
        spec = "items:ratings:5000:500:20" if args.small else "items:ratings:50k:5k:20"
        subprocess.run(
            [
                csr_bin,
                "bench",
                spec,
                "--threads",
                str(args.threads),
                "--reps",
                str(args.reps),
                "--json",
                args.bench_json,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows = json.loads(Path(args.bench_json).read_text())["results"]
        print(f"\ncsr bench {spec} (in process; Bᵀ kept in the handle between runs):")
        for row in rows:
            if "top" in row["op"] or row["op"] == "spgemm_abt":
                print(
                    f"  {row['op']:24} {row['kernel']:8} "
                    f"{row['median_s'] * 1e3:10.2f} ms  {row['note']}"
                )


if __name__ == "__main__":
    main()
