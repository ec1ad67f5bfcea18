"""The files step's host state (plan.state_model), on the target: before the files, the
hand-installed packages from the snapshot's .debs and the attributes that would refuse
the restore lifted; after them, the target's state program (roles/files/files/
host_state.py): enable-symlink farms, directory modes and owners, sysctl, attributes.

Every directory on the way to a restored entry is restored too (``with_parents``): tar
creates a missing one from its archived header (mode, owner), and the state program gives
one the target already had the source's mode and owner (tar keeps an existing directory's).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from evacuate.errors import RemoteCommandError
from evacuate.plan.model import RebuildPlan
from evacuate.plan.state_vars import program_input
from evacuate.snapshot.manifest import FileEntry, PackageMode, SnapshotManifest
from evacuate.snapshot.store import BlobRef, BlobStore
from evacuate.transport.base import Transport

# evacuate/playbooks: the roles inside the package (a link to the checkout's playbooks/; an
# installed wheel carries the files themselves, and has no playbooks/ beside the package)
PROGRAM = Path(__file__).resolve().parents[1] / "playbooks" / "roles" / "files" / "files" / \
    "host_state.py"
DEB_DIR = "/var/lib/evacuate/debs"
CHUNK = 1 << 20


def with_parents(files: Iterable[FileEntry], select: Callable[[FileEntry], bool]
                 ) -> Callable[[FileEntry], bool]:
    """``select`` and every directory above an entry it selects."""
    entries = list(files)
    chosen = {e.path for e in entries if select(e)}
    above: set[str] = set()
    for path in chosen:
        parent = path.rsplit("/", 1)[0]
        while parent and parent not in above:
            above.add(parent)
            parent = parent.rsplit("/", 1)[0]
    return lambda e: e.path in chosen or (e.kind == "dir" and e.path in above)


def directory_owners(entries: Iterable[FileEntry]) -> list[dict[str, object]]:
    return [{"path": e.path, "mode": e.mode, "uid": e.uid, "gid": e.gid, "user": e.user,
             "group": e.group} for e in entries if e.kind == "dir" and e.path != "/"]


def _program(target: Transport, document: dict[str, object]) -> tuple[list[str], list[str]]:
    result = target.run(["python3", "-c", PROGRAM.read_text()],
                        input=json.dumps(document).encode(), timeout=900)
    if not result.ok:
        raise RemoteCommandError(f"{target.name}: setting the host state failed: "
                                 f"{(result.error_text.strip().splitlines() or ['?'])[-1]}",
                                 exit_status=result.exit_status)
    report = json.loads(result.text)
    return list(report["changed"]), list(report["warnings"])


def before_files(target: Transport, plan: RebuildPlan, manifest: SnapshotManifest,
                 blobs: BlobStore) -> list[str]:
    """Install the carried .debs, lift attributes; return warnings."""
    warnings = install_debs(target, plan, manifest, blobs)
    if plan.state.attributes:
        warnings += _program(target, program_input(plan.state, "before"))[1]
    return warnings


def after_files(target: Transport, plan: RebuildPlan, restored: Iterable[FileEntry],
                modes: Sequence[PackageMode] | None = None) -> tuple[list[str], list[str]]:
    """Run the state program (``modes``: the package files' modes of the snapshot restored;
    None: the plan's); return (what changed, warnings)."""
    return _program(target, program_input(plan.state, "after", directory_owners(restored),
                                          modes))


def set_package_modes(target: Transport, modes: Sequence[PackageMode]
                      ) -> tuple[list[str], list[str]]:
    """Give the target's package files of ``modes`` the source's mode and owner (the state
    program with nothing else to do); return (what changed, warnings)."""
    if not modes:
        return [], []
    return _program(target, {"phase": "after", "files": [asdict(m) for m in modes]})


def install_debs(target: Transport, plan: RebuildPlan, manifest: SnapshotManifest,
                 blobs: BlobStore) -> list[str]:
    carried = {(d.name, d.version, d.arch): d for d in manifest.debs}
    warnings: list[str] = []
    files = []
    for deb in plan.state.debs:
        entry = carried.get((deb.name, deb.version, deb.arch))
        if entry is None:
            warnings.append(f"{deb.name} {deb.version}: no .deb in snapshot {manifest.id}: "
                            "not installed")
            continue
        have = target.run(["dpkg-query", "-W", "-f=${Version}", f"{deb.name}:{deb.arch}"],
                          timeout=60)
        if have.ok and have.text.strip() == deb.version:
            continue
        remote = f"{DEB_DIR}/{deb.name}_{deb.version.replace(':', '%3a')}_{deb.arch}.deb"
        _upload(target, blobs, entry.blob, remote)
        files.append(remote)
    if files:
        command = ("DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                   "--no-install-recommends -o Dpkg::Options::=--force-confold "
                   "-o Dpkg::Options::=--force-confdef " + " ".join(map(shlex.quote, files)))
        result = target.run(["sh", "-c", command], timeout=1800)
        if not result.ok:
            raise RemoteCommandError(f"{target.name}: installing the carried packages failed:"
                                     f" {(result.text.strip().splitlines() or ['?'])[-1]}",
                                     exit_status=result.exit_status)
    return warnings


def _upload(target: Transport, blobs: BlobStore, blob: BlobRef, remote: str) -> None:
    command = (f"mkdir -p {shlex.quote(DEB_DIR)} && chmod 0700 {shlex.quote(DEB_DIR)} && "
               f"cat > {shlex.quote(remote)}.part && mv {shlex.quote(remote)}.part "
               f"{shlex.quote(remote)}")
    with target.open_process(command) as proc, blobs.open_blob(blob) as content:
        while chunk := content.read(CHUNK):
            proc.stdin.write(chunk)
        proc.stdin.close()
        status = proc.wait(timeout=600)
        if status != 0:
            raise RemoteCommandError(f"{target.name}: writing {remote} failed: "
                                     f"{proc.stderr_text().strip()}", exit_status=status)



def removed_paths(changed: Iterable[str]) -> list[str]:
    """The paths the state program removed (its ``removed PATH`` lines)."""
    return [line[len("removed "):] for line in changed if line.startswith("removed ")]
