"""Python-level benchmark: this package vs scipy.sparse vs sparse_dot_mkl vs csr 0.5.2.

The same generated matrices in one run. csr 0.5.2 (Numba) has the same import name as this
package, so it runs in its own virtual environment (``--csr052-python``): this script
writes the matrices to ``.npz`` files and runs itself there as a worker, which times the
same calls and prints JSON. Times are medians of ``--repeat`` runs after a warm-up (which
also compiles Numba's kernels); implementations alternate inside each repetition.

    python bench/python_compare.py --scale small                       # a quick check
    python bench/python_compare.py --scale full --csr052-python /work/venv-csr052/bin/python

Ratios are printed as "X× faster than": other's time / our time (> 1: we are faster).
``mult_vec`` is ``CSR.mult_vec`` (one call, nothing kept); ``mult_vec (handle)`` is the kernel
contract's ``mult_vec(h, x)`` on a handle made once, as code that multiplies one matrix many
times runs it (scipy and sparse_dot_mkl have no handle: the same call as ``mult_vec``).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy
import scipy.sparse as sps

# (name, rows of poisson2d side / powerlaw rows / rating users) per scale.
SCALES = {
    "small": {"poisson": 200, "powerlaw": 20_000, "users": 2_000, "items": 1_000},
    "full": {"poisson": 2000, "powerlaw": 1_000_000, "users": 50_000, "items": 5_000},
}


# ----- matrices (seeded, deterministic) --------------------------------------------------

def poisson2d(n, rng):
    """The 5-point stencil on an n×n grid with random values (n² rows, ≈5n² entries)."""
    one = sps.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1])
    eye = sps.identity(n)
    a = (sps.kron(one, eye) + sps.kron(eye, one)).tocsr()
    a.data = rng.uniform(-1, 1, a.nnz)
    return a


def powerlaw(n, rng, mean=15):
    """n rows with Pareto-distributed lengths (mean ≈ 15) and uniform random columns."""
    lens = np.minimum((rng.pareto(1.5, n) + 1) * mean / 3, n // 4).astype(np.int64)
    rows = np.repeat(np.arange(n), lens)
    cols = rng.integers(0, n, rows.shape[0])
    a = sps.csr_matrix((rng.uniform(-1, 1, rows.shape[0]), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    return a


def rating(users, items, rng, per_user=20):
    """An item × user rating matrix (item-item k-NN's orientation: A·Aᵀ is items × items),
    items drawn by Zipf popularity, ratings 0.5–5 (`csr bench`'s items:ratings:50k:5k:20)."""
    lens = rng.integers(5, 2 * per_user, users)
    rows = np.repeat(np.arange(users), lens)
    pop = 1.0 / np.arange(1, items + 1)
    cols = rng.choice(items, rows.shape[0], p=pop / pop.sum())
    a = sps.csr_matrix((rng.integers(1, 11, rows.shape[0]) / 2.0, (rows, cols)),
                       shape=(users, items))
    a.sum_duplicates()
    a.data[:] = np.clip(a.data, 0.5, 5.0)
    return a


def make_matrices(scale, folder):
    rng = np.random.default_rng(42)
    s = SCALES[scale]
    mats = {
        f"poisson2d-{s['poisson']}": poisson2d(s["poisson"], rng),
        f"powerlaw-{s['powerlaw']}": powerlaw(s["powerlaw"], rng),
        f"rating-{s['items']}x{s['users']}": rating(s["users"], s["items"], rng).T.tocsr(),
        "tiny-100": sps.random(20, 20, density=0.25, format="csr", random_state=1),
    }
    paths = {}
    for name, m in mats.items():
        m.indptr = m.indptr.astype(np.int32)
        m.indices = m.indices.astype(np.int32)
        paths[name] = os.path.join(folder, f"{name}.npz")
        sps.save_npz(paths[name], m, compressed=False)
    return paths


# ----- the operations ---------------------------------------------------------------------

def operations(names):
    """(op, matrix) pairs to time: SpMV everywhere, products where LensKit does them."""
    poisson = next(n for n in names if n.startswith("poisson"))
    power = next(n for n in names if n.startswith("powerlaw"))
    rate = next(n for n in names if n.startswith("rating"))
    return [
        ("mult_vec", poisson), ("mult_vec", power), ("mult_vec", rate), ("mult_vec", "tiny-100"),
        ("mult_vec (handle)", poisson), ("mult_vec (handle)", power),
        ("multiply A·A (sorted)", poisson), ("multiply A·A (any order)", poisson),
        ("multiply A·Aᵀ (sorted)", rate), ("multiply A·Aᵀ (any order)", rate),
        ("from_coo", poisson), ("from_coo shuffled", poisson), ("transpose", poisson),
        ("normalize_rows center", rate),
    ]


def _triplets(m):
    """``m``'s COO arrays in row order (int32 indices), as most COO data comes."""
    coo = m.tocoo()
    return coo.row.astype(np.int32), coo.col.astype(np.int32), coo.data


def _shuffled(r, c, v):
    """The triplets in a fixed random order (assembly must then really sort)."""
    perm = np.random.default_rng(1).permutation(len(r))
    return r[perm], c[perm], v[perm]


def csr_calls(CSR, m, ours=True):
    """Calls of a csr package (ours, or 0.5.2 with ``ours=False``: the same API) on scipy
    matrix ``m``.

    Products are timed to two output contracts, the same for every implementation:
    ``(sorted)``, rows sorted by column when the call returns (ours by default; the peers
    sort after: scipy's, MKL's and 0.5.2's rows come unsorted), and ``(any order)``, rows
    as each returns them (ours with ``order_columns=False``)."""
    a = CSR.from_scipy(m)
    x = np.random.default_rng(0).random(m.shape[1])
    r, c, v = _triplets(m)
    rs, cs, vs = _shuffled(r, c, v)

    held = {}

    def handle_mult_vec():
        # The kernel contract's way for many products with one matrix: a handle made once
        # (on the first, untimed call), then `mult_vec(h, x)`.
        if not held:
            from csr.kernels import get_kernel

            held["k"] = get_kernel()
            held["h"] = held["k"].to_handle(a)
        return held["k"].mult_vec(held["h"], x)

    def product(transpose, order_columns):
        if ours:
            return a.multiply(a, transpose=transpose, order_columns=order_columns)
        c = a.multiply(a, transpose=transpose)
        if order_columns:
            c.sort_rows()
        return c

    return {
        "mult_vec": lambda: a.mult_vec(x),
        "mult_vec (handle)": handle_mult_vec,
        "multiply A·A (sorted)": lambda: product(False, True),
        "multiply A·A (any order)": lambda: product(False, False),
        "multiply A·Aᵀ (sorted)": lambda: product(True, True),
        "multiply A·Aᵀ (any order)": lambda: product(True, False),
        "from_coo": lambda: CSR.from_coo(r, c, v, shape=m.shape),
        "from_coo shuffled": lambda: CSR.from_coo(rs, cs, vs, shape=m.shape),
        "transpose": lambda: a.transpose(),
        # on a copy of the values each time, so every call normalises the same data
        "normalize_rows center": lambda: _normalize(a),
    }


def _normalize(a):
    b = a.copy(copy_structure=False)
    b.normalize_rows("center")


def _sorted_rows(c):
    """A scipy product with its rows sorted by column."""
    c.sort_indices()
    return c


def scipy_calls(m):
    x = np.random.default_rng(0).random(m.shape[1])
    r, c, v = _triplets(m)
    rs, cs, vs = _shuffled(r, c, v)

    def center():
        b = m.copy()
        means = np.asarray(b.sum(axis=1)).ravel() / np.maximum(np.diff(b.indptr), 1)
        b.data -= np.repeat(means, np.diff(b.indptr))

    return {
        "mult_vec": lambda: m @ x,
        "mult_vec (handle)": lambda: m @ x,
        "multiply A·A (sorted)": lambda: _sorted_rows(m @ m),
        "multiply A·A (any order)": lambda: m @ m,
        "multiply A·Aᵀ (sorted)": lambda: _sorted_rows(m @ m.T),
        "multiply A·Aᵀ (any order)": lambda: m @ m.T,
        "from_coo": lambda: sps.csr_matrix((v, (r, c)), shape=m.shape),
        "from_coo shuffled": lambda: sps.csr_matrix((vs, (rs, cs)), shape=m.shape),
        "transpose": lambda: m.T.tocsr(),
        "normalize_rows center": center,
    }


def load_sparse_dot_mkl():
    """The sparse_dot_mkl module, or None where it is not installed or MKL cannot load."""
    # sparse_dot_mkl dlopens libmkl_rt by name: load the one `csr` found (CSR_MKL_LIB, set
    # when `csr` is imported from a venv holding MKL) so that a venv need not be activated.
    import csr  # noqa: F401  (sets CSR_MKL_LIB)

    lib = os.environ.get("CSR_MKL_LIB")
    if lib:
        import ctypes

        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    try:
        import sparse_dot_mkl
    except ImportError:
        return None
    return sparse_dot_mkl


def dot_mkl_calls(m):
    sdm = load_sparse_dot_mkl()
    if sdm is None:
        return {}
    x = np.random.default_rng(0).random(m.shape[1])
    mt = m.T.tocsr()
    return {
        "mult_vec": lambda: sdm.dot_product_mkl(m, x),
        "mult_vec (handle)": lambda: sdm.dot_product_mkl(m, x),
        "multiply A·A (sorted)": lambda: sdm.dot_product_mkl(m, m, reorder_output=True),
        "multiply A·A (any order)": lambda: sdm.dot_product_mkl(m, m),
        "multiply A·Aᵀ (sorted)": lambda: sdm.dot_product_mkl(m, mt, reorder_output=True),
        "multiply A·Aᵀ (any order)": lambda: sdm.dot_product_mkl(m, mt),
    }


def median_time(f, repeat, min_time=0.02):
    """Median seconds per call; fast calls are timed in batches."""
    f()
    t0 = time.perf_counter()
    f()
    one = time.perf_counter() - t0
    batch = max(1, int(min_time / max(one, 1e-7)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(batch):
            f()
        times.append((time.perf_counter() - t0) / batch)
    return statistics.median(times)


def run_impls(paths, impls, repeat):
    """{(op, matrix): {impl: seconds}}, alternating implementations per operation."""
    out = {}
    for op, name in operations(list(paths)):
        m = sps.load_npz(paths[name]).tocsr()
        calls = {impl: make(m).get(op) for impl, make in impls.items()}
        res = {}
        for impl, f in calls.items():
            if f is not None:
                res[impl] = median_time(f, repeat)
        out[f"{op} | {name}"] = res
    return out


def worker(args):
    """Runs inside csr 0.5.2's venv: times its calls, prints JSON."""
    from csr import CSR

    paths = json.loads(args.worker)
    res = run_impls(paths, {"csr 0.5.2": lambda m: csr_calls(CSR, m, ours=False)}, args.repeat)
    print(json.dumps(res))


def run_worker(args, paths, folder):
    """csr 0.5.2's times, {(op, matrix): {"csr 0.5.2": seconds}}, from its own venv."""
    cmd = [args.csr052_python, os.path.abspath(__file__), "--worker", json.dumps(paths),
           "--repeat", str(args.repeat)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit("the csr 0.5.2 worker failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def keep_best(res, new):
    """Merges one round's times into ``res``, keeping each implementation's fastest."""
    for key, times in new.items():
        best = res.setdefault(key, {})
        for impl, t in times.items():
            best[impl] = min(best.get(impl, t), t)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--rounds", type=int, default=1,
                   help="rounds of timing every implementation (csr 0.5.2's worker run once "
                        "per round, after ours and the in-process peers); each implementation "
                        "keeps its best round's median (a slow spell of the machine then hits "
                        "one round, not one implementation)")
    p.add_argument("--csr052-python", help="python of a venv with csr==0.5.2 (and numba)")
    p.add_argument("--kernel", default="native",
                   help="our kernel (native, mkl, ...; default native, the fastest products; "
                        "the package's own default is mkl where it loads)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    sys.path = [d for d in sys.path if os.path.abspath(d or ".") != os.getcwd()]
    import csr
    from csr import CSR
    from csr.kernels import get_kernel, set_kernel

    set_kernel(args.kernel)

    with tempfile.TemporaryDirectory() as folder:
        paths = make_matrices(args.scale, folder)
        impls = {"ours": lambda m: csr_calls(CSR, m), "scipy": scipy_calls,
                 "sparse_dot_mkl": dot_mkl_calls}
        res = {}
        for _ in range(max(1, args.rounds)):
            keep_best(res, run_impls(paths, impls, args.repeat))
            if args.csr052_python:
                keep_best(res, run_worker(args, paths, folder))

    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  cores={os.cpu_count()}")
    print(f"# csr {csr.__version__}, kernel {get_kernel().__name__}, threads "
          f"{csr.get_num_threads()}; numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"# every time: median of {args.repeat} calls (batched when short), best of "
          f"{max(1, args.rounds)} round(s); × = peer / ours")
    others = ["scipy", "sparse_dot_mkl", "csr 0.5.2"]
    print(f"{'operation | matrix':46} {'ours ms':>9} " +
          " ".join(f"{o + ' ms':>16} {'×':>6}" for o in others))
    for key, times in res.items():
        ours = times.get("ours")
        row = f"{key:46} {ours * 1e3:9.4f} "
        for o in others:
            t = times.get(o)
            row += (f"{t * 1e3:16.4f} {t / ours:6.2f} " if t else f"{'-':>16} {'-':>6} ")
        print(row)


if __name__ == "__main__":
    main()
