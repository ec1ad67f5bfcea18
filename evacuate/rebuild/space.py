"""Disk space on the target: checked per file system before data is written, and named
when it runs out.

The trees a rebuild restores may land on different file systems of the target (``/srv``
on its own small disk, ``/`` for the rest): the bytes each tree needs are summed per
mount point, found with one ``df -P -k`` over the trees' nearest existing directories.
The target's own mount points count as trees too: a snapshot carried by exclusion has the
one root ``/``, and what lands on the target's ``/srv`` must still be summed for ``/srv``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from evacuate.errors import EvacuateError
from evacuate.snapshot.manifest import FileEntry
from evacuate.transport.base import Transport

MARGIN = 1.1  # 10% for directories, metadata and the file system's own needs
HINT = "free space (or grow the disk) and run 'evacuate run --resume'"

# Filesystem, 1024-blocks, Used, Available, Capacity, Mounted on (POSIX format: one line each;
# the device name and the mount point may hold spaces, the four numbers never do)
_DF_LINE = re.compile(r"^(?P<device>.*?)\s+(?P<blocks>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+"
                      r"(?P<capacity>\d+%|-)\s+(?P<mount>/.*)$")
# For each argument, the nearest directory that exists, then one df over all of them.
_DF_NEAREST = (resources.files("evacuate.rebuild") / "sh" / "df_nearest.sh").read_text(
    encoding="utf-8")


class NotEnoughSpace(EvacuateError):
    """The target cannot hold what must be restored."""


@dataclass(frozen=True)
class Mount:
    """The file system holding a path: its mount point and the bytes still available."""

    mount_point: str
    available: int


def parse_df(df_output: str) -> list[Mount]:
    """The mounts of ``df -P -k PATH...`` output, one per PATH in order (the header and
    lines that are not df rows are skipped)."""
    mounts = []
    for line in df_output.splitlines():
        row = _DF_LINE.match(line.rstrip())
        if row:
            mounts.append(Mount(row["mount"], int(row["avail"]) * 1024))
    return mounts


def mounts_of(target: Transport, paths: Iterable[str]) -> dict[str, Mount]:
    """The mount each of ``paths`` lands on, asked in one round trip; empty when df cannot
    tell (no df, an odd output): the space is then not checked."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    result = target.run(["sh", "-c", _DF_NEAREST, "df-nearest", *wanted], timeout=60)
    mounts = parse_df(result.text) if result.ok else []
    return dict(zip(wanted, mounts, strict=True)) if len(mounts) == len(wanted) else {}


_OCTAL = re.compile(r"\\([0-7]{3})")


def parse_mount_points(mounts_text: str) -> list[str]:
    """The mount points of a ``/proc/self/mounts`` text (space, tab, newline and backslash
    in them are octal escapes there), in order, once each."""
    points = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].startswith("/"):
            points.append(_OCTAL.sub(lambda m: chr(int(m[1], 8)), fields[1]))
    return list(dict.fromkeys(points))


def mount_points(target: Transport) -> list[str]:
    """The target's mount points ([] when it cannot tell: the trees are then summed by
    themselves alone)."""
    result = target.run(["cat", "/proc/self/mounts"], timeout=60)
    return parse_mount_points(result.text) if result.ok else []


def needed_by_root(entries: Iterable[FileEntry], roots: Iterable[str]) -> dict[str, int]:
    """The bytes the regular files among ``entries`` take, summed by the longest of
    ``roots`` each lies under (by its parent directory when under none). A sparse file
    counts in full: the restore writes it whole and digs its holes afterwards."""
    ordered = sorted({r.rstrip("/") or "/" for r in roots}, key=len, reverse=True)
    needed: dict[str, int] = {}
    for entry in entries:
        if entry.kind != "file" or entry.hardlink_to:
            continue
        path = entry.path
        root = next((r for r in ordered if path == r or path.startswith(r.rstrip("/") + "/")),
                    path.rsplit("/", 1)[0] or "/")
        needed[root] = needed.get(root, 0) + entry.size
    return needed


def _mib(amount: float) -> str:
    return f"{amount / 2**20:.1f} MiB" if amount < 10 * 2**20 else f"{amount / 2**20:.0f} MiB"


def _per_mount(needed: Mapping[str, int], mounts: Mapping[str, Mount]) -> dict[str, list[int]]:
    """Mount point → [bytes needed with the margin, bytes available]."""
    totals: dict[str, list[int]] = {}
    for path, amount in needed.items():
        mount = mounts.get(path)
        if mount is not None:
            entry = totals.setdefault(mount.mount_point, [0, mount.available])
            entry[0] += int(amount * MARGIN)
    return totals


def _named(target: Transport, label: str | None) -> str:
    """The target as the operator calls it (its label in the plan) and as reached."""
    return f"{label} ({target.name})" if label and label != target.name else target.name


def check_space(target: Transport, needed: Mapping[str, int], what: str, *,
                label: str | None = None) -> None:
    """Given the bytes ``needed`` under each path, raise NotEnoughSpace naming the target
    (``label`` and its address), the mount point and the sizes when a file system of the
    target cannot hold what lands on it (plus a margin). Nothing is checked where df
    cannot tell."""
    totals = _per_mount(needed, mounts_of(target, needed))
    short = [f"{mount}: needs about {_mib(need)}, {_mib(free)} free"
             for mount, (need, free) in totals.items() if free < need]
    if short:
        raise NotEnoughSpace(f"{_named(target, label)}: not enough disk space for {what} on "
                             f"{'; '.join(short)}", hint=HINT)


def explain_no_space(target: Transport, error: EvacuateError, needed: Mapping[str, int], *,
                     label: str | None = None) -> EvacuateError:
    """Turn a 'No space left on device' failure into NotEnoughSpace naming each mount point
    written to with what it needs and has free now; return any other error unchanged."""
    text = f"{error} {getattr(error, 'stderr', '')}"
    if "No space left on device" not in text:
        return error
    totals = _per_mount(needed, mounts_of(target, needed))
    sizes = "; ".join(f"{mount}: needs about {_mib(need)}, {_mib(free)} free"
                      for mount, (need, free) in totals.items())
    where = f" on {sizes}" if sizes else f": needs about {_mib(sum(needed.values()) * MARGIN)}"
    return NotEnoughSpace(f"{_named(target, label)}: ran out of disk space restoring files{where}",
                          hint=HINT)
