"""Where a candidate's time went (issue 17 item 3): from the state one `evacuate run` leaves
(its journal's step seconds and ansible-runner's job events, under the run's config folder),
the steps in the order they ended and the Ansible tasks that took longest. Read after the
timed rounds, outside the timing."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

# the task-level results (a loop's is its whole loop; its items come as runner_item_*)
TASK_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}


def step_seconds(folder: Path) -> list[tuple[str, float]]:
    """The steps of the newest journal under ``folder`` with their seconds, in the order
    they ended (a step without seconds, not done, is left out)."""
    journals = sorted(folder.rglob("journal.json"), key=lambda p: p.stat().st_mtime)
    if not journals:
        return []
    steps = json.loads(journals[-1].read_text()).get("steps", {})
    done = [(name, entry) for name, entry in steps.items()
            if isinstance(entry, dict) and entry.get("seconds") is not None]
    done.sort(key=lambda item: item[1].get("finished") or 0.0)
    return [(name, float(entry["seconds"])) for name, entry in done]


def slowest_tasks(folder: Path, top: int = 6) -> list[tuple[str, float]]:
    """The ``top`` Ansible tasks by seconds (summed over hosts and over runs of the same
    role and task name), from every ansible-runner job under ``folder``."""
    seconds: dict[str, float] = defaultdict(float)
    for path in folder.rglob("job_events/*.json"):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        data = event.get("event_data") or {}
        if event.get("event") not in TASK_EVENTS or data.get("duration") is None:
            continue
        role = data.get("role")
        name = f"{role} : {data.get('task', '?')}" if role else str(data.get("task", "?"))
        seconds[name] += float(data["duration"])
    return sorted(seconds.items(), key=lambda item: (-item[1], item[0]))[:top]


def profile_lines(folder: Path, plan_seconds: float | None = None) -> list[str]:
    """One line for the steps (``plan`` first when timed), one for the slowest tasks."""
    steps = ([("plan", plan_seconds)] if plan_seconds is not None else []) + step_seconds(folder)
    lines = []
    if steps:
        lines.append("steps: " + ", ".join(f"{name} {took:.1f} s" for name, took in steps))
    tasks = slowest_tasks(folder)
    if tasks:
        lines.append("slowest Ansible tasks: " + "; ".join(f"{name} {took:.1f} s"
                                                          for name, took in tasks))
    return lines
