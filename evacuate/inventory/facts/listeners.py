"""Fact family ``listeners``: listening TCP and UDP sockets (``ss -Htlnpu``), each
mapped pid -> systemd unit (from /proc/PID/cgroup) -> package (owner of the
process's executable, asked of whichever package manager the host has).
"""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts, to_int
from evacuate.inventory.model import Listener

_USERS_RE = re.compile(r'\("([^"]*)",pid=(\d+)')
_UNIT_RE = re.compile(r"[^/]+\.(?:service|socket|scope)$")
_APK_VERSION_RE = re.compile(r"-\d[^-]*-r\d+$")


def _split_address(local: str) -> tuple[str, int] | None:
    host, sep, port = local.rpartition(":")
    if not sep or not port.isdigit():
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.partition("%")[0], int(port)


def _pid_info(text: str) -> dict[int, dict[str, str]]:
    info: dict[int, dict[str, str]] = {}
    for line in text.splitlines():
        fields = dict(f.partition("=")[::2] for f in line.split("\t") if "=" in f)
        pid = to_int(fields.get("pid"))
        if pid is not None:
            info[pid] = fields
    return info


def _unit(cgroup: str) -> str:
    match = _UNIT_RE.search(cgroup.strip())
    return match.group(0) if match else ""


def parse(text: str) -> tuple[Listener, ...]:
    """Parse the ``listeners`` section; one Listener per (proto, address, port), sorted."""
    parts = split_parts(text)
    pids = _pid_info(first_part(parts, "pids"))
    seen: dict[tuple[str, str, int], Listener] = {}
    for line in first_part(parts, "ss").splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
            continue
        address = _split_address(fields[4])
        if address is None:
            continue
        users = [(name, int(pid)) for name, pid in _USERS_RE.findall(line)]
        # Workers share the master's socket: the lowest pid is the master.
        process, pid = min(users, key=lambda u: u[1]) if users else ("", None)
        info = pids.get(pid, {}) if pid is not None else {}
        package = info.get("package", "")
        package = _APK_VERSION_RE.sub("", package) if package else ""
        key = (fields[0], address[0], address[1])
        seen.setdefault(key, Listener(
            proto=fields[0], address=address[0], port=address[1], pid=pid, process=process,
            unit=_unit(info.get("cgroup", "")), package=package,
        ))
    return tuple(sorted(seen.values(), key=lambda x: (x.proto, x.port, x.address)))


FACT = Fact(name="listeners", script=snippet("listeners"), parse=parse, default=tuple, timeout=30)
