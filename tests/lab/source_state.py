"""The state of a lab host's whole file system, to prove that evacuate changed nothing on
it: every entry on a real file system by content (sha256 of regular files), metadata (type,
mode, uid, gid, size, mtime, link target) and ctime, read in one streamed pass of
``source_state.sh`` (find and sha256sum, read-only). Virtual file systems (proc, sysfs,
devtmpfs, devpts, tmpfs, cgroup, ...) are not read. Set aside is only what the host writes
on its own, named with the reason in :data:`SET_ASIDE`; and what the host's own cron jobs
write (:data:`OWN_JOBS`), only when its journal says the job ran between the two states.

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

OWN_JOBS: Mapping[str, tuple[str, str]] = {
    "/usr/local/sbin/backup-db.sh": (
        "/var/backups/shop.dump", "the seed's nightly local dump (root's crontab, 03:17 local "
                                  "time): a test that spans it sees the source write it"),
    "/home/alice/bin/sync-reports.sh": (
        "/home/alice/reports", "alice's nightly copy of the reports (her crontab, 04:45)"),
}
"""A cron command of the lab's hosts → the path it writes (and why it runs). What a job
wrote is excused only when the journal shows its ``CMD`` between the two states: that
path and everything in it, and of its parent directories the times alone."""

CRON_RUNS = ("command -v journalctl >/dev/null || exit 0; "
             "journalctl -q --no-pager -t CRON -o short-unix | grep ' CMD (' || true")

MARKER = b"--sha256--"


class FileSystemState(dict[bytes, "Entry"]):
    """Path → entry, and the cron commands the host's journal had recorded by then (one
    line each, time stamp first) so that two states tell which jobs ran between them."""

    cron_runs: frozenset[str] = frozenset()


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
                      timeout: float = 900) -> FileSystemState:
    """Path → entry for the whole file system of the host behind ``transport`` (root)."""
    runs = transport.run(CRON_RUNS, timeout=120, check=True).stdout.decode(
        "utf-8", "replace").splitlines()
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
    state = FileSystemState({path: replace(e, sha256=hashes.get(path, "")) if e.kind == "f"
                             else e for path, e in meta.items()})
    state.cron_runs = frozenset(runs)
    return state


def jobs_between(before: Mapping[bytes, Entry], after: Mapping[bytes, Entry]) -> list[str]:
    """The paths that the :data:`OWN_JOBS` which ran between the two states write."""
    ran = (getattr(after, "cron_runs", frozenset())
           - getattr(before, "cron_runs", frozenset()))
    return sorted(path for command, (path, _why) in OWN_JOBS.items()
                  if any(line.endswith(f" CMD ({command})") for line in ran))


def _excused(path: bytes, differ: set[str], written: Iterable[str]) -> bool:
    for job_path in written:
        target = job_path.encode()
        if path == target or path.startswith(target + b"/"):
            return True
        if (target.startswith(path.rstrip(b"/") + b"/") and differ
                and differ <= {"mtime", "ctime"}):
            return True
    return False


def changes(before: Mapping[bytes, Entry], after: Mapping[bytes, Entry]) -> list[str]:
    """What differs, one line per path: added, removed, or the fields that changed (less
    what the host's own jobs that ran in between wrote, see :data:`OWN_JOBS`)."""
    lines = []
    written = jobs_between(before, after)
    for path in sorted(before.keys() | after.keys()):
        name = path.decode("utf-8", "surrogateescape")
        old, new = before.get(path), after.get(path)
        differ = ({f.name for f in fields(Entry) if getattr(old, f.name) != getattr(new, f.name)}
                  if old is not None and new is not None else set())
        if written and _excused(path, differ, written):
            continue
        if old is None:
            lines.append(f"added {name}")
        elif new is None:
            lines.append(f"removed {name}")
        elif differ:
            said = [f"{f.name} {getattr(old, f.name)!r} -> {getattr(new, f.name)!r}"
                    for f in fields(Entry) if f.name in differ]
            lines.append(f"changed {name}: {', '.join(said)}")
    return lines
