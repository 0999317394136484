#!/usr/bin/env python3
"""Matrix Market read/write throughput: csr vs sprs vs scipy.io, side by side in rounds.

Each round times every implementation once on the same file, in a rotating order, so that
machine noise hits all of them alike; the table gives medians and ratios of medians.
csr and sprs run in `mm_io_time` (crates/csr/benches/mm_io_time.rs, one timed operation per
process, process start not counted); scipy.io.mmread / mmwrite (fast_matrix_market, using
every core) run in this process. Throughput is the file's size (read) or the size written
(write) per second.

    python3 crates/csr/benches/mm_io_vs_scipy.py [--rounds 5] [--big] [--no-sprs] [--dir /tmp]

Needs scipy (>= 1.12) in the running interpreter and builds mm_io_time with cargo (release).
Files: random:200000:200000:10 (2M entries) and, with --big, random:2000000:2000000:10
(20M entries), generated once into --dir by this crate's writer.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import scipy
import scipy.io

SPECS = ["random:200000:200000:10"]
BIG_SPEC = "random:2000000:2000000:10"


def build_timer():
    """Builds mm_io_time (release) and returns its path."""
    out = subprocess.run(
        ["cargo", "bench", "-p", "csr", "--bench", "mm_io_time", "--no-run",
         "--message-format=json"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == "mm_io_time":
            return msg["executable"]
    sys.exit("mm_io_time was not built")


def timer_run(timer, *args):
    """(seconds, bytes read or written) of one mm_io_time operation."""
    out = subprocess.run([timer, *args], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["seconds"], r["bytes"]


def scipy_read(path):
    t = time.perf_counter()
    scipy.io.mmread(path)
    return time.perf_counter() - t, os.path.getsize(path)


def scipy_write(a, out):
    t = time.perf_counter()
    scipy.io.mmwrite(out, a)
    return time.perf_counter() - t, os.path.getsize(out)


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_file(timer, path, rounds, sprs, out_dir):
    size = os.path.getsize(path)
    scipy_out = os.path.join(out_dir, "mm-bench-scipy-out.mtx")
    ours_out = os.path.join(out_dir, "mm-bench-csr-out.mtx")
    a = scipy.io.mmread(path)
    reads = {
        "csr:triplets": lambda: timer_run(timer, "read-triplets", path),
        "csr:csr": lambda: timer_run(timer, "read-csr", path),
        "scipy": lambda: scipy_read(path),
    }
    writes = {
        "csr": lambda: timer_run(timer, "write-csr", path, ours_out),
        "scipy": lambda: scipy_write(a, scipy_out),
    }
    if sprs:
        reads["sprs"] = lambda: timer_run(timer, "read-sprs", path)
        writes["sprs"] = lambda: timer_run(timer, "write-sprs", path, ours_out)
    times = {("read", k): [] for k in reads} | {("write", k): [] for k in writes}
    nbytes = {}
    loads = [loadavg()]
    for r in range(rounds):
        for kind, table in (("read", reads), ("write", writes)):
            names = list(table)
            names = names[r % len(names):] + names[:r % len(names)]
            for name in names:
                seconds, nbytes[(kind, name)] = table[name]()
                times[(kind, name)].append(seconds)
        loads.append(loadavg())
    for p in (scipy_out, ours_out):
        os.remove(p)

    print(f"\n{os.path.basename(path)}: {a.nnz} entries, {size / 1e6:.1f} MB, "
          f"{rounds} rounds, load average before/after rounds: {' | '.join(loads)}")
    for kind in ("read", "write"):
        med = {k: statistics.median(v) for (t, k), v in times.items() if t == kind}
        ours = med["csr:triplets"] if kind == "read" else med["csr"]
        for name, s in med.items():
            spread = times[(kind, name)]
            print(f"  {kind:5} {name:13} median {s * 1e3:9.1f} ms"
                  f"  {nbytes[(kind, name)] / s / 1e6:7.1f} MB/s"
                  f"  (min {min(spread) * 1e3:.1f}, max {max(spread) * 1e3:.1f})"
                  f"  csr is {s / ours:5.2f}x faster")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--big", action="store_true", help="also the 20M-entry file")
    p.add_argument("--no-sprs", action="store_true", help="skip sprs (slow on big files)")
    p.add_argument("--dir", default="/tmp", help="where the generated files live")
    args = p.parse_args()
    timer = build_timer()
    print(f"scipy {scipy.__version__}, {os.cpu_count()} cpus, timer {timer}")
    specs = SPECS + ([BIG_SPEC] if args.big else [])
    for spec in specs:
        path = os.path.join(args.dir, f"csr-mm-{spec.replace(':', '_')}.mtx")
        if not os.path.exists(path):
            subprocess.run([timer, "generate", spec, path], check=True)
        bench_file(timer, path, args.rounds, not args.no_sprs, args.dir)


if __name__ == "__main__":
    main()
