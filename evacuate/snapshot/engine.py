"""Take a snapshot: inventory, database dumps and file trees of one host into a store,
committed atomically by writing the manifest last."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from evacuate import __version__
from evacuate.engines import ENGINES, EngineSelection, engine_for, selected_servers
from evacuate.engines.base import DumpJob
from evacuate.engines.in_containers import with_listed_databases
from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory, collect_inventory, from_json, to_json
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.databases import jobs_for, run_dump
from evacuate.snapshot.debs import carry_debs
from evacuate.snapshot.exclusion import (
    PACKAGE,
    PACKAGE_MODE,
    PARENTS,
    Exclusion,
    Tally,
    roots_of,
)
from evacuate.snapshot.files import TreeResult, snapshot_tree
from evacuate.snapshot.images import save_container_configs, save_images
from evacuate.snapshot.manifest import DumpEntry, PackageMode, SnapshotManifest, Totals
from evacuate.snapshot.package_modes import PackageDatabase, mode_of, read_package_db
from evacuate.snapshot.repository import SnapshotRepository, new_snapshot_id
from evacuate.snapshot.scan import ScannedEntry, encode_path
from evacuate.snapshot.store import BlobRef
from evacuate.snapshot.xattrs import snapshot_xattrs
from evacuate.stopwatch import Stopwatch
from evacuate.transport.base import Transport

LOCAL_TYPES = ("ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs", "vfat",
               "exfat", "ntfs", "ntfs3", "overlay", "bcachefs", "nilfs2")
"""File system types that hold a disk's data: the snapshot lists the root and every mount of
these types (unless inside a mount of another type, as nspawn's /run/host); the others are
runtime, kernel or network file systems (see evacuate.snapshot.exclusion, rule virtual)."""


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
    with_logs: bool = False


@dataclass
class SnapshotPlan:
    roots: list[str]  # where the listing starts: / and the other local disk mounts
    excludes: list[str]  # find -path prunes of the rules, for scans of the data trees
    database_dirs: list[str] = field(default_factory=list)
    exclusion: Exclusion = field(default_factory=Exclusion)


def dumped_servers(inventory: HostInventory, request: SnapshotRequest) -> EngineSelection:
    """The database servers the snapshot dumps (evacuate.yml's per-engine settings)."""
    if not request.databases:
        return EngineSelection((), tuple(inventory.databases))
    return selected_servers(inventory.databases, request.engines)


def plan_snapshot(inventory: HostInventory, request: SnapshotRequest,
                  owned: set[str] | frozenset[str] = frozenset(), swaps: Sequence[str] = (),
                  ) -> SnapshotPlan:
    """Choose by exclusion: list the local disk file systems whole; every entry moves unless
    a rule of evacuate.snapshot.exclusion leaves it (``owned``: the package database's
    files; ``swaps``: swap files). The data directories of running database servers are
    left to their dumps (a copy of a live data directory is not consistent)."""
    selection = dumped_servers(inventory, request)
    dumped = [path for server in selection.dumped for path in _data_paths(server)]
    engine_volumes = tuple(s.data_dir for s in selection.dumped if s.container and s.data_dir)
    mounts = inventory.hardware.mounts
    other = [m.target for m in mounts if m.fstype not in LOCAL_TYPES and m.target != "/"]

    def inside_other(path: str) -> bool:
        return any(path.startswith(o.rstrip("/") + "/") for o in other)

    local = [m.target for m in mounts if m.fstype in LOCAL_TYPES and m.target != "/"
             and not inside_other(m.target)]
    # an include on a mount of its own (NFS...) is listed from there
    extra = [p for p in request.include if inside_other(p) or p in other]
    roots = sorted({"/", *local, *extra})
    changed = {c.path for c in inventory.package_files.changed}
    changed |= {c.path for c in inventory.changed_conffiles}
    exclusion = Exclusion(owned=owned, changed=frozenset(changed), database_dirs=tuple(dumped),
                          engine_volumes=engine_volumes,
                          other_mounts=tuple(o for o in other if o not in extra),
                          swap_files=tuple(swaps), with_logs=request.with_logs,
                          includes=tuple(request.include), excludes=tuple(request.exclude),
                          daemon_state=inventory.mail.daemon_state(),
                          engine_storage=inventory.containers.storage_dirs(),
                          volume_dirs=inventory.containers.volume_dirs())
    return SnapshotPlan(roots=roots, excludes=exclusion.find_excludes(), database_dirs=dumped,
                        exclusion=exclusion)


def _data_paths(server: DatabaseServer) -> tuple[str, ...]:
    engine = engine_for(server.engine)
    return engine.data_paths(server) if engine is not None else ()


def choosers(exclusion: Exclusion, tally: Tally, packages: PackageDatabase | None = None,
             modes: list[PackageMode] | None = None,
             ) -> tuple[Callable[[ScannedEntry], bool], Callable[[ScannedEntry], None]]:
    """``choose`` and ``on_parent`` for files.scan_tree: each listed entry is classified
    and counted in ``tally``; a directory kept on the way to carried entries moves to
    the PARENTS rule. A package's unchanged file that changed after its package installed
    it (``packages``) moves to PACKAGE_MODE, its mode and owner appended to ``modes``."""

    def choose(entry: ScannedEntry) -> bool:
        name = entry.name
        link = encode_path(entry.link_target) if entry.link_target is not None else None
        rule = exclusion.classify(name, link, entry.kind)
        if (rule is PACKAGE and packages is not None and modes is not None
                and packages.changed_after_install(name, entry)):
            rule = PACKAGE_MODE
            modes.append(mode_of(name, entry))
        tally.add(rule, name, entry.kind, entry.size)
        return rule.carried

    def parent(entry: ScannedEntry) -> None:  # a directory on the way to carried entries
        name = entry.name
        link = encode_path(entry.link_target) if entry.link_target is not None else None
        tally.move(exclusion.classify(name, link, entry.kind), PARENTS, name, entry.kind,
                   entry.size)

    return choose, parent


@dataclass
class _Read:
    """What one pass over the host read, planned from one inventory."""

    plan: SnapshotPlan
    jobs: list[DumpJob]
    warnings: list[str]
    tree: TreeResult
    dumps: list[DumpEntry]
    tally: Tally
    modes: list[PackageMode]


def take_snapshot(transport: Transport, repo: SnapshotRepository, request: SnapshotRequest,
                  progress: SnapshotProgress | None = None,
                  now: Callable[[], float] = time.monotonic,
                  inventory_of: Callable[[Transport], HostInventory] | None = None,
                  ) -> SnapshotManifest:
    """Snapshot the host behind ``transport``; return the committed manifest. Raise an
    EvacuateError (and commit nothing) if the inventory, a dump or the file stream fails.
    ``inventory_of`` replaces the ordinary inventory (e.g. a rescued disk's).

    With a previous snapshot, its inventory plans the read (roots, rules, dumps) while the
    host's own inventory is taken alongside, on channels of its own; when the host's plans
    the same read, that read stands, else (or when it failed) the read is done again as the
    host's inventory plans it. The manifest always holds the host's inventory of now."""
    show: SnapshotProgress = progress or QuietProgress()
    started = now()
    stats = repo.blobs.stats
    added_before, bytes_before = stats.added, stats.added_bytes
    repo.blobs.store.defer_durability()  # one sync before the manifest, see commit()
    watch = Stopwatch()
    previous = repo.latest(request.host)
    guess = _previous_inventory(previous) if inventory_of is None else None

    def inventory_now() -> tuple[HostInventory, dict[str, str]]:
        with watch.phase("inventory"):
            found = (inventory_of(transport) if inventory_of is not None
                     else collect_inventory(transport, host=request.host))
            # the servers in containers say which databases they hold (through exec)
            return (with_listed_databases(transport, found, ENGINES) if request.databases
                    else (found, {}))

    with watch.phase("package database"):
        packages = read_package_db(transport)
    show.phase("inventory")
    if guess is None:
        inventory, unlisted = inventory_now()
        read = _read(transport, repo, request, inventory, packages, previous, show, watch)
    else:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inventory") as pool:
            taking = pool.submit(inventory_now)
            try:
                guessed: _Read | None = _read(transport, repo, request, guess, packages,
                                              previous, show, watch)
            except EvacuateError:  # e.g. a database dropped since: the host's plan decides
                guessed = None
            inventory, unlisted = taking.result()
        if guessed is not None and _same_read(guessed, inventory, request, packages):
            read = guessed
        else:
            with watch.phase("read again"):
                read = _read(transport, repo, request, inventory, packages, previous, show,
                             watch)
    for what, why in unlisted.items():
        show.warning(f"{what} did not answer ({why}): its volume is copied as files")
    for message in read.warnings:
        show.warning(message)
    plan, tree, dumps, tally, modes = read.plan, read.tree, read.dumps, read.tally, read.modes
    notes = list(_package_warnings(inventory))
    for message in (*notes, *tree.warnings):
        show.warning(message)
    trees = roots_of(e.path for e in tree.entries)
    trees = sorted({*trees, *(p.rstrip("/") for p in request.include
                              if p.startswith("/") and not any(c in p for c in "*?["))})

    with watch.phase("acls and xattrs"):
        acls = _snapshot_acls(transport, repo, trees)
        xattrs, xattr_warning = snapshot_xattrs(transport, trees)
    if xattr_warning:
        show.warning(xattr_warning)

    with watch.phase("hand-installed packages"):
        debs, deb_warnings = carry_debs(transport, repo.blobs, inventory)
    for message in deb_warnings:
        show.warning(message)
    with watch.phase("container images"):
        images, image_warnings = save_images(transport, repo.blobs, inventory.containers,
                                             previous)
        configs, config_warnings = save_container_configs(transport, repo.blobs,
                                                          inventory.containers)
    image_warnings = [*image_warnings, *config_warnings]
    for message in image_warnings:
        show.warning(message)

    show.phase("commit")
    files = tree.entries
    manifest = SnapshotManifest(
        id=new_snapshot_id(), host=request.host,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        tool_version=__version__, roots=tuple(trees), excludes=tuple(plan.excludes),
        files=tuple(files), dumps=tuple(dumps), inventory=to_json(inventory),
        totals=Totals(
            files=sum(1 for f in files if f.kind == "file"),
            bytes=sum(f.size for f in files if f.kind == "file" and not f.hardlink_to),
            new_blobs=stats.added - added_before, new_bytes=stats.added_bytes - bytes_before,
            transferred_bytes=tree.transferred_bytes + sum(d.blob.size for d in dumps
                                                           if not d.unchanged_since),
            reused_files=tree.reused_files, dumps=len(dumps),
            dump_bytes=sum(d.blob.size for d in dumps), seconds=round(now() - started, 3),
            phases=dict(watch.timings)),
        parent=previous.id if previous else None,
        warnings=(*request.warnings, *notes, *tree.warnings,
                  *([xattr_warning] if xattr_warning else []), *deb_warnings,
                  *image_warnings),
        rules=tally.totals(), acls=acls, xattrs=repo.blobs.put_bytes(xattrs) if xattrs else None,
        debs=debs, images=images, container_configs=configs,
        package_modes=tuple(modes))
    repo.commit(manifest)
    return manifest


def _previous_inventory(previous: SnapshotManifest | None) -> HostInventory | None:
    """The previous snapshot's inventory, to plan a read with; None without one (or one
    this version cannot read)."""
    if previous is None or not previous.inventory:
        return None
    try:
        return from_json(previous.inventory)
    except (KeyError, TypeError, ValueError):
        return None


def _same_read(read: _Read, inventory: HostInventory, request: SnapshotRequest,
               packages: PackageDatabase) -> bool:
    """Whether ``inventory`` plans the read ``read`` did: the same roots and rules, the
    same dumps."""
    plan = plan_snapshot(inventory, request, packages.owned, packages.swaps)
    return plan == read.plan and _jobs(inventory, request)[0] == read.jobs


def _jobs(inventory: HostInventory, request: SnapshotRequest) -> tuple[list[DumpJob], list[str]]:
    selection = dumped_servers(inventory, request)
    return ([job for server in selection.dumped for job in jobs_for(server, inventory.databases)],
            list(selection.warnings))


def _read(transport: Transport, repo: SnapshotRepository, request: SnapshotRequest,
          inventory: HostInventory, packages: PackageDatabase,
          previous: SnapshotManifest | None, show: SnapshotProgress, watch: Stopwatch) -> _Read:
    """The files and the dumps as ``inventory`` plans them. The dumps stream on their own
    SSH channel while the files stream on another: the source's database servers and its
    disk work at the same time."""
    plan = plan_snapshot(inventory, request, packages.owned, packages.swaps)
    tally = Tally()
    modes: list[PackageMode] = []
    choose, parent = choosers(plan.exclusion, tally, packages, modes)
    prior = {e.path: e for e in previous.files} if previous else None
    show.phase("dumps and files")
    jobs, warnings = _jobs(inventory, request)
    # a database that did not change since the previous snapshot keeps its dump
    before = {(d.engine, d.database): d for d in previous.dumps} if previous else {}

    def dump_all() -> list[DumpEntry]:
        with watch.phase("dumps"):
            return [run_dump(transport, repo.blobs, job, show.advance,
                             before.get((job.engine, job.database)),
                             previous.id if previous else "", watch) for job in jobs]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dumps") as pool:
        dumping = pool.submit(dump_all)
        with watch.phase("files"):  # a failure waits for the dumps to end, then raises
            tree = snapshot_tree(transport, repo.blobs, plan.roots, (), prior, show.advance,
                                 choose, parent)
        dumps: list[DumpEntry] = dumping.result()  # a failed dump fails the snapshot
    return _Read(plan, jobs, warnings, tree, dumps, tally, modes)


def _package_warnings(inventory: HostInventory) -> list[str]:
    """What the package database could not tell: packages without md5sums (a change to
    their files is not seen) and package files that could not be read."""
    files = inventory.package_files
    notes = []
    if files.without_md5sums:
        notes.append(f"{len(files.without_md5sums)} packages have no md5sums, so changes to "
                     f"their files cannot be found: {', '.join(files.without_md5sums)}")
    for item in files.unreadable:
        notes.append(f"{item.path} (package {item.package}) could not be read to compare it "
                     "with dpkg's md5sums")
    return notes


def _snapshot_acls(transport: Transport, repo: SnapshotRepository,
                   trees: Sequence[str]) -> BlobRef | None:
    """POSIX ACLs beyond the mode bits under the roots, as ``getfacl`` prints them (when the
    host has getfacl); restored with ``setfacl --restore``."""
    import shlex

    roots = " ".join(shlex.quote(r) for r in trees)
    result = transport.run(f"command -v getfacl >/dev/null || exit 3; cd / && getfacl -R -s -p "
                           f"--absolute-names -P {roots} 2>/dev/null; exit 0", timeout=900)
    if result.exit_status != 0 or not result.stdout.strip():
        return None
    return repo.blobs.put_bytes(result.stdout)


__all__ = ["EvacuateError", "SnapshotPlan", "SnapshotProgress", "SnapshotRequest",
           "plan_snapshot", "take_snapshot"]
