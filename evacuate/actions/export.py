"""Action: export a plan's data from a snapshot as the payload directory the rendered Ansible
project reads (``files.tar`` and one file per dump), for runs with plain ansible-playbook."""

from __future__ import annotations

from pathlib import Path

from evacuate.engines import engine_for
from evacuate.plan.model import RebuildPlan
from evacuate.plan.render import host_vars
from evacuate.plan.selection import plan_selector
from evacuate.plan.state_vars import deb_file
from evacuate.rebuild.hoststate import with_parents
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import RestoreResult, ordered, write_archive
from evacuate.state import ensure_private_dir


def export_payload(plan: RebuildPlan, repo: SnapshotRepository, destination: Path,
                   snapshot: str | None = None) -> tuple[Path, RestoreResult, list[str]]:
    """Write the payload; return its directory, what the archive holds, and the dump files.
    The directory is 0700 and every file 0600: the role dumps carry password hashes."""
    manifest = repo.load(repo.find(plan.source, snapshot or plan.snapshot_id))
    ensure_private_dir(destination)
    # the directories on the way too, with their modes (see rebuild.hoststate)
    select = with_parents(manifest.files, plan_selector(plan))
    result = RestoreResult()
    archive = destination / "files.tar"
    with archive.open("wb") as stream:
        archive.chmod(0o600)
        write_archive(ordered(e for e in manifest.files if select(e)), repo.blobs, stream, result)
    variables = host_vars(plan)
    names = {(d["engine"], d["name"]): d["dump"] for d in variables["evacuate_databases"]}
    for d in variables["evacuate_database_globals"]:
        engine = engine_for(d["engine"])
        if engine is not None and engine.accounts:
            names[(d["engine"], engine.accounts)] = d["dump"]
    written = []
    for dump in manifest.dumps:
        name = names.get((dump.engine, dump.database))
        if name is None:
            continue
        path = destination / name
        with path.open("wb") as out, repo.blobs.open_blob(dump.blob) as blob:
            path.chmod(0o600)
            while chunk := blob.read(1 << 20):
                out.write(chunk)
        written.append(name)
    carried = {(d.name, d.version, d.arch) for d in plan.state.debs}
    for deb in manifest.debs:  # hand-installed packages: the packages role installs them
        if (deb.name, deb.version, deb.arch) in carried:
            path = destination / deb_file(deb.name, deb.version, deb.arch)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.write_bytes(repo.blobs.read_blob(deb.blob))
            path.chmod(0o600)
            written.append(str(path.relative_to(destination)))
    return destination, result, written
