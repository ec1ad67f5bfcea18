"""Cutover: the only operation that touches the source, and only to stop and start services.

Stop the source's writers (every started unit except the database servers, which must stay
up for the final dumps, and sshd), take a final incremental snapshot, restore the files that
changed and replace the databases on the target, restart the target's services, verify, and
report the downtime: from the first stop on the source to the verified target. ``revert``
starts the source's services again (when the target fails, or to go back)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from evacuate.plan.model import RebuildPlan
from evacuate.plan.selection import plan_selector
from evacuate.rebuild.databases import restore_databases
from evacuate.snapshot.manifest import FileEntry, SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import restore_tree
from evacuate.transport.base import Transport

DATABASE_UNITS = ("postgresql", "mariadb", "mysql", "mongod", "redis")
NEVER_STOPPED = ("ssh.service", "sshd.service", "systemd-", "dbus")


@dataclass
class CutoverResult:
    stopped: list[str]
    final_snapshot: str
    changed_files: int
    removed_files: int
    downtime_seconds: float
    verified: bool
    detail: str


def writers(plan: RebuildPlan) -> list[str]:
    """The source units to stop: what was started, minus sshd and the database servers."""
    return [u for u in plan.services_started
            if not u.startswith(NEVER_STOPPED) and not u.startswith(DATABASE_UNITS)]


def _key(entry: FileEntry) -> tuple[object, ...]:
    return (entry.kind, entry.blob.sha256 if entry.blob else None, entry.mode, entry.user,
            entry.group, entry.link_target, entry.hardlink_to, entry.mtime)


def changed_entries(before: SnapshotManifest, after: SnapshotManifest,
                    select: Callable[[FileEntry], bool]) -> tuple[set[str], list[str]]:
    """Paths new or different in ``after``, and paths gone since ``before`` (selected only)."""
    old = {e.path: _key(e) for e in before.files if select(e)}
    new = {e.path: _key(e) for e in after.files if select(e)}
    changed = {p for p, k in new.items() if old.get(p) != k}
    removed = sorted(p for p in old if p not in new)
    return changed, removed


def cutover(plan: RebuildPlan, repo: SnapshotRepository, source: Transport, target: Transport,
            previous: SnapshotManifest, take_final: Callable[[], SnapshotManifest],
            verify: Callable[[SnapshotManifest, Transport], tuple[bool, str, object]],
            say: Callable[[str], None]) -> CutoverResult:
    units = writers(plan)
    began = time.monotonic()
    say(f"stopping on the source: {', '.join(units) or 'nothing'}")
    if units:
        source.run(["systemctl", "stop", *units], timeout=300, check=True)
    final = take_final()
    say(f"final snapshot {final.id}: {final.totals.transferred_bytes >> 10} KiB read")
    select = plan_selector(plan)
    changed, removed = changed_entries(previous, final, select)
    restore_tree(final, repo.blobs, target, "/", select=lambda e: e.path in changed)
    if removed:
        target.run(["rm", "-rf", "--", *removed], timeout=300, check=True)
    owners = {d.name: d.owner for d in plan.databases if d.owner}
    restore_databases(target, repo.blobs, final, owners, replace=True)
    running = [u for u in plan.services_started if not u.startswith(NEVER_STOPPED)]
    target.run(["sh", "-c", 'systemctl daemon-reload; systemctl restart "$@"', "restart",
                *running], timeout=600, check=True)
    # the final snapshot saw the writers stopped: expect the services as they ran before
    ok, detail, _report = verify(replace(final, inventory=previous.inventory), target)
    downtime = time.monotonic() - began
    return CutoverResult(units, final.id, len(changed), len(removed), downtime, ok, detail)


def revert(plan: RebuildPlan, source: Transport) -> list[str]:
    """Start the source's stopped writers again."""
    units = writers(plan)
    if units:
        source.run(["systemctl", "start", *units], timeout=300, check=True)
    return units
