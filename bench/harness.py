"""Side-by-side timing: alternate the candidate and its anchor, take medians, print ratios.

The machines are shared and noisy, so every figure is measured against its alternative in
the same run, alternating (A B A B ...), and the median of each side is compared.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One benchmark figure: candidate vs anchor, with the goal on their ratio."""

    key: str
    title: str
    candidate: str
    anchor: str
    goal: float  # the ratio candidate/anchor must be <= goal
    candidate_times: list[float] = field(default_factory=list)
    anchor_times: list[float] = field(default_factory=list)
    unit: str = "s"
    note: str = ""
    limit: float | None = None  # both medians must also be <= limit (in ``unit``)

    @property
    def candidate_median(self) -> float:
        return statistics.median(self.candidate_times)

    @property
    def anchor_median(self) -> float:
        return statistics.median(self.anchor_times)

    @property
    def ratio(self) -> float:
        return self.candidate_median / self.anchor_median

    @property
    def met(self) -> bool:
        within = self.limit is None or max(self.candidate_median, self.anchor_median) <= self.limit
        return self.ratio <= self.goal and within


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def alternate(figure: Figure, candidate: Callable[[], object], anchor: Callable[[], object],
              rounds: int, warmup: bool = True,
              prepare_candidate: Callable[[], object] | None = None,
              prepare_anchor: Callable[[], object] | None = None) -> Figure:
    """Run anchor and candidate alternately ``rounds`` times each (after one warm-up each).
    ``prepare_*`` run before each run of their side, outside the timed part."""
    def prepared(action: Callable[[], object], prepare: Callable[[], object] | None) -> float:
        if prepare is not None:
            prepare()
        return timed(action)

    if warmup:
        prepared(anchor, prepare_anchor)
        prepared(candidate, prepare_candidate)
    for index in range(rounds):
        first, second = (candidate, anchor) if index % 2 == 0 else (anchor, candidate)
        t1 = prepared(first, prepare_candidate if first is candidate else prepare_anchor)
        t2 = prepared(second, prepare_candidate if second is candidate else prepare_anchor)
        if first is candidate:
            figure.candidate_times.append(t1)
            figure.anchor_times.append(t2)
        else:
            figure.anchor_times.append(t1)
            figure.candidate_times.append(t2)
    return figure


def run(cmd: list[str], env: dict[str, str] | None = None, stdout: object = None,
        stdin: object = None) -> bytes:
    """Run ``cmd``; return its output (or send it to the open file ``stdout``)."""
    proc = subprocess.run(cmd, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=stdin, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout or b""


def machine() -> dict[str, object]:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         check=False).stdout.strip()
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "git": rev,
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(), "machine": platform.machine()}


def report(figures: list[Figure]) -> str:
    lines = [f"{'figure':<6} {'what':<48} {'evacuate':>10} {'anchor':>10} {'ratio':>7} "
             f"{'goal':>7}  met", "-" * 100]
    for f in figures:
        lines.append(f"{f.key:<6} {f.title[:48]:<48} {f.candidate_median:>9.2f}{f.unit} "
                     f"{f.anchor_median:>9.2f}{f.unit} {f.ratio:>6.2f}x {f.goal:>6.2f}x  "
                     f"{'yes' if f.met else 'NO'}")
        lines.append(f"{'':<6} vs {f.anchor}{' — ' + f.note if f.note else ''}")
    return "\n".join(lines)


def save(figures: list[Figure], extra: dict[str, object] | None = None) -> Path:
    RESULTS.mkdir(exist_ok=True)
    info = machine() | (extra or {})
    path = RESULTS / f"{str(info['date'])[:19].replace(':', '')}-{info['git']}.json"
    payload = {"machine": info, "figures": [
        asdict(f) | {"candidate_median": f.candidate_median, "anchor_median": f.anchor_median,
                     "ratio": f.ratio, "met": f.met} for f in figures]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
