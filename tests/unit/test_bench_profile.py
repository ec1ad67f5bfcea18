"""bench/profile.py: where a candidate's time went, read from the state one `evacuate run`
leaves (its journal, ansible-runner's job events), and shown under its figure."""

from __future__ import annotations

import json
from pathlib import Path

from bench import harness
from bench.profile import profile_lines, slowest_tasks, step_seconds


def _event(folder: Path, number: int, event: str, task: str, duration: float | None,
           role: str | None = "users") -> None:
    data: dict[str, object] = {"task": task, "host": "target"}
    if role:
        data["role"] = role
    if duration is not None:
        data["duration"] = duration
    path = folder / "job_events" / f"{number}-uuid.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"event": event, "event_data": data}))


def _run_state(root: Path) -> Path:
    """A run's folder as `evacuate run` leaves it: the plan's journal and two runner jobs."""
    plan = root / "state" / "plans" / "source-to-target"
    plan.mkdir(parents=True)
    (plan / "journal.json").write_text(json.dumps({"plan": "source-to-target", "steps": {
        "activate": {"status": "done", "finished": 130.0, "seconds": 12.5},
        "prepare": {"status": "done", "finished": 100.0, "seconds": 40.25},
        "files": {"status": "done", "finished": 110.0, "seconds": 1.5, "detail": "5281 files"},
        "databases": {"status": "running", "restoring": None},
    }}))
    prepare = plan / "runner" / "artifacts" / "prepare-1"
    _event(prepare, 1, "playbook_on_task_start", "Install the packages", None, "packages")
    _event(prepare, 2, "runner_on_ok", "Install the packages", 30.0, "packages")
    _event(prepare, 3, "runner_item_on_ok", "Install the packages", 29.0, "packages")
    _event(prepare, 4, "runner_on_ok", "Create and amend the accounts", 0.75)
    _event(prepare, 5, "runner_on_ok", "Create and amend the accounts", 0.5)  # second stage
    _event(prepare, 6, "runner_on_skipped", "Ensure sudo", 0.01)
    _event(prepare, 7, "runner_on_ok", "Gather", 2.0, role=None)
    activate = plan / "runner" / "artifacts" / "activate-1"
    _event(activate, 1, "runner_on_failed", "Start the units", 9.0, "services")
    (activate / "job_events" / "8-broken.json").write_text("{not json")
    return root


def test_the_steps_come_in_the_order_they_ended_with_their_seconds(tmp_path: Path) -> None:
    assert step_seconds(_run_state(tmp_path)) == [
        ("prepare", 40.25), ("files", 1.5), ("activate", 12.5)]
    assert step_seconds(tmp_path / "nothing") == []


def test_the_slowest_tasks_are_summed_per_role_and_name(tmp_path: Path) -> None:
    tasks = slowest_tasks(_run_state(tmp_path), top=4)
    # a loop's items and a task's start are not counted again; both stages' runs summed
    assert tasks == [("packages : Install the packages", 30.0), ("services : Start the units", 9.0),
                     ("Gather", 2.0), ("users : Create and amend the accounts", 1.25)]


def test_the_profile_is_printed_under_its_figure(tmp_path: Path) -> None:
    lines = profile_lines(_run_state(tmp_path), plan_seconds=6.04)
    assert lines[0] == "steps: plan 6.0 s, prepare 40.2 s, files 1.5 s, activate 12.5 s"
    assert lines[1].startswith("slowest Ansible tasks: packages : Install the packages 30.0 s; ")
    figure = harness.Figure("RTO", "a figure", "cand", "anch", goal=1.3,
                            candidate_times=[2.0], anchor_times=[1.0], profile=lines)
    text = harness.report([figure])
    assert "evacuate's last round, steps: plan 6.0 s, prepare 40.2 s" in text
    assert harness.figure_record(figure)["profile"] == lines
    assert profile_lines(tmp_path / "nothing") == []
