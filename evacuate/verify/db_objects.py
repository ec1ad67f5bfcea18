"""Databases beyond their row counts: what each engine's ``objects_command`` listed at dump
time (owners, grants, views, routines, triggers, events, sequences' values, extensions, a
content fingerprint per table) is read again on the target and compared. One check per
kind of object and database; the fingerprints join the tables' row-count checks.

Across a release change the values of an engine's ``release_bound_objects`` kinds may be
written otherwise by the new version (a view's definition as the server prints it): such a
difference is not verified (named, never passed); a missing object fails all the same."""

from __future__ import annotations

from collections import defaultdict

from evacuate.engines import engine_for
from evacuate.engines.base import database_label
from evacuate.snapshot.manifest import OBJECTS_UNREAD, DumpEntry
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, failed, judged, skipped

CONTENT = "content "
"""The key prefix of a table's content fingerprint (``content <table>``)."""


def kind_of(key: str) -> str:
    return key.split(" ", 1)[0]


def _plural(kind: str, count: int) -> str:
    return f"{count} {kind}" if kind in ("owner", "grants") else \
        f"{count} {kind}{'s' if count != 1 else ''}"


def _shown(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def compare_objects(dump: DumpEntry, found: dict[str, str], error: str = "",
                    crossing: Crossing | None = None) -> list[Check]:
    """The checks of ``dump``'s objects (but the content fingerprints) against ``found`` on
    the target (``error``: why they could not be read there)."""
    engine = engine_for(dump.engine)
    area = engine.verify_area if engine is not None else "databases"
    bound = engine.release_bound_objects if engine is not None else frozenset()
    name = f"{database_label(dump.engine, dump.database)}: objects"
    if not dump.objects:
        return []
    if OBJECTS_UNREAD in dump.objects:
        return [skipped(area, name, "not verified: the source could not list them at snapshot "
                        f"time: {dump.objects[OBJECTS_UNREAD]}")]
    if error:
        return [failed(area, name, f"{len(dump.objects)} objects", "unreadable",
                       f"listing the objects failed: {error[:200]}")]
    kinds: dict[str, list[str]] = defaultdict(list)
    for key in dump.objects:
        if not key.startswith(CONTENT):
            kinds[kind_of(key)].append(key)
    checks = []
    for kind, keys in sorted(kinds.items()):
        missing = sorted(k for k in keys if k not in found)
        differ = sorted(k for k in keys if k in found and found[k] != dump.objects[k])
        title = f"{database_label(dump.engine, dump.database)}: {kind}"
        expected = _plural(kind, len(keys))
        have = _plural(kind, len(keys) - len(missing))
        if kind == "owner":  # the name itself
            expected, have = dump.objects["owner"], found.get("owner", "none")
        if differ and not missing and crossing is not None and kind in bound:
            checks.append(skipped(area, title, f"not verified: {_shown(differ)} written "
                                  f"otherwise by the new version ({crossing.label})"))
            continue
        problems = ([f"missing: {_shown(missing)}"] if missing else []) + \
            ([f"differs: {_shown([_difference(k, dump.objects[k], found[k]) for k in differ])}"]
             if differ else [])
        checks.append(judged(not problems, area, title, expected, have, "; ".join(problems)))
    return checks


def _difference(key: str, want: str, have: str) -> str:
    """A difference, with the values where they are names (owners, grants), not hashes."""
    if kind_of(key) in ("owner", "grants", "relation", "schema", "sequence", "extension"):
        return f"{key} ({want or 'none'} → {have or 'none'})"
    return key


def content_problem(dump: DumpEntry, table: str, found: dict[str, str],
                    crossing: Crossing | None = None) -> tuple[str, bool] | None:
    """What is wrong with ``table``'s content on the target, and whether that is only not
    verified (across releases, for an engine whose fingerprint depends on the version);
    None when it is the same or the dump has no fingerprint of it."""
    want = dump.objects.get(CONTENT + table)
    if want is None:
        return None
    have = found.get(CONTENT + table)
    if have == want:
        return None
    engine = engine_for(dump.engine)
    bound = engine is not None and "content" in engine.release_bound_objects
    if have is None:
        return "content not fingerprinted on the target", False
    if crossing is not None and bound:
        return f"content fingerprint differs across {crossing.label}: not verified", True
    return "content differs", False
