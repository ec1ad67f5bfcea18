"""A rescued disk made readable like a live host: the dead machine's root filesystem, mounted
on the controller (read-only is fine), seen through a copy-on-write overlay with its own
database servers started on it, so that the ordinary snapshot (inventory, native dumps,
file trees) can run against it with the disk's own tools in a chroot.

Nothing is ever written to the rescued filesystem: the servers' crash recovery and every
other write land in the overlay's upper layer, in a scratch directory that is removed
afterwards. The servers run in a network namespace of their own (loopback only), so they
neither collide with the controller's ports nor answer anyone; clients reach them through
their unix sockets in the overlay's ``/run``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evacuate.errors import EvacuateError, UsageError

log = logging.getLogger(__name__)

SCRATCH_ENV = "EVACUATE_RESCUE_SCRATCH"
"""Where the overlay's upper layer goes (default /var/tmp): it must be a real filesystem
with room for what the database servers write during crash recovery."""


class RescueError(EvacuateError):
    """The rescued root could not be prepared (overlay, mounts, servers)."""


@dataclass
class RescuedRoot:
    """The prepared view: ``path`` is the overlay to chroot into; ``started`` names the
    database servers running on it; ``warnings`` say what could not be started."""

    source: Path
    path: Path
    started: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def looks_like_root(root: Path) -> bool:
    return (root / "etc").is_dir() and (root / "bin" / "sh").exists()


def require_root(root: Path) -> Path:
    """Return ``root`` made absolute; raise UsageError when it is not a root filesystem."""
    root = root.absolute()
    if not looks_like_root(root):
        raise UsageError(f"{root} does not look like a root filesystem (no etc/ or bin/sh)",
                         hint="mount the rescued disk's root partition and name its mount point")
    return root


@contextlib.contextmanager
def rescued_root(root: Path, *, databases: bool = True, timeout: float = 300
                 ) -> Iterator[RescuedRoot]:
    """Yield a writable, isolated view of the root filesystem at ``root`` with its PostgreSQL
    clusters and MariaDB/MySQL server started (when ``databases``); everything is stopped,
    unmounted and removed on exit, also after errors. Raise UsageError when ``root`` is not
    a root filesystem, RescueError when the view cannot be made (not root, no overlayfs)."""
    root = require_root(root)
    if os.geteuid() != 0:
        raise RescueError("reading a rescued disk needs root (overlay and chroot)")
    if any(c in str(root) for c in ",:\\"):
        raise UsageError(f"{root}: mount the disk at a path without ',', ':' or '\\' "
                         "(overlayfs cannot take them)")
    scratch = Path(os.environ.get(SCRATCH_ENV, "/var/tmp"))
    work = Path(tempfile.mkdtemp(prefix="evacuate-rescue-", dir=scratch))
    merged = work / "root"
    mounts: list[Path] = []
    view = RescuedRoot(root, merged)
    servers = _Servers(view, work, timeout)
    try:
        for name in ("upper", "work", "root"):
            (work / name).mkdir()
        _mount(["-t", "overlay", "overlay", "-o",
                f"lowerdir={root},upperdir={work / 'upper'},workdir={work / 'work'}",
                str(merged)], mounts, merged)
        _mount(["-t", "proc", "proc", str(merged / "proc")], mounts, merged / "proc")
        _mount(["--bind", "/dev", str(merged / "dev")], mounts, merged / "dev")
        for place, mode in (("dev/shm", "1777"), ("run", "755"), ("tmp", "1777")):
            _mount(["-t", "tmpfs", "-o", f"mode={mode},nosuid,nodev", "tmpfs",
                    str(merged / place)], mounts, merged / place)
        if databases:
            servers.start_all()
        yield view
    finally:
        servers.stop_all()
        _kill_chrooted(merged)
        for point in reversed(mounts):
            _umount(point)
        if not any(_is_mounted(p) for p in mounts):
            shutil.rmtree(work, ignore_errors=True)
        else:
            log.warning("rescue: %s is still mounted; left in place", work)


class _Servers:
    """The database servers started on the overlay, and how to stop them again."""

    def __init__(self, view: RescuedRoot, work: Path, timeout: float) -> None:
        self.view, self.work, self.timeout = view, work, timeout
        self.stops: list[tuple[str, list[str], subprocess.Popen[bytes] | None]] = []

    def start_all(self) -> None:
        for name, start in (("PostgreSQL", self._start_postgresql),
                            ("MariaDB/MySQL", self._start_mysql)):
            try:
                start()
            except RescueError as error:
                self.view.warnings.append(f"{name} was not started on the rescued disk "
                                          f"({error}): its data directory is copied as files")

    def _chroot(self, *argv: str) -> list[str]:
        # A network namespace of its own: loopback only, so the server answers nobody and
        # its ports cannot collide with the controller's.
        inner = " ".join(_quote(a) for a in ("chroot", str(self.view.path), *argv))
        return ["unshare", "--net", "--", "sh", "-c",
                f"ip link set lo up 2>/dev/null; exec {inner}"]

    def _start_postgresql(self) -> None:
        root = self.view.path
        clusters = sorted(p.parent for p in root.glob("etc/postgresql/*/*/postgresql.conf"))
        if not clusters:
            return
        if not (root / "usr/bin/pg_ctlcluster").exists():
            raise RescueError("pg_ctlcluster is missing")
        _private_run_dir(root, "postgresql", "postgres")
        for conf in clusters:
            version, name = conf.parent.name, conf.name
            label = f"PostgreSQL {version}/{name}"
            result = _run(self._chroot("pg_ctlcluster", version, name, "start"), self.timeout)
            if result.returncode != 0:
                raise RescueError(f"{label}: {_last_line(result)}")
            self.stops.append((label, ["pg_ctlcluster", version, name, "stop", "-m", "fast"],
                               None))
            self.view.started.append(label)

    def _start_mysql(self) -> None:
        root = self.view.path
        server = next((f"/usr/sbin/{d}" for d in ("mariadbd", "mysqld")
                       if (root / "usr/sbin" / d).exists()), None)
        if server is None or not (root / "var/lib/mysql").is_dir():
            return
        _private_run_dir(root, "mysqld", "mysql")
        log_path = self.work / "mysqld.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen(self._chroot(server, "--user=mysql"), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        client = "mariadb-admin" if (root / "usr/bin/mariadb-admin").exists() else "mysqladmin"
        deadline = time.monotonic() + self.timeout
        while True:
            ping = _run(["chroot", str(root), client, "--connect-timeout=2", "-u", "root",
                         "ping"], 10)
            if ping.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    proc.kill()
                tail = log_path.read_text(errors="replace").strip().splitlines()
                raise RescueError(f"{server} did not start: {tail[-1] if tail else 'no output'}")
            time.sleep(0.3)
        self.stops.append(("MariaDB/MySQL", [client, "-u", "root", "shutdown"], proc))
        self.view.started.append("MariaDB/MySQL")

    def stop_all(self) -> None:
        for label, argv, proc in reversed(self.stops):
            result = _run(["chroot", str(self.view.path), *argv], 120)
            if result.returncode != 0:
                log.warning("rescue: stopping %s: %s", label, _last_line(result))
            if proc is not None:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stops.clear()


def _private_run_dir(root: Path, name: str, owner: str) -> None:
    """Create ``/run/<name>`` in the view, owned by the disk's ``owner`` user (by the disk's
    own passwd, whose numbers may differ from the controller's)."""
    uid = gid = 0
    passwd = root / "etc/passwd"
    for line in passwd.read_text(errors="replace").splitlines() if passwd.exists() else ():
        fields = line.split(":")
        if len(fields) > 3 and fields[0] == owner:
            uid, gid = int(fields[2]), int(fields[3])
    folder = root / "run" / name
    folder.mkdir(mode=0o2775, exist_ok=True)
    os.chown(folder, uid, gid)


def _mount(args: list[str], mounts: list[Path], point: Path) -> None:
    result = _run(["mount", *args], 60)
    if result.returncode != 0:
        raise RescueError(f"cannot mount {point}: {_last_line(result)}",
                          hint="the controller needs overlayfs and proc (a Linux host, as root)")
    mounts.append(point)


def _umount(point: Path) -> None:
    if _run(["umount", str(point)], 60).returncode != 0:
        _run(["umount", "-l", str(point)], 60)


def _is_mounted(point: Path) -> bool:
    return _run(["mountpoint", "-q", str(point)], 10).returncode == 0


def _kill_chrooted(root: Path) -> None:
    """SIGKILL whatever still runs inside the view (a server that would not stop)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(proc / "root") == str(root):
                os.kill(int(proc.name), 9)


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, b"", f"timed out after {timeout:g}s".encode())
    except FileNotFoundError as missing:
        return subprocess.CompletedProcess(argv, 127, b"", f"{missing.filename}: not found".encode())


def _last_line(result: subprocess.CompletedProcess[bytes]) -> str:
    text = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()
    return text[-1] if text else f"exit {result.returncode}"


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
