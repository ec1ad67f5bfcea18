"""Action: the lab of real test hosts (up, down, status)."""

from __future__ import annotations

from pathlib import Path

from evacuate.lab.lab import HostStatus, Lab, Progress, default_lab
from evacuate.state import StateDir


def make_lab(state_dir: Path | None, lab_id: str, index: int, suite: str,
             progress: Progress | None = None) -> Lab:
    return Lab(default_lab(lab_id=lab_id, index=index, suite=suite), StateDir.resolve(state_dir),
               progress)


def lab_up(lab: Lab, timeout: float) -> list[HostStatus]:
    return lab.up(timeout=timeout)


def lab_down(lab: Lab) -> list[str]:
    return lab.down()


def lab_status(lab: Lab) -> list[HostStatus]:
    return lab.status()
