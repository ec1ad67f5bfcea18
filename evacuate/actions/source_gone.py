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


def age_text(created: str, now: float | None = None) -> str:
    """``created`` (ISO 8601 UTC, as in a manifest) as an age: '40 s', '12 min', '3 h', '2 d'."""
    try:
        then = calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return "of unknown age"
    seconds = max(0, int((time.time() if now is None else now) - then))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} old"
    return f"{seconds} s old"


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
