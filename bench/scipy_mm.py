#!/usr/bin/env python3
"""scipy's side of the Matrix Market benchmark (crates/csr/benches/mm_io.rs), on the same files.

scipy.io.mmread / mmwrite are fast_matrix_market (C++, threaded: they use every core unless
told otherwise). Times are medians of REPS runs; throughput is the file's size per second.

    python3 bench/scipy_mm.py /tmp/csr-mm-random_200000_200000_10.mtx [...]
"""
import os
import statistics
import sys
import tempfile
import time

import scipy
import scipy.io

REPS = int(os.environ.get("REPS", "5"))


def median_seconds(f):
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(paths):
    print(f"scipy {scipy.__version__}, {os.cpu_count()} cpus, median of {REPS}")
    for path in paths:
        size = os.path.getsize(path)
        a = scipy.io.mmread(path)
        read = median_seconds(lambda: scipy.io.mmread(path))
        out = os.path.join(tempfile.gettempdir(), "scipy-mm-bench-out.mtx")
        write = median_seconds(lambda: scipy.io.mmwrite(out, a))
        wsize = os.path.getsize(out)
        os.remove(out)
        name = os.path.basename(path)
        print(f"{name}: nnz {a.nnz}, {size / 1e6:.1f} MB")
        print(f"  mmread  {read * 1e3:9.1f} ms  {size / read / 1e6:7.1f} MB/s")
        print(f"  mmwrite {write * 1e3:9.1f} ms  {wsize / write / 1e6:7.1f} MB/s ({wsize / 1e6:.1f} MB written)")


if __name__ == "__main__":
    main(sys.argv[1:])
