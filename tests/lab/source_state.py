"""The state of a lab host's whole file system, to prove that evacuate changed nothing on
it: every entry on a real file system by content (sha256 of regular files), metadata (type,
mode, uid, gid, size, mtime, link target) and ctime, read in one streamed pass of
``source_state.sh`` (find and sha256sum, read-only). Virtual file systems (proc, sysfs,
devtmpfs, devpts, tmpfs, cgroup, ...) are not read. Set aside is only what the host writes
on its own, named with the reason in :data:`SET_ASIDE`.

    before = file_system_state(transport)
    ...                                   # inventory, snapshot, plan, run
    assert changes(before, file_system_state(transport)) == []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from evacuate.transport import Transport

SCRIPT = Path(__file__).with_name("source_state.sh")

SET_ASIDE: Mapping[str, str] = {
    "/var/lib/postgresql": "PostgreSQL's data directory: the running server writes it on its "
                           "own (checkpoints, statistics); evacuate only reads through SQL",
    "/var/lib/mysql": "MariaDB's data directory: the running server writes it on its own "
                      "(InnoDB redo log, statistics); evacuate only reads through SQL",
    "/var/log": "logs: sshd, PAM and the journal record each of evacuate's logins",
    "/var/lib/systemd/timers": "the stamps of the OS's own timers, rewritten when one fires",
    "/var/lib/logrotate": "logrotate's status file, rewritten by its daily run",
    "/var/lib/apt/periodic": "apt's daily stamps, rewritten by apt-daily",
}
"""Directories not compared (neither they nor anything in them), and why."""

MARKER = b"--sha256--"


@dataclass(frozen=True)
class Entry:
    """One file system entry as ``find -printf`` and ``sha256sum`` see it."""

    kind: str
    mode: str
    uid: str
    gid: str
    size: str
    mtime: str
    ctime: str
    link: bytes
    sha256: str = ""


def file_system_state(transport: Transport, set_aside: Iterable[str] = SET_ASIDE,
                      timeout: float = 900) -> dict[bytes, Entry]:
    """Path → entry for the whole file system of the host behind ``transport`` (root)."""
    meta: dict[bytes, Entry] = {}
    hashes: dict[bytes, str] = {}
    fields_: list[bytes] = []
    hashing = False
    pending = b""
    with transport.open_process(["sh", "-c", SCRIPT.read_text(), "source_state",
                                 *set_aside]) as proc:
        proc.stdin.close()
        while chunk := proc.stdout.read(1 << 20):
            *items, pending = (pending + chunk).split(b"\0")
            for item in items:
                if hashing:
                    digest, _, path = item.partition(b"  ")
                    hashes[path] = digest.decode()
                elif item == MARKER and not fields_:
                    hashing = True
                else:
                    fields_.append(item)
                    if len(fields_) == 3:
                        stat, path, link = fields_
                        kind, mode, uid, gid, size, mtime, ctime = stat.decode().split("|")
                        meta[path] = Entry(kind, mode, uid, gid, size, mtime, ctime, link)
                        fields_ = []
        status = proc.wait(timeout=timeout)
        assert status == 0 and not pending and hashing, (status, proc.stderr_text()[-2000:])
    return {path: replace(e, sha256=hashes.get(path, "")) if e.kind == "f" else e
            for path, e in meta.items()}


def changes(before: Mapping[bytes, Entry], after: Mapping[bytes, Entry]) -> list[str]:
    """What differs, one line per path: added, removed, or the fields that changed."""
    lines = []
    for path in sorted(before.keys() | after.keys()):
        name = path.decode("utf-8", "surrogateescape")
        old, new = before.get(path), after.get(path)
        if old is None:
            lines.append(f"added {name}")
        elif new is None:
            lines.append(f"removed {name}")
        elif old != new:
            differ = [f"{f.name} {getattr(old, f.name)!r} -> {getattr(new, f.name)!r}"
                      for f in fields(Entry) if getattr(old, f.name) != getattr(new, f.name)]
            lines.append(f"changed {name}: {', '.join(differ)}")
    return lines
