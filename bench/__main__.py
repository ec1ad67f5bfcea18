"""`make bench`: start a lab of its own, run every benchmark side by side, print ratios,
save the results as JSON under bench/results/."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    bw_limit,
    harness,
    mail_source,
    p1_inventory,
    p2_snapshot,
    p3_incremental,
    p4_run,
    p5_cutover,
    p6_fleet,
    p7_memory,
    rto,
    workload,
)
from evacuate.lab.lab import Lab, default_lab
from evacuate.state import StateDir

# two benches at once (two checkouts) each take their own lab through the environment
BENCH_LAB_ID = os.environ.get("EVACUATE_BENCH_LAB_ID", "evb")
BENCH_LAB_INDEX = int(os.environ.get("EVACUATE_BENCH_LAB_INDEX", "3"))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rounds", type=int, default=5,
                        help="runs of each side per figure (after one warm-up each); P4 and "
                             "RTO run at most 2, P5, P6, BW and BWF at most 3, P7 one")
    parser.add_argument("--only", nargs="*",
                        help="figure keys to run (P1 P2 P3 P3b P4 P5 P6 P7 RTO BW BWF MAIL; "
                             "P3 and P3b run together; BW is BW-read, BW-write and BW-snap; "
                             "BWF is BW-fleet; "
                             "MAIL is P1-mail and P2-mail, on lab-mail)")
    parser.add_argument("--size", choices=sorted(workload.SIZES), default="small",
                        help="workload seeded on lab-source before the figures (default small; "
                             "reference is the issue's reference workload and slow)")
    args = parser.parse_args()
    lab = Lab(default_lab(lab_id=BENCH_LAB_ID, index=BENCH_LAB_INDEX),
              StateDir(Path(tempfile.mkdtemp(prefix="bench-state-"))),
              progress=lambda msg: print(f"lab: {msg}", file=sys.stderr))
    benchmarks: dict[str, Callable[[Lab, int], harness.Figure | list[harness.Figure]]] = {
        "P1": p1_inventory.measure, "P2": p2_snapshot.measure, "P3": p3_incremental.measure,
        "P4": p4_run.measure, "P5": p5_cutover.measure, "P6": p6_fleet.measure,
        "P7": p7_memory.measure, "RTO": rto.measure, "BW": bw_limit.measure,
        "BWF": bw_limit.measure_fleet, "MAIL": mail_source.measure}
    wanted = {"P3" if k == "P3b" else k for k in args.only or ()}
    chosen = [k for k in benchmarks if not wanted or k in wanted]
    started = harness.revision()  # the code measured is the code at the start
    rounds = {key: harness.rounds_for(key, args.rounds) for key in chosen}
    figures: list[harness.Figure] = []
    failed: dict[str, str] = {}  # a figure that crashes is reported, the others still run
    try:
        lab.down()
        lab.up(timeout=240)
        print(f"bench: seeding lab-source ({workload.SIZES[args.size].describe()}) ...",
              file=sys.stderr)
        workload.seed(lab, args.size)
        for key in chosen:
            print(f"bench: {key} ({rounds[key]} rounds) ...", file=sys.stderr)
            try:
                measured = benchmarks[key](lab, rounds[key])
            except Exception as crash:  # keep the figures measured so far
                traceback.print_exc()
                failed[key] = f"{type(crash).__name__}: {crash}"[:500]
                continue
            figures.extend(measured if isinstance(measured, list) else [measured])
    finally:
        lab.down()
    print(f"workload {workload.SIZES[args.size].describe()}; commit {started['commit']}"
          f"{' (tree not clean)' if started['dirty'] else ''}")
    print(harness.report(figures))
    for key, reason in failed.items():
        print(f"{key:<6} FAILED: {reason}")
    ended = harness.revision()
    extra = {**started, "workload": args.size, "rounds_asked": args.rounds,
             "rounds": rounds, "failed": failed,
             "commit_at_end": ended["commit"], "dirty_at_end": ended["dirty"]}
    print(f"\nresults: {harness.save(figures, extra)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
