"""P5: cutover downtime with a 1% delta: after a completed `evacuate run`, change 1% of the
files under /srv/bench and add rows, then `evacuate run --cutover`; the downtime it reports
(first stop on the source → verified target) is the figure. Its anchor is the goal, 10 s."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from bench.harness import Figure, run
from bench.p4_run import EVACUATE, write_config
from bench.workload import SRV, remote, touch_one_percent
from evacuate.lab.lab import Lab

DOWNTIME = re.compile(r"downtime\s+([0-9.]+) s")


def measure(lab: Lab, rounds: int) -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p5-"))
    figure = Figure("P5", "cutover downtime, 1% of /srv files changed",
                    "evacuate run --cutover (stop writers → final delta → verified target)",
                    "the goal", goal=1.0, unit="s",
                    note="ratio = downtime / 10 s; the source's services are started again "
                         "after each round (evacuate revert)")
    lab.reset("lab-target")
    config = write_config(lab, work / "cutover")
    run([EVACUATE, "plan", "source", "--to", "target", "-c", str(config)])
    run([EVACUATE, "run", "-c", str(config)])
    for index in range(rounds):
        touch_one_percent(SRV, index + 1, lab)
        remote(lab, "runuser -u postgres -- psql -XAq -d benchpg -c \"insert into events "
                    f"select id + {100_000_000 * (index + 1)}, now(), kind, payload from events "
                    "where id <= 100\"")
        output = run([EVACUATE, "run", "--cutover", "-c", str(config)]).decode()
        found = DOWNTIME.search(output.replace("\n", " "))
        if found is None:
            raise RuntimeError(f"no downtime in the cutover output: {output[-500:]}")
        figure.candidate_times.append(float(found.group(1)))
        figure.anchor_times.append(10.0)
        run([EVACUATE, "revert", "-c", str(config)])
    shutil.rmtree(work, ignore_errors=True)
    return figure
