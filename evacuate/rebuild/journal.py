"""The run journal: which steps of a plan are done, so that an interrupted run resumes after
the last completed step. Written atomically after every step."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evacuate.state import read_json, write_json


@dataclass
class Journal:
    path: Path
    plan: str
    snapshot_id: str | None = None
    started: float = field(default_factory=time.time)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, plan: str, *, resume: bool) -> Journal:
        """The journal to continue (``resume`` and one exists for this plan) or a new one."""
        if resume and path.exists():
            data = read_json(path)
            if data.get("plan") == plan:
                return cls(path, plan, data.get("snapshot_id"), data.get("started", time.time()),
                           data.get("steps", {}))
        journal = cls(path, plan)
        journal.save()
        return journal

    def done(self, step: str) -> bool:
        return self.steps.get(step, {}).get("status") == "done"

    def mark(self, step: str, seconds: float, **detail: Any) -> None:
        self.steps[step] = {"status": "done", "finished": time.time(),
                            "seconds": round(seconds, 3), **detail}
        self.save()

    def save(self) -> None:
        write_json(self.path, {"plan": self.plan, "snapshot_id": self.snapshot_id,
                               "started": self.started, "steps": self.steps})
