"""`make bench`: start a lab of its own, run every benchmark side by side, print ratios,
save the results as JSON under bench/results/."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import harness, p1_inventory
from evacuate.lab.lab import Lab, default_lab
from evacuate.state import StateDir

BENCH_LAB_ID = "evb"
BENCH_LAB_INDEX = 3


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each side per figure")
    parser.add_argument("--only", nargs="*", help="figure keys to run (e.g. P1)")
    args = parser.parse_args()
    lab = Lab(default_lab(lab_id=BENCH_LAB_ID, index=BENCH_LAB_INDEX),
              StateDir(Path(tempfile.mkdtemp(prefix="bench-state-"))),
              progress=lambda msg: print(f"lab: {msg}", file=sys.stderr))
    benchmarks = {"P1": p1_inventory.measure}
    chosen = [k for k in benchmarks if not args.only or k in args.only]
    figures = []
    try:
        lab.down()
        lab.up(timeout=240)
        for key in chosen:
            print(f"bench: {key} ...", file=sys.stderr)
            figures.append(benchmarks[key](lab, args.rounds))
    finally:
        lab.down()
    print(harness.report(figures))
    print(f"\nresults: {harness.save(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
