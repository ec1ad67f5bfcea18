"""A lab host's processes seen from the machine that runs the lab (its /proc shows every
container's processes): to read every command line while a command runs, or to act in
a host's mount namespace. Pauses at a known point are gates (tests/lab/gate.py), not
races with /proc."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
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
