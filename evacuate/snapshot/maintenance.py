"""Keeping a store healthy: check snapshots and blobs, forget old snapshots, prune blobs
no snapshot references."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from evacuate.errors import StoreError
from evacuate.snapshot.repository import SnapshotRef, SnapshotRepository


@dataclass
class CheckReport:
    snapshots: int = 0
    blobs: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(repo: SnapshotRepository, refs: list[SnapshotRef], *, read_data: bool = False,
                progress: Callable[[int], None] | None = None) -> CheckReport:
    """Verify each snapshot's manifest and that every blob it needs is present with the
    right size (and, with ``read_data``, decrypts and hashes to its SHA-256)."""
    report = CheckReport()
    checked: dict[str, str | None] = {}
    for ref in refs:
        try:
            manifest = repo.load(ref)
        except StoreError as error:
            report.problems.append(f"snapshot {ref.host}/{ref.id}: {error}")
            continue
        report.snapshots += 1
        for blob in manifest.blobs():
            if blob.sha256 not in checked:
                checked[blob.sha256] = repo.blobs.check(blob, read_data=read_data)
                if progress:
                    progress(blob.size)
            problem = checked[blob.sha256]
            if problem:
                report.problems.append(f"snapshot {ref.host}/{ref.id}: {problem}")
    report.blobs = len(checked)
    return report


def select_forgotten(refs: list[SnapshotRef], keep_last: int | None, keep_daily: int | None
                     ) -> list[SnapshotRef]:
    """Per host: keep the newest ``keep_last`` and the newest of each of the last
    ``keep_daily`` days that have snapshots; return the rest (oldest first)."""
    forgotten = []
    for host in sorted({r.host for r in refs}):
        mine = sorted((r for r in refs if r.host == host), key=lambda r: r.id, reverse=True)
        keep = set(r.id for r in mine[: keep_last or 0])
        days: list[str] = []
        for ref in mine:
            day = ref.id[:8]
            if keep_daily and day not in days and len(days) < keep_daily:
                days.append(day)
                keep.add(ref.id)
        if not keep and mine:
            keep.add(mine[0].id)  # never forget a host's last snapshot
        forgotten += [r for r in reversed(mine) if r.id not in keep]
    return forgotten


@dataclass
class PruneReport:
    forgotten: list[SnapshotRef] = field(default_factory=list)
    removed_blobs: int = 0
    removed_leftovers: int = 0  # temporary files and uploads of interrupted writes


def forget_and_prune(repo: SnapshotRepository, forget: list[SnapshotRef], *,
                     dry_run: bool = False) -> PruneReport:
    """Remove the ``forget`` snapshots, then every blob that no remaining snapshot needs.
    A blob newer than an hour is kept: it may belong to a snapshot still being taken; so
    are the temporary files and unfinished uploads of interrupted writes (older ones go)."""
    report = PruneReport(forgotten=list(forget))
    if not dry_run:
        for ref in forget:
            repo.delete(ref)
    remaining = [r for r in repo.refs() if r not in set(forget)]
    needed = {repo.blobs.key_for(b.sha256) for ref in remaining for b in repo.load(ref).blobs()}
    horizon = datetime.now(UTC).timestamp() - 3600
    if not dry_run:
        report.removed_leftovers = repo.blobs.store.remove_leftovers(horizon)
    for key in list(repo.blobs.list_keys()):
        if key in needed:
            continue
        info = repo.blobs.store.stat(key)
        if info is not None and info.mtime is not None and info.mtime > horizon:
            continue
        report.removed_blobs += 1
        if not dry_run:
            repo.blobs.store.delete(key)
    return report
