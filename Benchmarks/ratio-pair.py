#!/usr/bin/env python3
"""Before/after ratio pair with the machine's drift cancelled: runs the `linktrack-ratio --quick`
harness of two checkouts alternately (A, B, B, A, A, B, ...) and prints, per benchmark, the median of
each side's ratios and the change.

    python3 Benchmarks/ratio-pair.py BEFORE_TREE AFTER_TREE [ROUNDS]

Each tree must have its harness built (`swift build -c release --package-path TREE/Benchmarks
--product linktrack-ratio`; `bash Benchmarks/run.sh` builds it). Two long runs one after the other
can see the machine at different speeds (the libxml2 baseline itself moved by half between two of
them); alternating short runs puts the same drift on both sides. Run it on a quiet machine.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(tree, out):
    binary = os.path.join(tree, "Benchmarks/.build/x86_64-unknown-linux-gnu/release/linktrack-ratio")
    subprocess.run([binary, out, "--quick"], cwd=os.path.join(tree, "Benchmarks"),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        document = json.load(f)
    rows = document["rows"] if isinstance(document, dict) else document
    return {row["name"]: row["ratio"] for row in rows}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    trees = [os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    ratios = [{}, {}]
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(rounds):
            order = [0, 1] if r % 2 == 0 else [1, 0]
            for side in order:
                for name, ratio in run(trees[side], os.path.join(scratch, f"{side}-{r}.json")).items():
                    ratios[side].setdefault(name, []).append(ratio)
    print(f"{'benchmark':30s} {'before':>8s} {'after':>8s} {'change':>8s}   (medians of {rounds} alternated runs each)")
    for name in ratios[1]:
        if name not in ratios[0]:
            continue
        a, b = statistics.median(ratios[0][name]), statistics.median(ratios[1][name])
        print(f"{name:30s} {a:8.3f} {b:8.3f} {b - a:+8.3f}   before {['%.2f' % x for x in ratios[0][name]]} after {['%.2f' % x for x in ratios[1][name]]}")


if __name__ == "__main__":
    main()
