"""Cutover: the only operation that touches the source, and only to stop and start services.

Take the final snapshot's inventory while the source still runs (what the machine is does
not change with its writers stopped, and the inventory is a second or two that need not be
downtime), stop the source's writers (every started unit except the database servers, which
must stay up for the final dumps, and sshd), take a final incremental snapshot (its files
and dumps read after the stop), restore the files that
changed and replace the databases that changed on the target (an unchanged one keeps its
dump in the final snapshot and is not reloaded), restart the target's copies of the stopped
writers (and the servers that stayed up, only when something under /etc changed), verify, and
report the downtime: from the first stop on the source to the verified target. The source's
running containers are writers too: stopped (by name, through their engine's CLI) after the
units, so that the final snapshot copies their volumes at rest; the target's copies are
stopped while their volumes are replaced and started again. A container whose database
server is dumped stays up on both sides (its final dump is taken and loaded inside it). ``revert`` starts the source's
services and containers again (when the target fails, or to go back)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from evacuate.engines import engine_for, is_accounts
from evacuate.engines.base import container_of
from evacuate.engines.container_cli import container_cli
from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory, collect_inventory, from_json
from evacuate.plan.model import RebuildPlan
from evacuate.plan.selection import plan_selector
from evacuate.rebuild.databases import restore_databases
from evacuate.rebuild.hoststate import set_package_modes
from evacuate.snapshot.manifest import OBJECTS_UNREAD, DumpEntry, FileEntry, SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import restore_tree
from evacuate.stopwatch import Stopwatch
from evacuate.transport.base import Transport
from evacuate.verify.databases import CountResult, count_rows

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
    phases: dict[str, float] = field(default_factory=dict)
    """Where the downtime went, in seconds: stop, final snapshot, files, databases,
    restart, verify."""


def writers(plan: RebuildPlan) -> list[str]:
    """The source units to stop: what was started, minus sshd and the database servers the
    plan dumps (the final dumps need them up; a second instance of an engine, which the
    snapshot does not dump, is stopped: ``plan.undumped_units``). A data daemon evacuate cannot dump (mongod,
    slapd, a server whose engine evacuate.yml turned off) is stopped like any writer: its
    files are copied at rest. A container engine's daemon (Docker's) stays up: its
    containers are stopped by name (container_writers), which needs it."""
    engines = [engine_for(d.engine) for d in plan.databases]
    running = tuple(sorted({p for e in engines if e is not None for p in e.units}))
    # the unit that starts the containers at boot stops them all when it stops: it stays,
    # so that a container whose database server is dumped keeps running (the others are
    # stopped by name, container_writers)
    in_containers = any(container_of(d.engine)[1] for d in plan.databases)
    cli = container_cli(plan.containers.engine) if plan.containers.engine else None
    keep = ((cli.restart_at_boot,) if cli and in_containers else ()) + (
        cli.daemon_units if cli else ())
    return [u for u in plan.services_started
            if not u.startswith(NEVER_STOPPED) and u not in keep
            and (u in plan.undumped_units or not (running and u.startswith(running)))]


def to_restart(plan: RebuildPlan, stopped: list[str], landed: set[str]) -> list[str]:
    """The target's units to restart once the final delta landed: the writers (stopped on
    the source: their files may have changed under their copies on the target), and the
    units that stayed up on both sides (the dumped database servers, a container engine's
    daemon) only when something under /etc changed or went (their configuration, a unit
    file, a drop-in): their data came by their own engine, live, not as files."""
    config = any(path == "/etc" or path.startswith("/etc/") for path in landed)
    return [u for u in plan.services_started
            if not u.startswith(NEVER_STOPPED) and (config or u in stopped)]


def container_writers(plan: RebuildPlan) -> tuple[str, ...]:
    """The source's containers to stop: those that were running (their names), but for the
    containers whose database server the plan dumps: like the host's database servers,
    they stay up for the final dumps (and the target's copies for the reload)."""
    dumped = {container_of(d.engine)[1] for d in plan.databases}
    return tuple(c.name for c in plan.containers.containers
                 if c.state == "running" and c.name not in dumped)


def _containers(plan: RebuildPlan, host: Transport, action: str, *, check: bool) -> None:
    names = container_writers(plan)
    if names:
        cli = container_cli(plan.containers.engine)
        # started again as the containers step started them: those of the unit that starts
        # them at boot run in its cgroup, as on the source, not in this SSH session's
        command = (cli.stop(names) if action == "stop"
                   else f"{cli.start_as_at_boot()} && {cli.start(names)}")
        host.run(["sh", "-c", command], timeout=600, check=check)


class ContainerDumpMissing(EvacuateError):
    """The final snapshot has no dump of a database server in a container that the first
    one dumped (its container stopped meanwhile): its volume must not land as files."""


def _require_container_dumps(plan: RebuildPlan, final: SnapshotManifest) -> None:
    dumped = {d.engine for d in final.dumps}
    missing = sorted({d.engine for d in plan.databases if container_of(d.engine)[1]} - dumped)
    if missing:
        raise ContainerDumpMissing(
            f"the final snapshot has no dump of {', '.join(missing)}: its container is not "
            "running on the source, so its data would land as files under the target's "
            "running server", hint="start the container on the source ('evacuate revert' "
            "starts what the cutover stopped) and run the cutover again")


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


def differing_dumps(before: SnapshotManifest, after: SnapshotManifest
                    ) -> tuple[DumpEntry, ...]:
    """The dumps of ``after`` that are not the one the target loaded from ``before`` (new,
    or another blob): reloaded whatever the target holds."""
    loaded = {(d.engine, d.database): d.blob.sha256 for d in before.dumps}
    return tuple(d for d in after.dumps if loaded.get((d.engine, d.database)) != d.blob.sha256)


def changed_dumps(before: SnapshotManifest, after: SnapshotManifest,
                  still_loaded: Callable[[list[DumpEntry]], set[tuple[str, str]]]
                  ) -> tuple[tuple[DumpEntry, ...], list[str]]:
    """The dumps of ``after`` to load on the target, and the names of the others: a
    database whose dump is the one the target loaded from ``before`` (``after`` kept it,
    see snapshot.databases.run_dump, or it came out byte for byte the same) is not reloaded
    if ``still_loaded`` finds it on the target as that dump recorded it (row counts and
    fingerprints: the target's own services may have written to it since)."""
    differing = differing_dumps(before, after)
    same = [d for d in after.dumps if d not in differing]
    intact = still_loaded([d for d in same if not is_accounts(d.database)])
    kept = [d for d in same if is_accounts(d.database) or (d.engine, d.database) in intact]
    moved = tuple(d for d in after.dumps if d not in kept)
    return moved, [f"{d.engine}:{d.database}" for d in kept]


def intact_on(target: Transport, source: HostInventory,
              seen: list[CountResult] | None = None,
              ) -> Callable[[list[DumpEntry]], set[tuple[str, str]]]:
    """The databases of the given dumps that ``target`` holds exactly as each dump recorded
    them (its row counts and its objects with every table's fingerprint); ``seen`` gets
    what was read of those (the verify that follows need not read them again)."""
    def check(dumps: list[DumpEntry]) -> set[tuple[str, str]]:
        fingerprinted = [d for d in dumps if d.objects and OBJECTS_UNREAD not in d.objects]
        found = {(r.engine, r.database): r for r in count_rows(target, source, fingerprinted)}
        intact = {(d.engine, d.database) for d in fingerprinted
                  if (r := found.get((d.engine, d.database))) is not None and not r.error
                  and not r.objects_error and r.counts == d.tables and r.objects == d.objects}
        if seen is not None:
            seen.extend(found[key] for key in sorted(intact))
        return intact
    return check


def cutover(plan: RebuildPlan, repo: SnapshotRepository, source: Transport, target: Transport,
            previous: SnapshotManifest,
            take_final: Callable[[HostInventory], SnapshotManifest],
            verify: Callable[[SnapshotManifest, Transport, list[CountResult]],
                             tuple[bool, str, object]],
            say: Callable[[str], None]) -> CutoverResult:
    units = writers(plan)
    # the running machine as the final snapshot plans it: its roots, rules and databases
    inventory = collect_inventory(source, host=plan.source)
    began = time.monotonic()
    watch = Stopwatch()
    with watch.phase("stop"):
        say(f"stopping on the source: {', '.join(units) or 'nothing'}")
        if units:
            source.run(["systemctl", "stop", *units], timeout=300, check=True)
        if names := container_writers(plan):
            say(f"stopping the source's containers: {', '.join(names)}")
            _containers(plan, source, "stop", check=True)
    with watch.phase("final snapshot"):
        final = take_final(inventory)
    say(f"final snapshot {final.id}: {final.totals.transferred_bytes >> 10} KiB read")
    _require_container_dumps(plan, final)
    select = plan_selector(plan)
    changed, removed = changed_entries(previous, final, select)
    with watch.phase("files"):
        # the target's containers must not write their volumes while the final copy lands
        _containers(plan, target, "stop", check=False)
        restore_tree(final, repo.blobs, target, "/", select=lambda e: e.path in changed)
        seeded = set(previous.package_modes)  # the package files whose mode changed since
        set_package_modes(target, [m for m in final.package_modes if m not in seeded])
        if removed:
            target.run(["rm", "-rf", "--", *removed], timeout=300, check=True)
    with watch.phase("databases"):
        owners = {f"{d.engine}:{d.name}": d.owner for d in plan.databases if d.owner}
        intact: list[CountResult] = []  # the databases not reloaded, as just read
        # a dump that differs from the one loaded is reloaded whatever the target holds: it
        # loads while the others are checked, side by side
        certain = differing_dumps(previous, final)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="intact") as pool:
            checking = pool.submit(changed_dumps, previous, final,
                                   intact_on(target, from_json(previous.inventory), intact))
            restore_databases(target, repo.blobs, replace(final, dumps=certain), owners,
                              replace=True)
            moved, kept = checking.result()
        if kept:
            say(f"unchanged since the target was loaded, not reloaded: {', '.join(kept)}")
        rest = tuple(d for d in moved if d not in certain)  # the target's services wrote
        restore_databases(target, repo.blobs, replace(final, dumps=rest), owners, replace=True)
    with watch.phase("restart"):
        running = to_restart(plan, units, changed | set(removed))
        # a source that ran no unit of its own (only sshd and the like) has none to restart
        target.run(["sh", "-c", 'systemctl daemon-reload; [ "$#" -eq 0 ] || systemctl restart "$@"',
                    "restart", *running], timeout=600, check=True)
        _containers(plan, target, "start", check=True)
    with watch.phase("verify"):
        # the final snapshot saw the writers stopped: expect the services as they ran before
        # (the databases it did not reload were read whole by the intact check: not again)
        ok, detail, _report = verify(replace(final, inventory=previous.inventory), target,
                                     intact)
    downtime = time.monotonic() - began
    return CutoverResult(units, final.id, len(changed), len(removed), downtime, ok, detail,
                         dict(watch.timings))


def revert(plan: RebuildPlan, source: Transport) -> list[str]:
    """Start the source's stopped writers again (its units, then its containers)."""
    units = writers(plan)
    if units:
        source.run(["systemctl", "start", *units], timeout=300, check=True)
    _containers(plan, source, "start", check=True)
    return units + [f"container {n}" for n in container_writers(plan)]
