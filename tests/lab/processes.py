"""A lab host's processes seen from the machine that runs the lab (its /proc shows every
container's processes): to pause a loader at a known point, or to read every command line
and environment while a command runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evacuate.lab import hosts
from evacuate.lab.lab import Lab


def leader(lab: Lab, name: str) -> int:
    """The pid of the container's init (nspawn runs with --register=no: no machinectl):
    the process under the lab's supervisor that is pid 1 in a pid namespace of its own
    (the supervisor and nspawn itself live in the machine's namespaces: a command run in
    theirs would change the machine)."""
    supervisor = hosts.nspawn_pid(lab.layout(lab.host(name)))
    assert supervisor is not None, f"{name} is not running"
    for pid in descendants(supervisor):
        status = (_read(f"/proc/{pid}/status") or b"").decode()
        nspid = next((line.split()[1:] for line in status.splitlines()
                      if line.startswith("NSpid:")), [])
        if len(nspid) > 1 and nspid[-1] == "1":
            return pid
    raise AssertionError(f"{name}: no container init under {supervisor}")


def in_host(lab: Lab, name: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in a lab host's mount namespace, from the machine (as a hoster would
    attach or grow a disk)."""
    return subprocess.run(["nsenter", "-t", str(leader(lab, name)), "-m", "--", *command],
                          capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class Process:
    pid: int
    comm: str
    argv: tuple[bytes, ...]


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError:  # gone meanwhile, or not ours to read
        return None


def processes(lab: Lab, name: str) -> Iterator[Process]:
    """The processes of lab host ``name`` (those in its pid namespace)."""
    namespace = os.readlink(f"/proc/{leader(lab, name)}/ns/pid")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{entry.name}/ns/pid") != namespace:
                continue
            comm, argv = _read(f"/proc/{entry.name}/comm"), _read(f"/proc/{entry.name}/cmdline")
            if comm is not None and argv:
                yield Process(int(entry.name), comm.decode().strip(),
                              tuple(argv.rstrip(b"\0").split(b"\0")))


def descendants(pid: int) -> list[int]:
    """``pid`` and all its children, grandchildren..., as they are now."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            text = _read(f"{task}/children")
            todo.extend(int(child) for child in (text or b"").split())
    return found


def stop_when_seen(lab: Lab, name: str, matches: Callable[[Process], bool],
                   still_waiting: Callable[[], bool], timeout: float = 600) -> list[int]:
    """SIGSTOP the first process of host ``name`` that ``matches`` (and what it has started)
    as soon as it appears; return the stopped pids ([] if ``still_waiting`` turned false
    or the deadline passed first)."""
    deadline = time.monotonic() + timeout
    while still_waiting() and time.monotonic() < deadline:
        for process in processes(lab, name):
            if matches(process):
                stopped = []
                for pid in descendants(process.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                        stopped.append(pid)
                return stopped
        time.sleep(0.005)
    return []


def stop(pids: list[int]) -> list[int]:
    """SIGSTOP ``pids`` and what they have started since; return all that were stopped."""
    stopped = []
    for pid in dict.fromkeys(p for root in pids for p in descendants(root)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
    return stopped


def step_until(pids: list[int], done: Callable[[], bool], *, slice_seconds: float = 0.01,
               timeout: float = 120) -> list[int]:
    """Let the stopped ``pids`` (and what they start) run in short slices, each followed by
    a stop, until ``done()`` holds (asked while they are stopped); return the stopped pids.
    Fail if they all end first."""
    deadline = time.monotonic() + timeout
    while not done():
        assert any(alive(pid) for pid in pids), "they ended before it held"
        assert time.monotonic() < deadline, "it did not hold in time"
        resume(pids)
        time.sleep(slice_seconds)
        pids = stop(pids)
    return pids


def alive(pid: int) -> bool:
    state = _read(f"/proc/{pid}/stat")
    return state is not None and state.rsplit(b")", 1)[-1].split()[0] != b"Z"


def resume(pids: list[int]) -> None:
    """SIGCONT ``pids``. (Before the process that started them goes: a process group left
    without its parent session while stopped gets SIGHUP from the kernel, and dies.)"""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def wait_gone(pids: list[int], timeout: float = 120) -> None:
    """Wait (with a deadline) until ``pids`` are gone; SIGKILL the rest."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def pipe_fill(pid: int) -> int:
    """The bytes waiting in the pipe that is stdin of ``pid`` (0 if it is not a pipe)."""
    import fcntl
    import termios
    from array import array

    try:
        fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        count = array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count)
        return int(count[0])
    except OSError:
        return 0
    finally:
        os.close(fd)
