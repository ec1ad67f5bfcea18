"""Actions: snapshot a host, list snapshots, check the store, forget old snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from evacuate.config import Config
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.snapshot.engine import SnapshotProgress, SnapshotRequest, take_snapshot
from evacuate.snapshot.maintenance import (
    CheckReport,
    PruneReport,
    check_store,
    forget_and_prune,
    select_forgotten,
)
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRef, SnapshotRepository


def request_for(ref: HostRef, config: Config | None) -> SnapshotRequest:
    """The snapshot request for a host: its config includes/excludes plus the global
    snapshot excludes."""
    host = config.hosts.get(ref.label) if config is not None else None
    excludes = list(config.snapshot.exclude) if config is not None else []
    if host is not None:
        excludes += list(host.exclude)
        databases = host.databases.postgresql is not False or host.databases.mysql is not False
        return SnapshotRequest(ref.file_label, include=host.include, exclude=excludes,
                               databases=databases)
    return SnapshotRequest(ref.file_label, exclude=excludes)


def snapshot_host(ref: HostRef, options: ConnectOptions, repo: SnapshotRepository,
                  config: Config | None, progress: SnapshotProgress | None = None
                  ) -> SnapshotManifest:
    with connect(ref, options) as transport:
        return take_snapshot(transport, repo, request_for(ref, config), progress)


@dataclass(frozen=True)
class SnapshotListing:
    ref: SnapshotRef
    manifest: SnapshotManifest


def list_snapshots(repo: SnapshotRepository, host: str | None) -> list[SnapshotListing]:
    return [SnapshotListing(ref, repo.load(ref)) for ref in repo.refs(host)]


def check(repo: SnapshotRepository, host: str | None, snapshot: str | None,
          read_data: bool) -> CheckReport:
    refs = [repo.find(host, snapshot)] if snapshot else repo.refs(host)
    return check_store(repo, refs, read_data=read_data)


def forget(repo: SnapshotRepository, host: str | None, keep_last: int | None,
           keep_daily: int | None, dry_run: bool) -> PruneReport:
    chosen = select_forgotten(repo.refs(host), keep_last, keep_daily)
    return forget_and_prune(repo, chosen, dry_run=dry_run)
