"""The data steps (files, databases, containers): store → target as streams. The one implementation of
both, called by ``evacuate run`` on the controller (evacuate.rebuild.run) and by the
``evacuate.migrate`` Ansible collection's modules on an execution node
(evacuate.rebuild.datajob)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from evacuate.errors import EvacuateError
from evacuate.plan.model import RebuildPlan
from evacuate.plan.selection import plan_selector
from evacuate.rebuild.containers import bring_up
from evacuate.rebuild.databases import restore_databases
from evacuate.rebuild.hoststate import after_files, before_files, removed_paths, with_parents
from evacuate.rebuild.pgcarry import carry_postgresql
from evacuate.rebuild.space import check_space, explain_no_space, mount_points, needed_by_root
from evacuate.snapshot.manifest import FileEntry, SnapshotManifest
from evacuate.snapshot.restore import (
    STAMP_RESTORED,
    TARGET_STATE_DIR,
    StagedTree,
    restore_tree,
    stage_tree,
)
from evacuate.snapshot.scan import decode_path
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport


@dataclass
class DataOutcome:
    """What a data step did: the journal's detail, the warnings to show and those the run's
    summary keeps."""

    detail: str
    warnings: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


STAGED = f"{TARGET_STATE_DIR}/staged-files.tar"
"""Where the files step's archive waits on the target when it was staged (stage_files)."""
TAR_ENTRY = 1536
"""A tar entry's headers, at most (its header block, the PAX mtime, a long name)."""


def _selection(plan: RebuildPlan, manifest: SnapshotManifest, target: Transport
               ) -> tuple[Callable[[FileEntry], bool], dict[str, int]]:
    select = with_parents(manifest.files, plan_selector(plan))  # see rebuild.hoststate
    # per tree and per mount point of the target (each may be its own file system there,
    # under one tree: a snapshot by exclusion has the one tree /); /etc for config
    needed = needed_by_root((e for e in manifest.files if select(e)),
                            (*plan.data_roots, "/etc", *mount_points(target)))
    return select, needed


def stage_files(plan: RebuildPlan, manifest: SnapshotManifest, blobs: BlobStore,
                target: Transport, stop: Callable[[], bool]) -> StagedTree:
    """The files step's archive written to :data:`STAGED` on ``target`` ahead of the step
    (while the packages install): only when the target has room for it beside the files
    themselves (NotEnoughSpace otherwise). The files step then extracts it there."""
    select, needed = _selection(plan, manifest, target)
    size = sum(needed.values()) + TAR_ENTRY * sum(1 for e in manifest.files if select(e))
    check_space(target, {**needed, STAGED: size}, "the files staged beside the packages",
                label=plan.target)
    return stage_tree(manifest, blobs, target, STAGED, select=select, stop=stop)


def restore_files(plan: RebuildPlan, manifest: SnapshotManifest, blobs: BlobStore,
                  target: Transport, *, progress: Callable[[int], None] | None = None,
                  staged: StagedTree | None = None) -> DataOutcome:
    """The files step: the snapshot's files the plan selects, restored onto ``target`` with
    the host's state around them (see rebuild.hoststate), the mirrored directories made
    equal, PostgreSQL's configuration carried across releases, the restore stamped.
    ``staged``: that selection's archive, already on the target (see stage_files)."""
    outcome = DataOutcome("")
    if staged is None:  # an archive an interrupted run staged is not trusted: removed
        target.run(["rm", "-f", STAGED, f"{STAGED}.part"], timeout=60, check=True)
    select, needed = _selection(plan, manifest, target)
    check_space(target, needed, "the files", label=plan.target)
    state_warnings = before_files(target, plan, manifest, blobs)
    try:
        result = restore_tree(manifest, blobs, target, "/", select=select, progress=progress,
                              staged=staged)
    except EvacuateError as failed:
        raise explain_no_space(target, failed, needed, label=plan.target) from None
    removed = mirror(target, manifest, plan.mirrored_dirs)
    changed, warned = after_files(target, plan, (e for e in manifest.files if select(e)),
                                  manifest.package_modes)
    state_warnings += warned
    removed += removed_paths(changed)
    outcome.kept.extend(state_warnings)
    if len(plan.postgresql_carry) == 2:  # across releases: 13's config into 15's
        carried = carry_postgresql(target, manifest, blobs, *plan.postgresql_carry)
        outcome.kept.extend(carried)
        outcome.warnings.extend(carried)
    target.run(["sh", "-c", STAMP_RESTORED], timeout=60, check=True)
    outcome.warnings.extend((*result.skipped, *state_warnings))
    outcome.detail = (f"{result.files} files, {result.bytes >> 20} MiB"
                      f"{'; removed ' + ', '.join(removed) if removed else ''}")
    return outcome


def restore_dumps(plan: RebuildPlan, manifest: SnapshotManifest, blobs: BlobStore,
                  target: Transport, *, progress: Callable[[int], None] | None = None,
                  interrupted: str | None = None,
                  mark: Callable[[str | None], None] | None = None,
                  containers: bool = False) -> DataOutcome:
    """The databases step: every dump of the snapshot's own servers restored (see
    rebuild.databases; ``containers``: those of the servers in containers instead, once
    their containers run); ``interrupted``: the database a killed run was loading
    (dropped and loaded again)."""
    owners = {f"{d.engine}:{d.name}": d.owner for d in plan.databases if d.owner}
    outcomes = restore_databases(target, blobs, manifest, owners, progress,
                                 interrupted=interrupted, mark=mark, containers=containers)
    return DataOutcome("; ".join(f"{k}: {v}" for k, v in outcomes.items()))


def restore_containers(plan: RebuildPlan, manifest: SnapshotManifest, blobs: BlobStore,
                       target: Transport, *, progress: Callable[[int], None] | None = None,
                       interrupted: str | None = None,
                       mark: Callable[[str | None], None] | None = None) -> DataOutcome:
    """The containers step: the saved images loaded, the Compose projects up, the containers
    outside Compose recreated (rebuild.containers), then the dumps of the servers that run
    in containers loaded into them. A plan without a container engine has nothing to do."""
    if not plan.containers.engine:
        return DataOutcome("no containers")
    done = bring_up(target, plan, manifest, blobs)
    loaded = restore_dumps(plan, manifest, blobs, target, progress=progress,
                           interrupted=interrupted, mark=mark, containers=True)
    return replace(loaded, detail=f"{done}; {loaded.detail}" if loaded.detail else done)


def mirror(target: Transport, manifest: SnapshotManifest, dirs: tuple[str, ...]) -> list[str]:
    """Remove entries the packages created in mirrored directories (e.g. nginx's default
    site) that the source did not have."""
    removed = []
    for directory in dirs:
        wanted = {decode_path(e.path).rsplit(b"/", 1)[-1] for e in manifest.files
                  if e.path.startswith(directory + "/") and e.path.count("/") ==
                  directory.count("/") + 1}
        if not any(e.path == directory for e in manifest.files):
            continue
        listing = target.run(f"ls -A {shlex.quote(directory)} 2>/dev/null", timeout=60)
        for name in listing.stdout.split(b"\n"):
            if name and name not in wanted:
                path = f"{directory}/{name.decode('utf-8', 'surrogateescape')}"
                target.run(["rm", "-f", "--", path], timeout=60, check=True)
                removed.append(path)
    return removed
