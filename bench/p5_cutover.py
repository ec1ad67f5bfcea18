"""P5: cutover downtime with a 1% delta: after a completed `evacuate run`, change 1% of the
files under /srv/bench and add rows, then `evacuate run --cutover`; the downtime it reports
(first stop on the source → verified target) is the figure. Its anchor is the goal, 10 s."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.harness import Figure, run
from bench.p4_run import EVACUATE, write_config
from bench.workload import SRV, remote, touch_one_percent
from evacuate.lab.lab import Lab

DOWNTIME = re.compile(r"downtime\s+([0-9.]+) s")
PHASES = re.compile(r"downtime [0-9.]+ s \(([^)]*)\)")
READ = re.compile(r"final snapshot \S+: ([0-9]+) KiB read")
REPORT = re.compile(r"report (/\S+\.json)")


def downtime_phases(output: str) -> dict[str, float]:
    """Where a cutover's downtime went, as its output says: phase → seconds."""
    found = PHASES.search(" ".join(output.split()))
    if found is None:
        return {}
    phases = {}
    for part in found.group(1).split(", "):
        name, _, seconds = part.rpartition(" ")[0].rpartition(" ")
        phases[name] = float(seconds)
    return phases


def read_kib(output: str) -> int | None:
    """The KiB the final snapshot read from the source (files and dumps taken anew)."""
    found = READ.search(" ".join(output.split()))
    return int(found.group(1)) if found else None


def verify_parts(output: str) -> dict[str, float]:
    """Where the cutover's verify went (its report's own timings: its parts run side by
    side, so they overlap), from the report the output names; {} without one."""
    found = REPORT.search(" ".join(output.split()))
    if found is None:
        return {}
    try:
        timings = json.loads(Path(found.group(1)).read_text()).get("timings", {})
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in timings.items() if isinstance(v, int | float)}


def _medians(rounds: list[dict[str, float]]) -> list[str]:
    names = list(dict.fromkeys(name for r in rounds for name in r))
    return [f"{name} {statistics.median(r.get(name, 0.0) for r in rounds):.1f} s"
            for name in names]


def phase_note(rounds: list[dict[str, float]], read: list[int],
               verify: list[dict[str, float]] | None = None) -> str:
    """The median of each phase over the rounds, the data the final snapshots read, and
    the median of each part of the verify (they run side by side)."""
    medians = _medians(rounds)
    moved = f"; the final snapshot read {statistics.median(read):.0f} KiB" if read else ""
    parts = _medians([v for v in verify or [] if v])
    inside = f"; verify's parts, side by side: {', '.join(parts)}" if parts else ""
    return f"downtime by phase (medians): {', '.join(medians)}{moved}{inside}" if medians else ""


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
    phases: list[dict[str, float]] = []
    verified: list[dict[str, float]] = []
    read: list[int] = []
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
        phases.append(downtime_phases(output))
        verified.append(verify_parts(output))
        kib = read_kib(output)
        read.extend([kib] if kib is not None else [])
        run([EVACUATE, "revert", "-c", str(config)])
    shutil.rmtree(work, ignore_errors=True)
    if note := phase_note([p for p in phases if p], read, verified):
        figure.note = f"{figure.note}; {note}"
    return figure
