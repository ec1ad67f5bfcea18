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
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# The slow figures run fewer rounds than asked: each round of P4 and RTO is a whole rebuild
# onto a reset target, P5 a cutover and revert, P6 a ten-host fleet; P7's peak RSS is not
# timing noise, so one snapshot of each size.
ROUND_CAPS = {"P4": 2, "RTO": 2, "P5": 3, "P6": 3, "P7": 1, "BW": 3, "BWF": 3}


def rounds_for(key: str, asked: int) -> int:
    """The rounds figure ``key`` runs when ``asked`` rounds are asked for: at least one, at
    most its cap in ROUND_CAPS."""
    return max(1, min(asked, ROUND_CAPS.get(key, asked)))


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
    goal_min: float | None = None  # the ratio must also be >= goal_min (a rate within a band)
    # the controller's CPU seconds of each run (its child processes' user + system time,
    # measured when ``alternate(cpu=True)``), divided by ``cpu_per`` (e.g. hosts per run)
    candidate_cpu: list[float] = field(default_factory=list)
    anchor_cpu: list[float] = field(default_factory=list)
    cpu_per: tuple[int, int] = (1, 1)
    cpu_unit: str = "run"
    # where the candidate's time went in its last round (bench/profile.py), when read
    profile: list[str] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        """The measured rounds (the warm-up not counted): the shorter side's count."""
        return min(len(self.candidate_times), len(self.anchor_times))

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
        above = self.goal_min is None or self.ratio >= self.goal_min
        return self.ratio <= self.goal and within and above


def spread(times: list[float]) -> tuple[float, float, float]:
    """(min, median, max) of ``times``; raise ValueError when there are none."""
    if not times:
        raise ValueError("no measured rounds")
    return min(times), statistics.median(times), max(times)


def concurrently(*actions: Callable[[], object]) -> None:
    """Run ``actions`` side by side (one thread each, as ``a & b & wait`` in a shell) and
    return when all have ended; raise the first one's exception if any failed."""
    errors: list[BaseException] = []

    def guarded(action: Callable[[], object]) -> None:
        try:
            action()
        except BaseException as error:  # handed to the caller below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(a,), daemon=True) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def children_cpu() -> float:
    """User + system CPU seconds of this process's ended (waited-for) children so far, and
    of theirs: the controller's processes a run started (evacuate, ssh, ansible)."""
    times = os.times()
    return times.children_user + times.children_system


def alternate(figure: Figure, candidate: Callable[[], object], anchor: Callable[[], object],
              rounds: int, warmup: bool = True,
              prepare_candidate: Callable[[], object] | None = None,
              prepare_anchor: Callable[[], object] | None = None, cpu: bool = False) -> Figure:
    """Run anchor and candidate alternately ``rounds`` times each (after one warm-up each).
    ``prepare_*`` run before each run of their side, outside the timed part. With ``cpu``,
    each run's controller CPU seconds (:func:`children_cpu`) are recorded too."""
    def prepared(action: Callable[[], object], prepare: Callable[[], object] | None,
                 ) -> tuple[float, float]:
        if prepare is not None:
            prepare()
        before = children_cpu()
        took = timed(action)
        return took, children_cpu() - before

    if warmup:
        prepared(anchor, prepare_anchor)
        prepared(candidate, prepare_candidate)
    for index in range(rounds):
        first, second = (candidate, anchor) if index % 2 == 0 else (anchor, candidate)
        for action in (first, second):
            took, used = prepared(action, prepare_candidate if action is candidate
                                  else prepare_anchor)
            times, cpus = ((figure.candidate_times, figure.candidate_cpu) if action is candidate
                           else (figure.anchor_times, figure.anchor_cpu))
            times.append(took)
            if cpu:
                cpus.append(used)
    return figure


def run(cmd: list[str], env: dict[str, str] | None = None, stdout: object = None,
        stdin: object = None, cwd: Path | None = None) -> bytes:
    """Run ``cmd`` (in ``cwd``); return its output (or send it to the open file ``stdout``)."""
    proc = subprocess.run(cmd, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=stdin, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout or b""


def _git(folder: Path, *args: str) -> str | None:
    """``git ARGS`` in ``folder``: its output, None when git cannot tell."""
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                              cwd=folder)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def revision(folder: Path = RESULTS.parent) -> dict[str, object]:
    """The commit of ``folder``'s checkout (``git rev-parse HEAD``) and whether its tree had
    changes not committed (``git status --porcelain`` not empty); None for what git cannot
    tell."""
    head, status = _git(folder, "rev-parse", "HEAD"), _git(folder, "status", "--porcelain")
    return {"commit": head.strip() if head else None,
            "dirty": None if status is None else bool(status.strip())}


def machine() -> dict[str, object]:
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), **revision(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(), "machine": platform.machine()}


def describe_spread(times: list[float], unit: str) -> str:
    """``min/median/max`` of ``times`` in ``unit``, e.g. ``1.20/1.31/1.50 s``."""
    low, middle, high = spread(times)
    return f"{low:.2f}/{middle:.2f}/{high:.2f} {unit}"


def report(figures: list[Figure]) -> str:
    """The table of ``figures``: medians, ratio and goal, then each side's round count and
    min/median/max, the anchor and the note."""
    lines = [f"{'figure':<6} {'what':<48} {'evacuate':>10} {'anchor':>10} {'ratio':>7} "
             f"{'goal':>7}  met", "-" * 100]
    for f in figures:
        lines.append(f"{f.key:<6} {f.title[:48]:<48} {f.candidate_median:>9.2f}{f.unit} "
                     f"{f.anchor_median:>9.2f}{f.unit} {f.ratio:>6.2f}x {f.goal:>6.2f}x  "
                     f"{'yes' if f.met else 'NO'}")
        lines.append(f"{'':<6} {f.rounds} round{'s' if f.rounds != 1 else ''}, min/median/max: "
                     f"evacuate {describe_spread(f.candidate_times, f.unit)}, "
                     f"anchor {describe_spread(f.anchor_times, f.unit)}")
        if f.candidate_cpu and f.anchor_cpu:
            per_c, per_a = f.cpu_per
            lines.append(
                f"{'':<6} controller CPU per {f.cpu_unit}, min/median/max: evacuate "
                f"{describe_spread([t / per_c for t in f.candidate_cpu], 's')}, anchor "
                f"{describe_spread([t / per_a for t in f.anchor_cpu], 's')}")
        lines.append(f"{'':<6} vs {f.anchor}{' — ' + f.note if f.note else ''}")
        lines.extend(f"{'':<6} evacuate's last round, {line}" for line in f.profile)
    return "\n".join(lines)


def figure_record(f: Figure) -> dict[str, object]:
    """``f`` as saved in the results JSON: its fields, rounds, min/median/max of each side,
    ratio and whether it met its goal."""
    (c_min, c_median, c_max), (a_min, a_median, a_max) = (spread(f.candidate_times),
                                                          spread(f.anchor_times))
    return asdict(f) | {"rounds": f.rounds,
                        "candidate_min": c_min, "candidate_median": c_median,
                        "candidate_max": c_max, "anchor_min": a_min,
                        "anchor_median": a_median, "anchor_max": a_max,
                        "ratio": f.ratio, "met": f.met} | cpu_record(f)


def cpu_record(f: Figure) -> dict[str, object]:
    """The median controller CPU seconds per ``cpu_unit`` of each side, when measured."""
    if not (f.candidate_cpu and f.anchor_cpu):
        return {}
    per_c, per_a = f.cpu_per
    return {f"candidate_cpu_per_{f.cpu_unit}": statistics.median(f.candidate_cpu) / per_c,
            f"anchor_cpu_per_{f.cpu_unit}": statistics.median(f.anchor_cpu) / per_a}


def results_payload(figures: list[Figure], info: dict[str, object]) -> dict[str, object]:
    """The results JSON document: ``info`` (machine, commit, dirty, run options) and the
    figures."""
    return {"machine": info, "figures": [figure_record(f) for f in figures]}


def results_name(info: dict[str, object]) -> str:
    """``DATE-COMMIT7[-dirty].json`` for a results document's ``info``."""
    commit = str(info.get("commit") or "unknown")[:7]
    dirty = "-dirty" if info.get("dirty") else ""
    return f"{str(info['date'])[:19].replace(':', '')}-{commit}{dirty}.json"


def save(figures: list[Figure], extra: dict[str, object] | None = None,
         folder: Path = RESULTS) -> Path:
    """Write the results of ``figures`` (with ``extra`` run options) under ``folder``."""
    folder.mkdir(exist_ok=True)
    info = machine() | (extra or {})
    path = folder / results_name(info)
    path.write_text(json.dumps(results_payload(figures, info), indent=2) + "\n")
    return path
