"""Changing record sets all or nothing, journaled, and waiting until every authoritative
server answers the change.

A change is applied through the zone's editor and written to the journal at once (so a
revert, even after a crash, knows exactly what was changed and what it held before). When
a change fails, or a server does not answer the new values in time, every change applied
in the same call is put back, newest first, and the error is raised.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from evacuate.dns.model import DnsPlan, RecordSet, Zone
from evacuate.dns.planning import Lookup
from evacuate.errors import EvacuateError
from evacuate.state import read_json, write_json


class Editor(Protocol):
    def record_set(self, name: str, rtype: str) -> RecordSet | None: ...

    def replace(self, name: str, rtype: str, values: tuple[str, ...], ttl: int) -> None: ...


class ZoneProvider(Editor, Protocol):
    """A provider's editor of one zone (dns-lexicon's, rfc2136's): ``check`` logs in and
    reads the zone, before anything changes."""

    def check(self) -> None: ...


class ProviderError(EvacuateError):
    """The provider refused or failed a request (credentials, a zone it does not let us
    edit, a server that does not answer)."""


EditorFor = Callable[[str], Editor]  # zone name → its editor


class NotPropagated(EvacuateError):
    """A server did not answer the new values before the deadline."""


@dataclass(frozen=True)
class Change:
    """One record set's change: ``op`` is lower-ttl, switch or revert."""

    op: str
    zone: str
    before: RecordSet
    after: RecordSet

    def describe(self) -> str:
        b, a = self.before, self.after
        return (f"{b.name} {b.rtype}: {' '.join(b.values)} TTL {b.ttl} → "
                f"{' '.join(a.values)} TTL {a.ttl}")


@dataclass(frozen=True)
class Seen:
    """When ``server`` first answered ``name``/``rtype`` with the new values (seconds
    after the changes were made)."""

    server: str
    name: str
    rtype: str
    seconds: float


def _family(address: str) -> int:
    return ipaddress.ip_address(address).version


def switch_changes(plan: DnsPlan, editor_for: EditorFor, *, back: bool = False) -> list[Change]:
    """The changes that make the plan's records hold the target's addresses instead of the
    source's (``back``: the source's instead of the target's), from what the provider
    holds now; record sets already switched are left out."""
    old, new = ((plan.target_addresses, plan.source_addresses) if back
                else (plan.source_addresses, plan.target_addresses))
    changes = []
    for record in plan.records:
        current = editor_for(record.zone).record_set(record.name, record.rtype)
        if current is None or not set(old).intersection(current.values):
            continue
        family = 4 if record.rtype == "A" else 6
        fresh = [a for a in new if _family(a) == family]
        if not fresh:
            continue
        values = tuple(sorted({*(v for v in current.values if v not in old), *fresh}))
        changes.append(Change("switch", record.zone, current, replace(current, values=values)))
    return changes


def lower_ttl_changes(plan: DnsPlan, editor_for: EditorFor, ttl: int) -> list[Change]:
    """The changes that give the plan's record sets ``ttl`` where theirs is longer."""
    changes = []
    for record in plan.records:
        current = editor_for(record.zone).record_set(record.name, record.rtype)
        if current is not None and current.ttl > ttl:
            changes.append(Change("lower-ttl", record.zone, current, replace(current, ttl=ttl)))
    return changes


class Journal:
    """What evacuate changed in DNS, oldest first (JSON, in the state directory)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        return list(read_json(self.path).get("changes", [])) if self.path.exists() else []

    def _write(self, entries: list[dict[str, Any]]) -> None:
        write_json(self.path, {"changes": entries})

    def add(self, change: Change) -> int:
        entries = self.entries()
        entries.append({**asdict(change), "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "reverted": False})
        self._write(entries)
        return len(entries) - 1

    def mark_reverted(self, index: int) -> None:
        entries = self.entries()
        entries[index]["reverted"] = True
        self._write(entries)

    def open_changes(self) -> list[tuple[int, Change]]:
        """The changes not reverted yet, newest first."""
        found = []
        for index, entry in enumerate(self.entries()):
            if not entry["reverted"]:
                found.append((index, Change(entry["op"], entry["zone"], _set(entry["before"]),
                                            _set(entry["after"]))))
        return found[::-1]


def _set(data: dict[str, Any]) -> RecordSet:
    return RecordSet(data["name"], data["rtype"], int(data["ttl"]), tuple(data["values"]))


def apply_all(changes: Sequence[Change], editor_for: EditorFor, journal: Journal,
              confirm: Callable[[Sequence[Change]], None] | None = None) -> None:
    """Apply ``changes`` in order, each journaled as it is made; then ``confirm`` (e.g.
    wait until the servers answer them). When a change or ``confirm`` fails, put back
    every change made here, newest first, and raise the error (its hint says so)."""
    made: list[tuple[int, Change]] = []
    try:
        for change in changes:
            a = change.after
            editor_for(change.zone).replace(a.name, a.rtype, a.values, a.ttl)
            made.append((journal.add(change), change))
        if confirm is not None:
            confirm(changes)
    except EvacuateError as error:
        undo_failed = put_back(made[::-1], editor_for, journal)
        error.hint = (f"{len(made)} change(s) made were put back" if not undo_failed else
                      f"could not put back: {'; '.join(undo_failed)} (see {journal.path})")
        raise


def put_back(changes: Iterable[tuple[int, Change]], editor_for: EditorFor,
             journal: Journal) -> list[str]:
    """Put each change's ``before`` back (in the given order); return what failed."""
    failed = []
    for index, change in changes:
        b = change.before
        try:
            editor_for(change.zone).replace(b.name, b.rtype, b.values, b.ttl)
        except EvacuateError as error:
            failed.append(f"{b.name} {b.rtype}: {error}")
            continue
        journal.mark_reverted(index)
    return failed


def wait_until_answered(changes: Sequence[Change], zones: dict[str, Zone], lookup: Lookup,
                        timeout: float, *, poll: float = 1.0,
                        clock: Callable[[], float] = time.monotonic,
                        sleep: Callable[[float], None] = time.sleep) -> list[Seen]:
    """Ask every server of each change's zone until each answers the new values and TTL;
    NotPropagated naming what still answers the old when ``timeout`` passes."""
    start = clock()
    pending = {(server, c.after.name, c.after.rtype): c.after
               for c in changes for server in zones[c.zone].servers}
    seen: list[Seen] = []
    while True:
        for key, expected in list(pending.items()):
            server, name, rtype = key
            rrset = lookup.ask(server, name, rtype).rrset(name, rtype)
            if rrset is not None and rrset.values == expected.values and \
                    rrset.ttl == expected.ttl:
                seen.append(Seen(server, name, rtype, round(clock() - start, 2)))
                del pending[key]
        if not pending:
            return seen
        if clock() - start >= timeout:
            late = ", ".join(f"{n} {t} at {s}" for s, n, t in sorted(pending))
            raise NotPropagated(f"not answered within {timeout:g} s: {late}")
        sleep(poll)
