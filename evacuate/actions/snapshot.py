"""Actions: snapshot a host, list snapshots, check the store, forget old snapshots."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from evacuate.config import Config
from evacuate.hooks import HookContext, hook_runner
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.inventory.model import HostInventory
from evacuate.plan.model import RebuildPlan
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
from evacuate.transport.base import Transport


def request_for(ref: HostRef, config: Config | None) -> SnapshotRequest:
    """The snapshot request for a host: its config includes/excludes plus the global
    snapshot ones, and whether logs are carried."""
    host = config.hosts.get(ref.label) if config is not None else None
    excludes = list(config.snapshot.exclude) if config is not None else []
    includes = list(config.snapshot.include) if config is not None else []
    with_logs = config.snapshot.with_logs if config is not None else False
    if host is not None:
        excludes += list(host.exclude)
        databases = any(v is not False for v in vars(host.databases).values())
        return SnapshotRequest(ref.file_label, include=[*includes, *host.include],
                               exclude=excludes, databases=databases, with_logs=with_logs,
                               engines=dict(vars(host.databases)))
    return SnapshotRequest(ref.file_label, include=includes, exclude=excludes,
                           with_logs=with_logs)


def snapshot_request(ref: HostRef, plan: RebuildPlan, config: Config | None) -> SnapshotRequest:
    """:func:`request_for` ``ref``, filed under the plan's source label (a plan made from an
    SSH spec files its snapshots under the host's name)."""
    return replace(request_for(ref, config), host=plan.source)


def snapshot_host(ref: HostRef, options: ConnectOptions, repo: SnapshotRepository,
                  config: Config | None, progress: SnapshotProgress | None = None
                  ) -> SnapshotManifest:
    with connect(ref, options) as transport:
        return hooked_snapshot(transport, repo, request_for(ref, config), config,
                               HookContext(host=ref.label), progress)


def hooked_snapshot(transport: Transport, repo: SnapshotRepository, request: SnapshotRequest,
                    config: Config | None, context: HookContext,
                    progress: SnapshotProgress | None = None,
                    inventory: HostInventory | None = None) -> SnapshotManifest:
    """Take a snapshot with evacuate.yml's before_snapshot and after_snapshot hooks around
    it (a failing hook raises HookFailed: before, no snapshot is taken; after, the
    snapshot is committed but the step failed). ``inventory``, when given, is the host's
    inventory already taken (the cutover's, from just before its writers stopped)."""
    hooks = hook_runner(config, warn=progress.warning if progress is not None else _quiet)
    hooks.run("before_snapshot", context, transport)
    manifest = take_snapshot(transport, repo, request, progress,
                             inventory_of=None if inventory is None else lambda _t: inventory)
    hooks.run("after_snapshot", context.with_snapshot(manifest.id), transport)
    return manifest


def _quiet(_message: str) -> None:
    pass


def snapshot_rescued_disk(root: Path, label: str, repo: SnapshotRepository,
                          config: Config | None, progress: SnapshotProgress | None = None
                          ) -> SnapshotManifest:
    """Snapshot a rescued disk's root filesystem mounted at ``root``, filed under ``label``:
    its database servers are started on a copy-on-write overlay (the disk is never written)
    and dumped natively; where one cannot start, its data directory is copied as files."""
    from evacuate.inventory.disk import collect_disk_inventory
    from evacuate.snapshot.rescued import rescued_root
    from evacuate.transport.local import LocalTransport

    request = request_for_label(label, config)
    with rescued_root(root, databases=request.databases) as view:
        for message in view.warnings:
            if progress is not None:
                progress.warning(message)
        transport = LocalTransport(name=f"disk {root}", root=view.path)
        request = replace(request, warnings=(
            f"taken from a rescued disk ({root}); database servers started on a copy: "
            f"{', '.join(view.started) or 'none'}", *view.warnings))
        return take_snapshot(transport, repo, request, progress, inventory_of=lambda t:
                             collect_disk_inventory(t, view.path, host=label))


def disk_label(root: Path) -> str:
    """The label a rescued disk's snapshots are filed under by default: its hostname."""
    hostname = root / "etc" / "hostname"
    name = hostname.read_text(errors="replace").strip() if hostname.is_file() else ""
    return name or root.absolute().name or "disk"


def request_for_label(label: str, config: Config | None) -> SnapshotRequest:
    """:func:`request_for` for a host known only by its label (a rescued disk)."""
    from evacuate.transport import parse_host_spec

    return request_for(HostRef(label, parse_host_spec("local")), config)


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
