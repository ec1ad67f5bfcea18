"""Package files whose mode or owner the admin changed: found by ctime, carried as metadata.

dpkg records a package file's content (md5sums) but not the mode and owner it installed, so
a ``chmod 0640`` or ``chown root:ssl-cert`` on a package's file is invisible to it. The
inode's ctime is not: a chmod or chown sets it, and a restore cannot. (A content change
whose older mtime was put back sets it too: the inventory's packagefiles fact hashes the
files whose ctime is later than their package's install, so such a file is ``changed`` and
carried whole, before this rule is asked.) A package's file whose ctime is later than the package's installation
(its dpkg file list's mtime and ctime, the later: dpkg rewrites the list on every install
and upgrade, and a system copied file by file has new ctimes on its lists too) changed
after dpkg put it there. The snapshot records such a file's mode and owner
(:class:`~evacuate.snapshot.manifest.PackageMode`), not its content (the content is the
package's: the target's own, possibly newer, package installs it); the rebuild's host state
program (roles/files/files/host_state.py, run by the files step, the cutover and the files
role) sets them on the target's copy after the data restore, and verify compares them.

Package scripts that chmod or chown a file at configure time (after the list is written)
are found too: setting the mode the target's package script already set is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import PurePosixPath

from evacuate.snapshot.manifest import PackageMode
from evacuate.snapshot.scan import ScannedEntry
from evacuate.transport.base import Transport

PACKAGE_DB = (resources.files("evacuate.snapshot") / "sh" / "package_db.sh").read_text(
    encoding="utf-8")
MERGED_USR = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")
_MARK = "@@EVAC-"


@dataclass
class PackageDatabase:
    """The package database's files (``owned``), when each was last installed by its
    package (``installed``: seconds since the epoch, the latest of the packages listing
    it) and the host's swap files."""

    owned: set[str] = field(default_factory=lambda: {"/"})
    installed: dict[str, float] = field(default_factory=dict)
    swaps: list[str] = field(default_factory=list)

    def changed_after_install(self, path: str, entry: ScannedEntry) -> bool:
        """Whether the regular file ``entry`` (at text ``path``) changed after its package
        installed it (see the module's docstring)."""
        if entry.kind != "file":
            return False
        installed = self.installed.get(path)
        try:
            return installed is not None and float(entry.ctime) > installed
        except ValueError:
            return False


def parse_package_db(lines: Iterable[str]) -> PackageDatabase:
    """Parse package_db.sh's output (lines without their newline)."""
    db = PackageDatabase()
    times: dict[str, float] = {}
    part, current = "", None
    for line in lines:
        if line.startswith(_MARK + "PKG@@"):
            current = times.get(PurePosixPath(line[len(_MARK) + 5:]).name)
            continue
        if line.startswith(_MARK) and line.endswith("@@"):
            part = line[len(_MARK):-2]
            continue
        if part == "TIMES":
            fields = line.split(" ", 2)
            if len(fields) == 3:
                try:
                    times[fields[2]] = max(float(fields[0]), float(fields[1]))
                except ValueError:
                    continue
        elif part == "LISTS":
            _owned(db, line, current)
        elif part == "SWAPS" and line.split() and line.startswith("/"):
            db.swaps.append(line.split()[0])
    return db


def _owned(db: PackageDatabase, path: str, installed: float | None) -> None:
    """One file list line: owned, and (on a merged-/usr system, where /bin/x lives at
    /usr/bin/x) its /usr twin too."""
    if not path.startswith("/") or path == "/.":
        return
    for name in (path, "/usr" + path) if path.startswith(MERGED_USR) else (path,):
        db.owned.add(name)
        if installed is not None and installed > db.installed.get(name, 0.0):
            db.installed[name] = installed


def read_package_db(transport: Transport) -> PackageDatabase:
    """Run package_db.sh on the host, its output streamed line by line."""
    with transport.open_process(["sh", "-c", PACKAGE_DB, "package-db"]) as proc:
        proc.stdin.close()
        db = parse_package_db(raw.decode("utf-8", "surrogateescape").rstrip("\n")
                              for raw in proc.stdout)
        proc.wait(timeout=300)
    return db


def mode_of(path: str, entry: ScannedEntry) -> PackageMode:
    return PackageMode(path=path, mode=entry.mode, user=entry.user, group=entry.group)
