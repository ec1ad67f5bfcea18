"""RTO: how long from "the server is gone" to "it answers again on the new host", restoring
from a snapshot in an S3 store (a local SeaweedFS): `evacuate plan --snapshot latest` +
`evacuate run --snapshot latest` onto a freshly reset lab-target. The anchor is the goal
itself, 600 s (the figure's anchor times are that constant)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, run
from bench.p4_run import write_config
from evacuate.lab.lab import Lab

EVACUATE = str(Path(sys.executable).parent / "evacuate")
GOAL_SECONDS = 600.0


def measure(lab: Lab, rounds: int) -> Figure:
    from tests.integration.store.seaweed import SeaweedFS  # the test helper, from the repo

    work = Path(tempfile.mkdtemp(prefix="bench-rto-"))
    key = work / "store.key"
    key.write_bytes(secrets.token_bytes(32))
    key.chmod(0o600)
    server = SeaweedFS(work / "seaweedfs").start()
    try:
        env = dict(os.environ, **server.env())
        store = (f"store:\n  url: s3://bench/evb\n  endpoint_url: {server.endpoint}\n"
                 f"  key_file: {key}\n")
        config = write_config(lab, work / "rto", store)
        run([EVACUATE, "snapshot", "source", "-c", str(config)], env)  # before the disaster
        runs = iter(range(1_000_000))

        def restore() -> None:
            fresh = write_config(lab, work / f"restore-{next(runs)}", store)
            run([EVACUATE, "plan", "source", "--to", "target", "--snapshot", "latest",
                 "-c", str(fresh)], env)
            run([EVACUATE, "run", "--snapshot", "latest", "-c", str(fresh)], env)

        figure = Figure("RTO", "rebuild from the S3 store onto a blank host",
                        "evacuate plan + run --snapshot latest (SeaweedFS S3)",
                        "goal", goal=1.0,
                        note=f"anchor = the goal, {GOAL_SECONDS:.0f} s; lab-target reset "
                             "before each run (untimed); the source stays up (plan and run "
                             "read the snapshot, not the source)")
        alternate(figure, restore, lambda: None, rounds, warmup=False,
                  prepare_candidate=lambda: lab.reset("lab-target"))
        figure.anchor_times = [GOAL_SECONDS] * len(figure.candidate_times)
        return figure
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

