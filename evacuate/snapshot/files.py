"""Snapshot of file trees: scan the host, then stream only new or changed files as one tar
stream into content-addressed blobs. Unchanged files (same size, mtime, ctime and inode as
in the previous snapshot) are neither transferred nor stored again.

Nothing is installed or written on the host: it runs ``find`` and ``tar`` (GNU), both
read-only. Hard links are sent once and recorded as links; sparse files are read with
``tar --sparse`` so holes are not sent as zeros.
"""

from __future__ import annotations

import os
import tarfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from evacuate.errors import RemoteCommandError
from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.scan import ScannedEntry, encode_path, parse_scan, scan_command
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.streams import CountingReader
from evacuate.transport.base import Transport

BytesProgress = Callable[[int], None]
TAR_COMMAND = ["tar", "--null", "--verbatim-files-from", "--no-recursion", "--sparse",
               "--ignore-failed-read", "--warning=no-file-changed", "-C", "/", "-cf", "-",
               "-T", "-"]
MAX_WARNINGS = 200


@dataclass
class TreeResult:
    entries: list[FileEntry]
    transferred_bytes: int = 0
    reused_files: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


def _unchanged(previous: FileEntry | None, scanned: ScannedEntry) -> bool:
    return (previous is not None and previous.kind == "file" and previous.blob is not None
            and previous.hardlink_to is None and previous.size == scanned.size
            and previous.mtime == scanned.mtime and previous.ctime == scanned.ctime
            and previous.inode == scanned.inode)


def _entry(scanned: ScannedEntry, **extra: object) -> FileEntry:
    return FileEntry(
        path=scanned.name, kind=scanned.kind, mode=scanned.mode, uid=scanned.uid,
        gid=scanned.gid, user=scanned.user, group=scanned.group, mtime=scanned.mtime,
        size=scanned.size if scanned.kind == "file" else 0, ctime=scanned.ctime,
        inode=scanned.inode, sparse=scanned.sparse,
        link_target=encode_path(scanned.link_target) if scanned.link_target is not None else None,
        **extra)  # type: ignore[arg-type]


def scan_tree(transport: Transport, roots: Sequence[str], excludes: Iterable[str],
              timeout: float = 900) -> tuple[list[ScannedEntry], list[str]]:
    """List every entry under ``roots`` on the host; return them and find's complaints
    (files vanishing or unreadable while listed are warnings, not failures)."""
    result = transport.run(scan_command(roots, excludes), timeout=timeout)
    complaints = [line for line in result.error_text.splitlines() if line.strip()]
    if result.exit_status not in (0, 1) or (result.exit_status == 1 and not result.stdout):
        raise RemoteCommandError(
            f"{transport.name}: listing {', '.join(roots)} failed (exit {result.exit_status}): "
            f"{complaints[-1] if complaints else 'no output'}", exit_status=result.exit_status)
    try:
        return list(parse_scan(result.stdout)), complaints
    except ValueError as bad:
        raise RemoteCommandError(f"{transport.name}: unreadable file listing: {bad}") from None


def snapshot_tree(transport: Transport, blobs: BlobStore, roots: Sequence[str],
                  excludes: Iterable[str], previous: dict[str, FileEntry] | None = None,
                  progress: BytesProgress | None = None) -> TreeResult:
    """Snapshot ``roots`` on the host into ``blobs``; ``previous`` (path → entry of the last
    snapshot) makes it incremental. Return the entries for the manifest."""
    scanned, complaints = scan_tree(transport, roots, excludes)
    result = TreeResult(entries=[])
    for complaint in complaints:
        result.warn(f"{transport.name}: {complaint}")
    previous = previous or {}
    first_of_inode: dict[str, str] = {}
    pending: dict[bytes, ScannedEntry] = {}
    slots: dict[bytes, int] = {}
    for item in scanned:
        if item.kind in ("socket", "block", "char"):
            result.warn(f"{item.name}: {item.kind} skipped (not data; recreated by its service)")
            continue
        if item.kind == "file" and item.nlink > 1:
            first = first_of_inode.get(item.inode)
            if first is not None:
                result.entries.append(_entry(item, hardlink_to=first))
                continue
            first_of_inode[item.inode] = item.name
        if item.kind == "file":
            before = previous.get(item.name)
            if _unchanged(before, item):
                assert before is not None
                result.entries.append(_entry(item, blob=before.blob))
                result.reused_files += 1
                continue
            slots[item.path] = len(result.entries)
            pending[item.path] = item
        result.entries.append(_entry(item))
    if pending:
        _fetch(transport, blobs, pending, slots, result, progress)
    return result


def _fetch(transport: Transport, blobs: BlobStore, pending: dict[bytes, ScannedEntry],
           slots: dict[bytes, int], result: TreeResult, progress: BytesProgress | None) -> None:
    """Stream the pending files as one tar and store each as a blob."""
    names = b"".join(path.lstrip(b"/") + b"\0" for path in pending)
    with transport.open_process(TAR_COMMAND) as proc:
        writer_error: list[BaseException] = []

        def feed() -> None:
            try:
                proc.stdin.write(names)
                proc.stdin.close()
            except (OSError, EOFError) as error:  # tar died: its exit status tells why
                writer_error.append(error)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:  # an empty stream (every file vanished) is no archive at all: checked below
            archive = tarfile.open(fileobj=proc.stdout, mode="r|")  # noqa: SIM115
        except tarfile.ReadError:
            archive = None
        if archive is not None:
            try:
                with archive:
                    _ingest(archive, blobs, pending, slots, result, progress)
            except (tarfile.ReadError, EOFError) as cut:
                raise RemoteCommandError(f"{transport.name}: the file stream ended early "
                                         f"({cut}); nothing was committed") from None
        writer.join()
        status = proc.wait(timeout=60)
        errors = proc.stderr_text().strip().splitlines()
    if status not in (0, 1):
        raise RemoteCommandError(f"{transport.name}: tar failed (exit {status}): "
                                 f"{errors[-1] if errors else 'no message'}", exit_status=status)
    for line in errors:
        result.warn(f"{transport.name}: {line}")
    vanished = {slots[path] for path in pending}  # gone between the listing and the read
    for item in pending.values():
        result.warn(f"{item.name}: vanished during the snapshot; not in this snapshot")
    if vanished:
        gone = {result.entries[i].path for i in vanished}
        result.entries = [e for i, e in enumerate(result.entries)
                          if i not in vanished and e.hardlink_to not in gone]


def _ingest(archive: tarfile.TarFile, blobs: BlobStore, pending: dict[bytes, ScannedEntry],
            slots: dict[bytes, int], result: TreeResult, progress: BytesProgress | None) -> None:
    for member in archive:
        raw = b"/" + os.fsencode(member.name)
        item = pending.pop(raw, None)
        if item is None or not member.isfile():
            result.warn(f"{encode_path(raw)}: changed type during the snapshot; skipped")
            continue
        reader = archive.extractfile(member)
        assert reader is not None
        counting = CountingReader(reader, progress)
        ref = blobs.put_stream(counting)  # type: ignore[arg-type]
        result.transferred_bytes += counting.count
        slot = slots[raw]
        if member.size != item.size:
            result.warn(f"{item.name}: changed while it was read ({item.size} → "
                        f"{member.size} bytes); the copy is what was read")
        result.entries[slot] = replace(result.entries[slot], blob=ref, size=member.size)
