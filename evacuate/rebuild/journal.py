"""The run journal: which steps of a plan are done, so that an interrupted run resumes after
the last completed step. Written atomically after every change, by this module only: the
run and the cutover say what happened (:meth:`Journal.mark`, :meth:`Journal.progress`,
:meth:`Journal.mark_cutover`), the journal writes it.

On disk (``journal.json``, stable since the first release)::

    {"plan": NAME, "snapshot_id": ID | null, "started": EPOCH,
     "steps": {STEP_ID: {"status": "done", "finished": EPOCH, "seconds": S, "detail": TEXT},
               "databases": {"status": "running", "restoring": "postgresql:shop" | null},
               "cutover": {"status": "done" | "failed", "snapshot": ID, "downtime": S,
                           "stopped": [UNIT, ...]},
               "snapshot" (or any step, or "after_run"): {"status": "failed",
                           "finished": EPOCH, "detail": ONE LINE, "output": TEXT}}}

A failed entry (a hook that failed, with its output) is not done: a resume runs it again
(a failed after_run that then ran becomes done).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from evacuate.state import read_json, write_json


class StepStatus(StrEnum):
    DONE = "done"
    RUNNING = "running"  # begun, not ended: the run was killed or failed inside it
    FAILED = "failed"  # a cutover that did not verify, a step a hook stopped


@dataclass(frozen=True)
class JournalEntry:
    """One step's record. ``restoring`` (running entries only): the database that was being
    loaded when the record was written (None: between two). The cutover's own fields:
    ``snapshot``, ``downtime``, ``stopped``."""

    status: StepStatus
    finished: float | None = None
    seconds: float | None = None
    detail: str | None = None
    restoring: str | None = None
    snapshot: str | None = None
    downtime: float | None = None
    stopped: tuple[str, ...] | None = None
    output: str | None = None  # a failed step's hook output

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": str(self.status)}
        if self.status is StepStatus.RUNNING:
            return data | {"restoring": self.restoring}
        for key in ("finished", "seconds", "detail", "snapshot", "downtime", "output"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.stopped is not None:
            data["stopped"] = list(self.stopped)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry | None:
        """The entry, or None for one this version cannot read (it is then not done)."""
        try:
            status = StepStatus(str(data.get("status")))
        except ValueError:
            return None
        stopped = data.get("stopped")
        return cls(status, data.get("finished"), data.get("seconds"), data.get("detail"),
                   data.get("restoring"), data.get("snapshot"), data.get("downtime"),
                   tuple(stopped) if isinstance(stopped, list) else None, data.get("output"))


@dataclass
class Journal:
    path: Path
    plan: str
    snapshot_id: str | None = None
    started: float = field(default_factory=time.time)
    steps: dict[str, JournalEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, plan: str) -> Journal | None:
        """The journal of ``plan`` at ``path``, if there is one; nothing is written."""
        if not path.exists():
            return None
        data = read_json(path)
        if data.get("plan") != plan:
            return None
        steps = {}
        for step, raw in (data.get("steps") or {}).items():
            entry = JournalEntry.from_json(raw) if isinstance(raw, dict) else None
            if entry is not None:
                steps[step] = entry
        return cls(path, plan, data.get("snapshot_id"), data.get("started", time.time()), steps)

    @classmethod
    def open(cls, path: Path, plan: str, *, resume: bool) -> Journal:
        """The journal to continue (``resume`` and one exists for this plan) or a new one."""
        journal = cls.read(path, plan) if resume else None
        if journal is None:
            journal = cls(path, plan)
            journal.save()
        return journal

    def entry(self, step: str) -> JournalEntry | None:
        return self.steps.get(step)

    def done(self, step: str) -> bool:
        entry = self.steps.get(step)
        return entry is not None and entry.status is StepStatus.DONE

    def failed_entry(self, step: str) -> bool:
        """``step`` was stopped (a hook failed) and has not been done since."""
        entry = self.steps.get(step)
        return entry is not None and entry.status is StepStatus.FAILED

    def restoring(self, step: str) -> str | None:
        """The database a killed run was loading in ``step`` (half restored), else None."""
        entry = self.steps.get(step)
        return entry.restoring if entry is not None and entry.status is StepStatus.RUNNING \
            else None

    def use_snapshot(self, snapshot_id: str) -> None:
        """The snapshot the run restores from; written with the next step's record."""
        self.snapshot_id = snapshot_id

    def mark(self, step: str, seconds: float, *, detail: str) -> None:
        """``step`` is done."""
        self.steps[step] = JournalEntry(StepStatus.DONE, time.time(), round(seconds, 3), detail)
        self.save()

    def failed(self, step: str, message: str, output: str) -> None:
        """``step`` was stopped (by a hook that failed): ``message`` and its ``output``."""
        self.steps[step] = JournalEntry(StepStatus.FAILED, time.time(), detail=message,
                                        output=output)
        self.save()

    def progress(self, step: str, restoring: str | None) -> None:
        """``step`` is under way; ``restoring``: the database being loaded now."""
        self.steps[step] = JournalEntry(StepStatus.RUNNING, restoring=restoring)
        self.save()

    def mark_cutover(self, *, verified: bool, snapshot: str, downtime: float,
                     stopped: list[str]) -> None:
        self.steps["cutover"] = JournalEntry(
            StepStatus.DONE if verified else StepStatus.FAILED, snapshot=snapshot,
            downtime=round(downtime, 2), stopped=tuple(stopped))
        self.snapshot_id = snapshot
        self.save()

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan, "snapshot_id": self.snapshot_id, "started": self.started,
                "steps": {step: entry.to_json() for step, entry in self.steps.items()}}

    def save(self) -> None:
        write_json(self.path, self.to_json())
