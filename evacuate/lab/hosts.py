"""One lab host: an overlay over a cached image, booted by systemd-nspawn in its own
cgroup and network namespace, with a fresh host key and the lab's root key.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evacuate.errors import LabError

CGROUP_ROOT = Path("/sys/fs/cgroup")
RUNTIME_ROOT = Path(os.environ.get("EVACUATE_LAB_RUNTIME", "/var/lib/evacuate/lab"))


@dataclass(frozen=True)
class HostLayout:
    """Where a host's writable layer, mount point and cgroups live."""

    lab_id: str
    name: str

    @property
    def base(self) -> Path:
        return RUNTIME_ROOT / self.lab_id / self.name

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def console_log(self) -> Path:
        return self.base / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.base / "nspawn.pid"

    @property
    def machine(self) -> str:
        return f"{self.lab_id}-{self.name}"

    def cgroups(self) -> list[Path]:
        """The cgroup directories of this host, in every hierarchy that has a lab folder."""
        found = []
        for hierarchy in ("unified", "systemd", "pids", "memory"):
            if (CGROUP_ROOT / hierarchy).is_dir():
                found.append(CGROUP_ROOT / hierarchy / "evacuate-lab" / self.machine)
        if not found and (CGROUP_ROOT / "cgroup.procs").exists():  # pure cgroup v2 host
            found.append(CGROUP_ROOT / "evacuate-lab" / self.machine)
        return found


def _is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == target for line in mounts)


def mount_overlay(layout: HostLayout, image_rootfs: Path) -> None:
    """Mount a fresh writable overlay of ``image_rootfs`` at ``layout.root``."""
    for path in (layout.upper, layout.work, layout.root):
        path.mkdir(parents=True, exist_ok=True)
    if _is_mounted(layout.root):
        return
    options = f"lowerdir={image_rootfs},upperdir={layout.upper},workdir={layout.work}"
    proc = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(layout.root)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"mounting the overlay for {layout.machine} failed: {proc.stderr.strip()}")


def unmount(layout: HostLayout) -> None:
    # nspawn may leave submounts (e.g. /run/systemd/...) behind when killed hard
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts]
    prefix = str(layout.root)
    for point in sorted((p for p in points if p == prefix or p.startswith(prefix + "/")),
                        key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _make_cgroups(layout: HostLayout) -> list[Path]:
    made = []
    for group in layout.cgroups():
        group.mkdir(parents=True, exist_ok=True)
        made.append(group)
    return made


SUPERVISOR = Path(__file__).with_name("supervise.py")

# A lab host that runs a container engine of its own (Docker: runc creates cgroups, loads a
# BPF device filter, makes bridges and their NAT rules) gets exactly what that needs, and no
# more: a cgroup v2 hierarchy of its own (nspawn mounts the host's v1 controllers read-only,
# and runc must write its cgroups; its v2 subtree is delegated and writable, under the lab's
# cgroup folder, so `lab down` removes it), CAP_NET_ADMIN (bridges and iptables in the host's
# own network namespace) and the keyring and bpf system calls (nspawn's filter refuses them).
# Measured: Docker 20.10 runs containers with published ports on the default bridge so.
NESTED_ENGINE_ARGS = ("--capability=CAP_NET_ADMIN", "--system-call-filter=@keyring bpf")
NESTED_ENGINE_ENV = {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}


@contextlib.contextmanager
def cgroups_of(layout: HostLayout) -> Iterator[Callable[[], None]]:
    """The host's cgroups made for a process that is not a booted host (an image's seed);
    yield the function that moves the calling process into them (for preexec_fn), then
    kill what is left in them and remove them."""
    groups = _make_cgroups(layout)

    def enter() -> None:
        for group in groups:
            with open(group / "cgroup.procs", "w", encoding="ascii") as procs:
                procs.write(str(os.getpid()))
    try:
        yield enter
    finally:
        for leftover in _cgroup_pids(layout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
            _reap(leftover)
        _remove_cgroups(layout)


def boot(layout: HostLayout, netns: str, *, hostname: str, nested_engine: bool = False) -> int:
    """Boot the container in the background under the reboot supervisor (a host that
    reboots comes back: see supervise.py) and return the supervisor's pid.
    ``nested_engine``: the host runs a container engine (see NESTED_ENGINE_ARGS)."""
    groups = _make_cgroups(layout)
    layout.console_log.parent.mkdir(parents=True, exist_ok=True)
    log = layout.console_log.open("ab")

    def enter_cgroup() -> None:  # runs in the child between fork and exec
        for group in groups:
            with open(group / "cgroup.procs", "w", encoding="ascii") as procs:
                procs.write(str(os.getpid()))

    cmd = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--quiet",
           "-M", layout.machine, f"--hostname={hostname}", "-D", str(layout.root),
           f"--network-namespace-path=/run/netns/{netns}", "--resolv-conf=off",
           "--timezone=off", "--link-journal=no", "--console=passive",
           *(NESTED_ENGINE_ARGS if nested_engine else ())]
    env = {**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network",
           **(NESTED_ENGINE_ENV if nested_engine else {})}
    try:
        # each host has its own network namespace: its net.* sysctls are its own and may be
        # written (a rebuild applies the source's sysctl settings live); the rest stays read-only
        proc = subprocess.Popen([sys.executable, str(SUPERVISOR), *cmd], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True,
                                preexec_fn=enter_cgroup,
                                env=env)
    finally:
        log.close()
    layout.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def nspawn_pid(layout: HostLayout) -> int | None:
    """The pid of the host's nspawn process if it is still running."""
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None
    return pid if b"systemd-nspawn" in cmdline and layout.machine.encode() in cmdline else None


def _cgroup_pids(layout: HostLayout) -> list[int]:
    pids: set[int] = set()
    for group in layout.cgroups():
        for procs in [group / "cgroup.procs", *group.glob("**/cgroup.procs")]:
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in procs.read_text().split())
    return sorted(pids)


def _remove_cgroups(layout: HostLayout) -> None:
    for group in layout.cgroups():
        if not group.exists():
            continue
        for sub in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                          reverse=True):
            with contextlib.suppress(OSError):
                sub.rmdir()
        with contextlib.suppress(OSError):
            group.rmdir()


def stop(layout: HostLayout, *, timeout: float = 20.0) -> None:
    """Power the container off (SIGTERM to nspawn), kill what is left, remove its cgroups."""
    pid = nspawn_pid(layout)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and nspawn_pid(layout) is not None:
            _reap(pid)
            time.sleep(0.1)
    # anything still alive in the host's cgroups (a hard-killed nspawn leaves systemd behind)
    for attempt in range(50):
        pids = _cgroup_pids(layout)
        if not pids:
            break
        kill_file = layout.cgroups()[0] / "cgroup.kill"
        if attempt == 0 and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        for leftover in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
            _reap(leftover)
        time.sleep(0.1)
    if _cgroup_pids(layout):
        raise LabError(f"{layout.machine}: processes survive in its cgroup after SIGKILL")
    _remove_cgroups(layout)
    layout.pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def remove_empty_cgroup_parents() -> None:
    """Remove the evacuate-lab cgroup folders once no lab host uses them."""
    for parent in [*CGROUP_ROOT.glob("*/evacuate-lab"), CGROUP_ROOT / "evacuate-lab"]:
        with contextlib.suppress(OSError):
            parent.rmdir()
