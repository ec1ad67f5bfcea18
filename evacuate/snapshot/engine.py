"""Take a snapshot: inventory, database dumps and file trees of one host into a store,
committed atomically by writing the manifest last."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from evacuate import __version__
from evacuate.engines import EngineSelection, selected_servers
from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory, collect_inventory, to_json
from evacuate.snapshot.databases import jobs_for, run_dump
from evacuate.snapshot.files import snapshot_tree
from evacuate.snapshot.manifest import DumpEntry, SnapshotManifest, Totals
from evacuate.snapshot.repository import SnapshotRepository, new_snapshot_id
from evacuate.snapshot.store import BlobRef
from evacuate.snapshot.xattrs import snapshot_xattrs
from evacuate.transport.base import Transport

# What is always worth keeping: configuration, local software, crontabs, mail, and the
# usual homes of data. The inventory's data candidates are added to these.
BASE_ROOTS = ("/etc", "/root", "/home", "/srv", "/opt", "/usr/local", "/var/www",
              "/var/spool/cron", "/var/mail")
BASE_EXCLUDES = ("*/.cache", "/var/lib/*/tmp", "/etc/ssh/ssh_host_*_key.pub.tmp")


class SnapshotProgress(Protocol):
    """Callbacks a front end implements to show progress."""

    def phase(self, name: str) -> None:
        """A new phase starts (inventory, files, dumps, commit)."""

    def advance(self, count: int) -> None:
        """``count`` more bytes were read from the host."""

    def warning(self, message: str) -> None:
        """Something was skipped or changed while read."""


class QuietProgress:
    """A SnapshotProgress that shows nothing."""

    def phase(self, name: str) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class SnapshotRequest:
    host: str  # the label snapshots are filed under
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    databases: bool = True
    # evacuate.yml's per-engine settings (postgresql / mysql / redis: true, false, auto)
    engines: Mapping[str, bool | str] = field(default_factory=dict)
    warnings: Sequence[str] = ()  # noticed before the snapshot started, kept in its manifest


@dataclass
class SnapshotPlan:
    roots: list[str]
    excludes: list[str]
    database_dirs: list[str] = field(default_factory=list)


def dumped_servers(inventory: HostInventory, request: SnapshotRequest) -> EngineSelection:
    """The database servers the snapshot dumps (evacuate.yml's per-engine settings)."""
    if not request.databases:
        return EngineSelection((), tuple(inventory.databases))
    return selected_servers(inventory.databases, request.engines)


def plan_snapshot(inventory: HostInventory, request: SnapshotRequest) -> SnapshotPlan:
    """Pick the trees to copy: the base roots, the inventory's data candidates and the
    configured includes, minus excludes; the data directories of running database servers
    are left to their dumps (a copy of a live data directory is not consistent)."""
    dumped = [d.data_dir.rstrip("/") for d in dumped_servers(inventory, request).dumped
              if d.data_dir]
    candidates = [c.path for c in inventory.data_candidates if c.kind != "database"]
    wanted = sorted({p.rstrip("/") or "/" for p in (*BASE_ROOTS, *candidates, *request.include)})
    roots = [p for p in wanted if not any(p != q and p.startswith(q.rstrip("/") + "/")
                                          for q in wanted)]
    stopped = [d.data_dir.rstrip("/") for d in inventory.databases
               if d.data_dir and not d.running]
    roots += [d for d in stopped if not any(d.startswith(r + "/") for r in roots)]
    excludes = [*BASE_EXCLUDES, *request.exclude, *dumped]
    return SnapshotPlan(roots=roots, excludes=excludes, database_dirs=dumped)


def take_snapshot(transport: Transport, repo: SnapshotRepository, request: SnapshotRequest,
                  progress: SnapshotProgress | None = None,
                  now: Callable[[], float] = time.monotonic,
                  inventory_of: Callable[[Transport], HostInventory] | None = None,
                  ) -> SnapshotManifest:
    """Snapshot the host behind ``transport``; return the committed manifest. Raise an
    EvacuateError (and commit nothing) if the inventory, a dump or the file stream fails.
    ``inventory_of`` replaces the ordinary inventory (e.g. a rescued disk's)."""
    show: SnapshotProgress = progress or QuietProgress()
    started = now()
    stats = repo.blobs.stats
    added_before, bytes_before = stats.added, stats.added_bytes
    repo.blobs.store.defer_durability()  # one sync before the manifest, see commit()
    show.phase("inventory")
    inventory = (inventory_of(transport) if inventory_of is not None
                 else collect_inventory(transport, host=request.host))
    plan = plan_snapshot(inventory, request)
    previous = repo.latest(request.host)
    prior = {e.path: e for e in previous.files} if previous else None

    # The dumps stream on their own SSH channel while the files stream on another: the
    # source's database servers and its disk work at the same time.
    show.phase("dumps and files")
    selection = dumped_servers(inventory, request)
    for message in selection.warnings:
        show.warning(message)
    jobs = [job for server in selection.dumped for job in jobs_for(server)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dumps") as pool:
        dumping = pool.submit(lambda: [run_dump(transport, repo.blobs, job, show.advance)
                                       for job in jobs])
        tree = snapshot_tree(transport, repo.blobs, plan.roots, plan.excludes, prior,
                             show.advance)  # a failure waits for the dumps to end, then raises
        dumps: list[DumpEntry] = dumping.result()  # a failed dump fails the snapshot
    for message in tree.warnings:
        show.warning(message)

    acls = _snapshot_acls(transport, repo, plan)
    xattrs, xattr_warning = snapshot_xattrs(transport, plan.roots)
    if xattr_warning:
        show.warning(xattr_warning)

    show.phase("commit")
    files = tree.entries
    manifest = SnapshotManifest(
        id=new_snapshot_id(), host=request.host,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        tool_version=__version__, roots=tuple(plan.roots), excludes=tuple(plan.excludes),
        files=tuple(files), dumps=tuple(dumps), inventory=to_json(inventory),
        totals=Totals(
            files=sum(1 for f in files if f.kind == "file"),
            bytes=sum(f.size for f in files if f.kind == "file" and not f.hardlink_to),
            new_blobs=stats.added - added_before, new_bytes=stats.added_bytes - bytes_before,
            transferred_bytes=tree.transferred_bytes + sum(d.blob.size for d in dumps),
            reused_files=tree.reused_files, dumps=len(dumps),
            dump_bytes=sum(d.blob.size for d in dumps), seconds=round(now() - started, 3)),
        parent=previous.id if previous else None,
        warnings=(*request.warnings, *tree.warnings, *([xattr_warning] if xattr_warning else [])),
        acls=acls, xattrs=repo.blobs.put_bytes(xattrs) if xattrs else None)
    repo.commit(manifest)
    return manifest


def _snapshot_acls(transport: Transport, repo: SnapshotRepository,
                   plan: SnapshotPlan) -> BlobRef | None:
    """POSIX ACLs beyond the mode bits under the roots, as ``getfacl`` prints them (when the
    host has getfacl); restored with ``setfacl --restore``."""
    import shlex

    roots = " ".join(shlex.quote(r) for r in plan.roots)
    result = transport.run(f"command -v getfacl >/dev/null || exit 3; cd / && getfacl -R -s -p "
                           f"--absolute-names -P {roots} 2>/dev/null; exit 0", timeout=900)
    if result.exit_status != 0 or not result.stdout.strip():
        return None
    return repo.blobs.put_bytes(result.stdout)


__all__ = ["EvacuateError", "SnapshotPlan", "SnapshotProgress", "SnapshotRequest",
           "plan_snapshot", "take_snapshot"]
