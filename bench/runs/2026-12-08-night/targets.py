"""Issue 17's targets from bench/compare.py JSON files: SpMV on a handle against MKL's
optimized handle and GraphBLAS (>= 1.1), SpGEMM against every peer (>= 1.2), reads against
scipy (>= 1.5 on the 20M- and 2M-entry files). Usage: targets.py FILE.json..."""
import json
import sys

for path in sys.argv[1:]:
    cells = []
    for r in json.load(open(path)):
        if "peers_s" not in r:
            continue
        op, w, ours, peers = r["op"], r["workload"], r["ours_s"], r["peers_s"]
        if op.startswith("spmv (") and "one call" not in op:
            best = min(v for k, v in peers.items() if k in ("mkl (optimized)", "graphblas"))
            cells.append((f"SpMV {w}", best / ours, 1.1))
        elif op.startswith("A·A"):
            cells.append((f"{op} {w}", min(peers.values()) / ours, 1.2))
        elif op.startswith("read") and w in ("poisson2d-2000", "powerlaw-800k-3"):
            cells.append((f"read {w}", peers["scipy"] / ours, 1.5))
    bad = [f"{n} {x:.2f}" for n, x, t in cells if x < t]
    spgemm = min(x for n, x, t in cells if n.startswith("A·A"))
    print(f"{path}: SpMV " + ", ".join(f"{n.split()[1]} {x:.2f}" for n, x, t in cells
                                      if n.startswith("SpMV"))
          + f"; SpGEMM min {spgemm:.2f}; reads "
          + ", ".join(f"{n.split()[1]} {x:.2f}" for n, x, t in cells if n.startswith("read"))
          + f"; below target: {bad or 'none'}")
