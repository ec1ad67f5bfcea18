"""Snapshot of file trees: scan the host, then stream only new or changed files as one tar
stream into content-addressed blobs. Unchanged files (same size, mtime, ctime and inode as
in the previous snapshot) are neither transferred nor stored again.

Nothing is installed or written on the host: it runs ``find``, ``stat`` and ``tar`` (GNU),
all read-only. Hard links are sent once and recorded as links; sparse files are read with
``tar --sparse`` so holes are not sent as zeros; device nodes are recorded with their
numbers (no content).

A live tree changes while it is read. After the stream every file read is listed again:
one whose size, mtime, ctime or inode differs from the listing it was read under may have
been copied half-old, half-new (or padded with zeros by tar when it shrank), so it is read
again under its new listing, up to ``READ_ATTEMPTS`` times, and then left out with a
warning naming it. A file that vanished is left out with a warning. What the manifest
records is therefore always a copy of one state of the file, with its size and sha256.
"""

from __future__ import annotations

import os
import tarfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields

from evacuate.errors import RemoteCommandError
from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.scan import (
    DEVICE_COMMAND,
    SCAN_COMPLAINED,
    ScannedEntry,
    encode_path,
    parse_devices,
    parse_scan,
    restat_command,
    scan_command,
    stream_scan,
)
from evacuate.snapshot.store import BlobRef, BlobStore
from evacuate.snapshot.streams import CountingReader
from evacuate.transport.base import RemoteProcess, Transport

BytesProgress = Callable[[int], None]
TAR_COMMAND = ["tar", "--null", "--verbatim-files-from", "--no-recursion", "--sparse",
               "--ignore-failed-read", "--warning=no-file-changed", "-C", "/", "-cf", "-",
               "-T", "-"]
MAX_WARNINGS = 200
READ_ATTEMPTS = 3
HANDLED = ("Cannot stat: No such file or directory", "File shrank by",
           "Exiting with failure status due to previous errors")


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


_ENTRY_DEFAULTS = {f.name: f.default for f in fields(FileEntry) if f.default is not MISSING}
_new = object.__new__
_ENTRY_FIELDS = frozenset(f.name for f in fields(FileEntry))


def _entry(scanned: ScannedEntry, **extra: object) -> FileEntry:
    """The manifest entry of ``scanned``: FileEntry(...) with these fields, made without
    the frozen dataclass's per-field setattr (millions of entries; no __post_init__)."""
    entry = _new(FileEntry)
    values = entry.__dict__
    values.update(_ENTRY_DEFAULTS)
    values.update({
        "path": scanned.name, "kind": scanned.kind, "mode": scanned.mode, "uid": scanned.uid,
        "gid": scanned.gid, "user": scanned.user, "group": scanned.group,
        "mtime": scanned.mtime, "size": scanned.size if scanned.kind == "file" else 0,
        "ctime": scanned.ctime, "inode": scanned.inode, "sparse": scanned.sparse,
        "link_target": (encode_path(scanned.link_target)
                        if scanned.link_target is not None else None)})
    if extra:
        unknown = set(extra) - set(_ENTRY_FIELDS)
        if unknown:
            raise TypeError(f"FileEntry has no field {sorted(unknown)}")
        values.update(extra)
    return entry


def scan_tree(transport: Transport, roots: Sequence[str], excludes: Iterable[str],
              timeout: float = 900, choose: Callable[[ScannedEntry], bool] | None = None,
              on_parent: Callable[[ScannedEntry], None] | None = None,
              ) -> tuple[list[ScannedEntry], list[str]]:
    """List every entry under ``roots`` on the host, streamed (records are parsed as they
    arrive); keep those ``choose`` accepts (all without it), and with ``on_parent`` (told
    of each) the directories above them that it did not. Return them and find's
    complaints (files vanishing or unreadable while listed are warnings, not failures)."""
    with transport.open_process(scan_command(roots, excludes)) as proc:
        proc.stdin.close()
        try:
            kept, seen = select_scanned(stream_scan(proc.stdout), choose, on_parent)
        except ValueError as bad:
            raise RemoteCommandError(f"{transport.name}: unreadable file listing: {bad}") from None
        status = proc.wait(timeout=timeout)
        complaints = [line for line in proc.stderr_text().splitlines() if line.strip()]
    if status == SCAN_COMPLAINED:
        status = 1
    if status not in (0, 1) or (status == 1 and not seen):
        raise RemoteCommandError(
            f"{transport.name}: listing {', '.join(roots)} failed (exit {status}): "
            f"{complaints[-1] if complaints else 'no output'}", exit_status=status)
    return kept, complaints


def select_scanned(entries: Iterable[ScannedEntry],
                   choose: Callable[[ScannedEntry], bool] | None = None,
                   on_parent: Callable[[ScannedEntry], None] | None = None,
                   ) -> tuple[list[ScannedEntry], int]:
    """The entries ``choose`` keeps (all without it), each preceded by the directories above
    it that it did not keep (``on_parent`` is told of those); and how many there were."""
    kept: list[ScannedEntry] = []
    seen = 0
    # the directories above the current entry that were not kept: find lists depth first,
    # so a kept entry's ancestors are here, and are kept with it (their mode and owner)
    above: list[tuple[ScannedEntry, bool]] = []
    for entry in entries:
        seen += 1
        if choose is None:
            kept.append(entry)
            continue
        while above and not _is_below(entry.path, above[-1][0].path):
            above.pop()
        keep = choose(entry)
        if keep:
            for index, (parent, done) in enumerate(above):
                if not done:
                    above[index] = (parent, True)
                    if parent.path != b"/" and on_parent is not None:
                        on_parent(parent)
                        kept.append(parent)
            kept.append(entry)
        if entry.kind == "dir":
            above.append((entry, keep))
    return kept, seen


def _is_below(path: bytes, directory: bytes) -> bool:
    return directory == b"/" or path.startswith(directory + b"/")


def snapshot_tree(transport: Transport, blobs: BlobStore, roots: Sequence[str],
                  excludes: Iterable[str], previous: dict[str, FileEntry] | None = None,
                  progress: BytesProgress | None = None,
                  choose: Callable[[ScannedEntry], bool] | None = None,
                  on_parent: Callable[[ScannedEntry], None] | None = None) -> TreeResult:
    """Snapshot ``roots`` on the host into ``blobs``; ``previous`` (path → entry of the last
    snapshot) makes it incremental; ``choose`` decides which listed entries are carried.
    Return the entries for the manifest."""
    scanned, complaints = scan_tree(transport, roots, excludes, choose=choose,
                                    on_parent=on_parent)
    result = TreeResult(entries=[])
    for complaint in complaints:
        result.warn(f"{transport.name}: {complaint}")
    previous = previous or {}
    first_of_inode: dict[str, str] = {}
    pending: dict[bytes, ScannedEntry] = {}
    slots: dict[bytes, int] = {}
    devices = _device_numbers(transport, [i.path for i in scanned if i.kind in ("block", "char")])
    for item in scanned:
        if item.kind == "socket":
            result.warn(f"{item.name}: socket skipped (not data; recreated by its service)")
            continue
        if item.kind in ("block", "char"):
            if item.path not in devices:
                result.warn(f"{item.name}: {item.kind} device vanished during the snapshot")
                continue
            result.entries.append(_entry(item, rdev=devices[item.path]))
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
    dropped: set[int] = set()
    for attempt in range(1, READ_ATTEMPTS + 1):
        if not pending:
            break
        pending = _read_once(transport, blobs, pending, slots, result, dropped, progress,
                             last=attempt == READ_ATTEMPTS)
    if dropped:
        gone = {result.entries[i].path for i in dropped}
        result.entries = [e for i, e in enumerate(result.entries)
                          if i not in dropped and e.hardlink_to not in gone]
    return result


def _device_numbers(transport: Transport, paths: list[bytes]) -> dict[bytes, str]:
    if not paths:
        return {}
    listed = transport.run(DEVICE_COMMAND, input=b"".join(p + b"\0" for p in paths), timeout=300)
    return parse_devices(listed.stdout)


def _same(a: ScannedEntry, b: ScannedEntry) -> bool:
    return (a.kind, a.size, a.mtime, a.ctime, a.inode) == (b.kind, b.size, b.mtime, b.ctime,
                                                           b.inode)


def _read_once(transport: Transport, blobs: BlobStore, pending: dict[bytes, ScannedEntry],
               slots: dict[bytes, int], result: TreeResult, dropped: set[int],
               progress: BytesProgress | None, *, last: bool) -> dict[bytes, ScannedEntry]:
    """Read the pending files once; record those that stayed as listed while read, drop the
    vanished ones, and return the changed ones (under their new listing) to read again."""
    status, errors, got = _stream(transport, blobs, pending, progress)
    result.transferred_bytes += sum(count for _, count in got.values())
    listed = transport.run(restat_command(), input=b"".join(p + b"\0" for p in pending),
                           timeout=900)
    try:
        now = {e.path: e for e in parse_scan(listed.stdout)}
    except ValueError as bad:
        raise RemoteCommandError(f"{transport.name}: unreadable file listing: {bad}") from None
    again: dict[bytes, ScannedEntry] = {}
    unread: list[bytes] = []
    for path, item in pending.items():
        slot, current = slots[path], now.get(path)
        read = got.get(path)
        if current is None or current.kind != "file":
            what = "vanished" if current is None else f"became a {current.kind}"
            result.warn(f"{item.name}: {what} during the snapshot; not in this snapshot")
            dropped.add(slot)
        elif read is not None and _same(item, current) and read[1] == item.size:
            result.entries[slot] = _entry(item, blob=read[0])
        elif read is None and _same(item, current):
            unread.append(path)
        elif last:
            result.warn(f"{item.name}: kept changing while it was read; not in this snapshot")
            dropped.add(slot)
        else:
            again[path] = current
            result.entries[slot] = _entry(current)
    if unread and status not in (0, 1):
        raise RemoteCommandError(f"{transport.name}: tar failed (exit {status}): "
                                 f"{errors[-1] if errors else 'no message'}", exit_status=status)
    reasons = _tar_reasons(errors)
    for path in unread:
        why = reasons.get(path.lstrip(b"/"), "")
        result.warn(f"{pending[path].name}: could not be read{': ' + why if why else ''}; "
                    "not in this snapshot")
        dropped.add(slots[path])
    for line in errors:  # what the listing after the stream explained is said above
        if not any(known in line for known in HANDLED):
            result.warn(f"{transport.name}: {line}")
    return again


def _tar_reasons(errors: list[str]) -> dict[bytes, str]:
    """tar's complaints (``tar: srv/x: Cannot open: Permission denied``) by path."""
    reasons = {}
    for line in errors:
        head, sep, why = line.rpartition(": Cannot ")
        if sep and head.startswith("tar: "):
            reasons[os.fsencode(head[5:])] = "cannot " + why
    return reasons


def _stream(transport: Transport, blobs: BlobStore, pending: dict[bytes, ScannedEntry],
            progress: BytesProgress | None,
            ) -> tuple[int, list[str], dict[bytes, tuple[BlobRef, int]]]:
    """Stream the pending files as one tar and store each as a blob; return tar's exit
    status and complaints, and path → (blob, bytes read) of each regular file it sent."""
    names = b"".join(path.lstrip(b"/") + b"\0" for path in pending)
    got: dict[bytes, tuple[BlobRef, int]] = {}
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
        try:  # an empty stream (every file vanished) is no archive at all
            archive = tarfile.open(fileobj=proc.stdout, mode="r|")  # noqa: SIM115
        except tarfile.ReadError:
            archive = None
        if archive is not None:
            try:
                with archive:
                    _ingest(archive, blobs, pending, got, progress)
            except (tarfile.ReadError, EOFError) as cut:
                raise RemoteCommandError(f"{transport.name}: the file stream ended early "
                                         f"({_why_cut(proc, cut)}); nothing was committed"
                                         ) from None
        writer.join()
        status = proc.wait(timeout=60)
        errors = proc.stderr_text().strip().splitlines()
    return status, errors, got


def _why_cut(proc: RemoteProcess, cut: BaseException) -> str:
    """Why tar's stream stopped: its exit status and last complaint when it ended (the
    connection's end otherwise), else what the reader saw."""
    try:
        status: int | str = proc.wait(timeout=10)
    except Exception:  # still running, or the connection is gone
        status = "unknown"
    last = (proc.stderr_text().strip().splitlines() or [""])[-1][:200]
    said = str(cut) or type(cut).__name__
    return f"tar exit status {status}{': ' + last if last else ''}; {said}"


def _ingest(archive: tarfile.TarFile, blobs: BlobStore, pending: dict[bytes, ScannedEntry],
            got: dict[bytes, tuple[BlobRef, int]], progress: BytesProgress | None) -> None:
    for member in archive:
        raw = b"/" + os.fsencode(member.name)
        if raw not in pending or not member.isfile():
            continue  # changed type: the listing after the stream tells
        reader = archive.extractfile(member)
        assert reader is not None
        counting = CountingReader(reader, progress)
        ref = blobs.put_stream(counting)  # type: ignore[arg-type]
        got[raw] = (ref, counting.count)
