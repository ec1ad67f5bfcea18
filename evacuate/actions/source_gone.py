"""What to say when the source cannot be reached (powered off, network gone) during
``plan`` or ``run``: the last snapshot, how old it is, and the command that rebuilds the
target from it without the source."""

from __future__ import annotations

import calendar
import shlex
import time

from evacuate.errors import ConnectionLost, EvacuateError, HostUnreachable
from evacuate.snapshot.repository import SnapshotRepository

GONE = (HostUnreachable, ConnectionLost)
"""The errors that mean the source is away (not a refused key or login)."""


def age_seconds(seconds: float, compact: bool = False) -> str:
    """An age in its largest whole unit: '12 min' ('12m' when ``compact``), '3 h', '40 s'."""
    seconds = max(0, int(seconds))
    for unit, short, size in (("d", "d", 86400), ("h", "h", 3600), ("min", "m", 60)):
        if seconds >= size:
            return f"{seconds // size}{short}" if compact else f"{seconds // size} {unit}"
    return f"{seconds}s" if compact else f"{seconds} s"


def age_text(created: str, now: float | None = None) -> str:
    """``created`` (ISO 8601 UTC, as in a manifest) as an age: '40 s old', '12 min old'."""
    try:
        then = calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return "of unknown age"
    return f"{age_seconds((time.time() if now is None else now) - then)} old"


def source_gone_hint(repo: SnapshotRepository, label: str, target: str,
                     also: str | None = None) -> str:
    """The hint for an unreachable source filed under ``label`` (``also``: another way)."""
    try:
        latest = repo.latest(label)
    except EvacuateError:
        latest = None
    if latest is None:
        return (f"the source is unreachable and the store has no snapshot of {label} to "
                "rebuild from; bring it back (or mount its disk: 'evacuate restore --from-root')")
    return (f"the source is unreachable; its last snapshot {latest.id} is "
            f"{age_text(latest.created)}: 'evacuate restore {shlex.quote(label)} --to "
            f"{shlex.quote(target)}' rebuilds the target from it without the source"
            + (f" ({also})" if also else ""))
