"""Disk space on the target: checked before data is written, and named when it runs out."""

from __future__ import annotations

from collections.abc import Iterable

from evacuate.errors import EvacuateError
from evacuate.transport.base import Transport

MARGIN = 1.1  # 10% for directories, metadata and the file system's own needs


class NotEnoughSpace(EvacuateError):
    """The target cannot hold what must be restored."""


def free_bytes(df_output: str) -> int | None:
    """The available bytes from ``df -B1 --output=avail PATH`` (header line, then a number)."""
    for line in reversed(df_output.strip().splitlines()):
        if line.strip().isdigit():
            return int(line.strip())
    return None


def check_space(target: Transport, path: str, needed: int, what: str) -> None:
    """Raise NotEnoughSpace naming the target and the sizes when ``needed`` bytes (plus a
    margin) do not fit on the file system holding ``path``."""
    result = target.run(["df", "-B1", "--output=avail", path], timeout=60)
    free = free_bytes(result.text) if result.ok else None
    if free is not None and free < needed * MARGIN:
        raise NotEnoughSpace(
            f"{target.name}: not enough disk space for {what}: needs about "
            f"{needed * MARGIN / 2**20:.0f} MiB, {free / 2**20:.0f} MiB free on {path}",
            hint="free space (or grow the disk) and run 'evacuate run --resume'")


def explain_no_space(target: Transport, error: EvacuateError, needed: int,
                     paths: Iterable[str] = ("/",)) -> EvacuateError:
    """Turn a 'No space left on device' failure into NotEnoughSpace with the sizes."""
    text = f"{error} {getattr(error, 'stderr', '')}"
    if "No space left on device" not in text:
        return error
    free = []
    for path in paths:
        result = target.run(["df", "-B1", "--output=avail", path], timeout=60)
        amount = free_bytes(result.text) if result.ok else None
        if amount is not None:
            free.append(f"{amount / 2**20:.0f} MiB free on {path}")
    return NotEnoughSpace(f"{target.name}: ran out of disk space restoring files: needs about "
                          f"{needed * MARGIN / 2**20:.0f} MiB"
                          f"{'; ' + ', '.join(free) if free else ''}",
                          hint="free space (or grow the disk) and run 'evacuate run --resume'")
