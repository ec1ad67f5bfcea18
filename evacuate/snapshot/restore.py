"""Restore file trees from a snapshot onto a host: one tar stream built on the controller
from the manifest and the blobs, extracted by the host's own tar.

Owners follow names: GNU tar, run as root, gives a file the uid of the user named in the
archive when the host knows that name, else the archived number. Modes, mtimes, symlinks,
hard links, FIFOs and device nodes are restored; sparse files get their holes back
(``fallocate -d``); ACLs and user xattrs are applied afterwards.
"""

from __future__ import annotations

import shlex
import tarfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from evacuate.errors import RemoteCommandError
from evacuate.snapshot.manifest import FileEntry, SnapshotManifest
from evacuate.snapshot.readahead import ReadAhead
from evacuate.snapshot.scan import decode_path
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.streams import CountingReader
from evacuate.transport.base import Transport

TYPES = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "fifo": tarfile.FIFOTYPE,
         "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE}
DEVICES = ("char", "block")

def _tar_x(dest: str, archive: str) -> str:
    """The host's command that extracts ``archive`` ("-": stdin) under ``dest``."""
    return (f"mkdir -p {shlex.quote(dest)} && tar -x -f {shlex.quote(archive)} "
            f"-C {shlex.quote(dest)} "
            "--same-owner --same-permissions --no-overwrite-dir --delay-directory-restore")


TARGET_STATE_DIR = "/var/lib/evacuate"
RESTORED_STAMP = f"{TARGET_STATE_DIR}/data-restored"
"""Written on a rebuilt target when its data trees have been restored (its mtime says when,
by the target's clock; the files role writes it too). Verify counts entries that appeared
after it as the target's own (cron jobs, services) rather than as restored extras."""
STAMP_RESTORED = (f"install -d -m 0700 {TARGET_STATE_DIR} && "
                  f"date -u +%Y-%m-%dT%H:%M:%SZ > {RESTORED_STAMP}")


@dataclass
class RestoreResult:
    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StagedTree:
    """A restore's tar stream written to a file on the host ahead of its extraction
    (:func:`stage_tree`): where, and what it holds."""

    path: str
    result: RestoreResult
    seconds: float = 0.0


class StagingStopped(Exception):
    """The staging was told to stop (its ``stop`` said so)."""


def _relative(path: str) -> str:
    raw = decode_path(path).lstrip(b"/")
    return raw.decode("utf-8", "surrogateescape") or "."


def _info(entry: FileEntry, name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = entry.mode
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = "" if entry.user.isdigit() else entry.user
    info.gname = "" if entry.group.isdigit() else entry.group
    info.mtime = float(entry.mtime) if entry.mtime else 0.0
    if entry.mtime:  # the exact decimal find printed (ns), not a rounded float
        info.pax_headers = {"mtime": entry.mtime}
    return info


def ordered(entries: Iterable[FileEntry]) -> list[FileEntry]:
    """Parents before children, link targets before their hard links."""
    items = list(entries)
    return sorted(items, key=lambda e: (e.hardlink_to is not None, decode_path(e.path)))


def restore_tree(manifest: SnapshotManifest, blobs: BlobStore, transport: Transport, dest: str,
                 select: Callable[[FileEntry], bool] = lambda _e: True,
                 progress: Callable[[int], None] | None = None,
                 staged: StagedTree | None = None) -> RestoreResult:
    """Extract the selected entries of ``manifest`` under ``dest`` on the host: streamed
    from the store, or from ``staged``, the same selection's archive :func:`stage_tree`
    put on the host (removed once extracted)."""
    chosen = ordered(e for e in manifest.files if select(e))
    if staged is None:
        result = RestoreResult()
        status, errors = _extract(transport, dest, chosen, blobs, result, progress)
    else:
        result = RestoreResult(staged.result.files, staged.result.bytes,
                               list(staged.result.skipped))
        status, errors = _extract_staged(transport, dest, staged.path)
        if progress is not None:
            progress(result.bytes)
    refused = [line for line in errors if "mknod" in line.lower()]
    others = [line for line in errors if line not in refused]
    if refused and status == 2 and others in ([], errors[-1:]):  # the last: "Exiting with..."
        # a host may refuse mknod (a container): a warning, not a failed restore
        devices = sum(1 for e in chosen if e.kind in DEVICES)
        result.skipped.append(f"{transport.name}: {len(refused)} of {devices} device nodes "
                              f"not created: {refused[-1]}")
    elif status != 0:
        raise RemoteCommandError(f"{transport.name}: restoring into {dest} failed (exit "
                                 f"{status}): {errors[-1] if errors else 'no message'}",
                                 exit_status=status, stderr="\n".join(errors))
    sparse = [e for e in chosen if e.sparse and e.kind == "file" and not e.hardlink_to]
    if sparse:
        # digging holes touches the mtime: put the snapshot's back
        pairs = b"".join(dest.rstrip("/").encode() + decode_path(e.path) + b"\0" +
                         e.mtime.encode() + b"\0" for e in sparse)
        transport.run("xargs -0 -r -n 2 sh -c 'fallocate --dig-holes \"$1\" 2>/dev/null; "
                      "touch -m -d \"@$2\" \"$1\"' fill", input=pairs, timeout=300)
    if manifest.acls is not None:
        problem = _restore_acls(manifest, blobs, transport, dest, {e.path for e in chosen})
        if problem:
            result.skipped.append(problem)
    if manifest.xattrs is not None:
        from evacuate.snapshot.xattrs import restore_xattrs

        problem = restore_xattrs(blobs.read_blob(manifest.xattrs), transport, dest,
                                 {e.path for e in chosen})
        if problem:
            result.skipped.append(problem)
    return result


def _extract(transport: Transport, dest: str, entries: list[FileEntry], blobs: BlobStore,
             result: RestoreResult, progress: Callable[[int], None] | None,
             ) -> tuple[int, list[str]]:
    """Stream ``entries`` as one tar into the host's ``tar -x`` under ``dest``; return its
    exit status and complaints."""
    with transport.open_process(_tar_x(dest, "-")) as proc:
        failure: list[BaseException] = []
        done = threading.Event()

        def drain() -> None:  # tar says nothing on stdout, but never let it block
            try:
                while proc.stdout.read(65536):
                    pass
            except OSError as error:
                failure.append(error)
            done.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            write_archive(entries, blobs, proc.stdin, result, progress)
            proc.stdin.close()
        except OSError:
            pass  # tar stopped reading: its exit status and stderr tell why
        status = proc.wait(timeout=300)
        errors = proc.stderr_text().strip().splitlines()
    return status, errors


def stage_tree(manifest: SnapshotManifest, blobs: BlobStore, transport: Transport, path: str,
               select: Callable[[FileEntry], bool] = lambda _e: True,
               stop: Callable[[], bool] = lambda: False) -> StagedTree:
    """Write the tar stream :func:`restore_tree` would extract (the same selection) to
    ``path`` on the host (root only; ``path.part`` until complete), for a later
    ``restore_tree(..., staged=)``. Raise StagingStopped as soon as ``stop`` says so, or
    the transfer's error; either way nothing is left at ``path`` or ``path.part``."""
    began = time.monotonic()
    result = RestoreResult()
    quoted, part = shlex.quote(path), shlex.quote(f"{path}.part")
    command = (f"umask 077 && mkdir -p \"$(dirname -- {quoted})\" && cat > {part} && "
               f"mv -f {part} {quoted}")

    def checked(_count: int) -> None:
        if stop():
            raise StagingStopped(f"staging {path} stopped")

    try:
        with transport.open_process(command) as proc:
            try:
                write_archive(ordered(e for e in manifest.files if select(e)), blobs,
                              proc.stdin, result, checked)
                proc.stdin.close()
            except BaseException:
                proc.kill()
                raise
            status = proc.wait(timeout=300)
            if status != 0:
                raise RemoteCommandError(
                    f"{transport.name}: staging the files in {path} failed (exit {status}): "
                    f"{proc.stderr_text().strip()[-300:] or 'no message'}", exit_status=status)
    except BaseException:
        transport.run(["rm", "-f", path, f"{path}.part"], timeout=60)
        raise
    return StagedTree(path, result, time.monotonic() - began)


def _extract_staged(transport: Transport, dest: str, path: str) -> tuple[int, list[str]]:
    """Extract the staged archive ``path`` under ``dest`` and remove it (also on failure)."""
    command = f"{_tar_x(dest, path)}; status=$?; rm -f {shlex.quote(path)}; exit $status"
    done = transport.run(["sh", "-c", command], timeout=3600)
    return done.exit_status, done.error_text.strip().splitlines()


def _restore_acls(manifest: SnapshotManifest, blobs: BlobStore, transport: Transport,
                  dest: str, chosen: set[str]) -> str | None:
    """Apply the snapshot's ACLs to the restored entries (paths moved under ``dest``);
    return a one-line problem when the host could not apply them (no setfacl, unknown
    user names), None when they are in place."""
    assert manifest.acls is not None
    prefix = dest.rstrip("/").encode()
    kept: list[bytes] = []
    for block in blobs.read_blob(manifest.acls).split(b"\n\n"):
        lines = block.strip(b"\n").split(b"\n")
        if not lines or not lines[0].startswith(b"# file: "):
            continue
        path = lines[0][len(b"# file: "):]
        if path.decode("utf-8", "surrogateescape") not in chosen:
            continue
        rules = [line for line in lines[1:] if not line.startswith((b"# owner:", b"# group:"))]
        kept.append(b"\n".join([b"# file: " + prefix + path, *rules]) + b"\n")
    if not kept:
        return None
    result = transport.run("command -v setfacl >/dev/null || exit 127; setfacl --restore=-",
                           input=b"\n".join(kept), timeout=900)
    if result.exit_status == 127:
        return f"{transport.name}: setfacl is not installed: {len(kept)} ACLs not restored"
    if not result.ok:
        last = (result.error_text.strip().splitlines() or ["?"])[-1]
        return f"{transport.name}: some ACLs were not restored: {last}"
    return None


def write_archive(entries: list[FileEntry], blobs: BlobStore, stream: IO[bytes],
                  result: RestoreResult, progress: Callable[[int], None] | None = None) -> None:
    """Write ``entries`` (in restore order) as a PAX tar stream to ``stream``, the small
    files' contents read ahead (see snapshot.readahead)."""
    contents = [e.blob for e in entries
                if e.kind == "file" and e.hardlink_to is None and e.blob is not None]
    with ReadAhead(blobs, contents) as ahead, \
            tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT,
                         encoding="utf-8", errors="surrogateescape") as archive:
        for entry in entries:
            _add(archive, entry, ahead, result, progress)


def _add(archive: tarfile.TarFile, entry: FileEntry, ahead: ReadAhead, result: RestoreResult,
         progress: Callable[[int], None] | None) -> None:
    name = _relative(entry.path)
    info = _info(entry, name)
    if entry.hardlink_to is not None:
        info.type = tarfile.LNKTYPE
        info.linkname = _relative(entry.hardlink_to)
        archive.addfile(info)
        return
    if entry.kind == "file":
        if entry.blob is None:
            result.skipped.append(f"{entry.path}: no content in the snapshot")
            return
        info.size = entry.blob.size
        with ahead.take(entry.blob) as content:
            archive.addfile(info, CountingReader(content, progress))
        result.files += 1
        result.bytes += entry.blob.size
        return
    kind = TYPES.get(entry.kind)
    if kind is None:
        result.skipped.append(f"{entry.path}: {entry.kind} not restored")
        return
    info.type = kind
    if entry.kind in DEVICES:
        if entry.rdev is None:
            result.skipped.append(f"{entry.path}: {entry.kind} device without its numbers")
            return
        major, _, minor = entry.rdev.partition(":")
        info.devmajor, info.devminor = int(major), int(minor)
    if entry.kind == "symlink":
        info.linkname = decode_path(entry.link_target or "").decode("utf-8", "surrogateescape")
    archive.addfile(info)
