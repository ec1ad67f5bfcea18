"""Fact family ``systemd``: services, timers and sockets with their enablement, state,
unit file, drop-ins, and whether an admin wrote the unit (it lives under /etc).

One ``systemctl list-unit-files`` (every installed unit, loaded or not), one
``systemctl show`` of the loaded units with selected properties, and a ``find``
of the regular files under /etc/systemd/system (local units and drop-ins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evacuate.inventory.facts.base import Fact, dedupe, first_part, snippet, split_parts, stanzas
from evacuate.inventory.model import Service, Socket, Timer

UNIT_TYPES = ("service", "timer", "socket")
LOCAL_DIRS = ("/etc/systemd/system/", "/usr/local/lib/systemd/system/")


@dataclass(frozen=True)
class SystemdUnits:
    services: tuple[Service, ...] = ()
    timers: tuple[Timer, ...] = ()
    sockets: tuple[Socket, ...] = ()


_ARGV_RE = re.compile(r"argv\[\]=(.*?) ; ignore_errors=")
_TIMER_RE = re.compile(r"^\{ (\w+)=(.*?) ; next_elapse=")


def _show_blocks(text: str) -> list[dict[str, list[str]]]:
    blocks = []
    for block in stanzas(text):
        props: dict[str, list[str]] = {}
        for line in block:
            key, sep, value = line.partition("=")
            if sep:
                props.setdefault(key, []).append(value)
        if props.get("Id"):
            blocks.append(props)
    return blocks


def _one(props: dict[str, list[str]], key: str) -> str:
    values = props.get(key)
    return values[0] if values else ""


def _exec_start(props: dict[str, list[str]]) -> str:
    return "; ".join(
        m.group(1) for v in props.get("ExecStart", []) for m in [_ARGV_RE.search(v)] if m
    )


def _schedule(props: dict[str, list[str]]) -> tuple[str, ...]:
    result = []
    for value in props.get("TimersCalendar", []) + props.get("TimersMonotonic", []):
        match = _TIMER_RE.match(value)
        if match:
            result.append(f"{match.group(1)}={match.group(2)}")
    return tuple(result)


def _is_local(path: str) -> bool:
    return path.startswith(LOCAL_DIRS)


def parse(text: str) -> SystemdUnits:
    """Parse the ``systemd`` section into services, timers and sockets (sorted by name).

    Units come from ``show`` (loaded) and ``list-unit-files`` (installed but not
    loaded, e.g. disabled or templates); ``not-found`` units are dropped."""
    parts = split_parts(text)
    file_states: dict[str, str] = {}
    for line in first_part(parts, "unit-files").splitlines():
        fields = line.split()
        if len(fields) >= 2:
            file_states[fields[0]] = fields[1]
    local_files = [p for p in first_part(parts, "local-files").splitlines() if p.strip()]
    local_units = {p.rsplit("/", 1)[1]: p for p in local_files if "/" in p and ".d/" not in p}
    dropins: dict[str, list[str]] = {}
    for path in local_files:
        unit_dir, _, _ = path.rpartition("/")
        if unit_dir.endswith(".d") and path.endswith(".conf"):
            dropins.setdefault(unit_dir.rsplit("/", 1)[1][:-2], []).append(path)

    shown: dict[str, dict[str, list[str]]] = {}
    for props in _show_blocks(first_part(parts, "show")):
        if _one(props, "LoadState") != "not-found" or _one(props, "Id") in file_states:
            shown[_one(props, "Id")] = props
    services: list[Service] = []
    timers: list[Timer] = []
    sockets: list[Socket] = []
    for name in sorted(set(shown) | set(file_states)):
        kind = name.rpartition(".")[2]
        # An alias is another name of a unit listed under its own name.
        if kind not in UNIT_TYPES or file_states.get(name) == "alias":
            continue
        props = shown.get(name, {})
        path = _one(props, "FragmentPath") or local_units.get(name, "")
        unit_dropins = dedupe([*_one(props, "DropInPaths").split(), *dropins.get(name, [])])
        enabled = file_states.get(name) or _one(props, "UnitFileState")
        active = _one(props, "ActiveState")
        local = _is_local(path) or name in local_units
        if kind == "service":
            services.append(Service(
                name=name, enabled_state=enabled, active_state=active,
                sub_state=_one(props, "SubState"), unit_file_path=path, locally_written=local,
                dropins=unit_dropins, description=_one(props, "Description"),
                user=_one(props, "User"), exec_start=_exec_start(props),
            ))
        elif kind == "timer":
            timers.append(Timer(
                name=name, unit=_one(props, "Triggers"), enabled_state=enabled,
                active_state=active, schedule=_schedule(props), unit_file_path=path,
                locally_written=local,
            ))
        else:
            sockets.append(Socket(
                name=name, unit=_one(props, "Triggers"), enabled_state=enabled,
                active_state=active, listen=tuple(props.get("Listen", [])),
                unit_file_path=path, locally_written=local,
            ))
    return SystemdUnits(services=tuple(services), timers=tuple(timers), sockets=tuple(sockets))


FACT = Fact(name="systemd", script=snippet("systemd"), parse=parse, default=SystemdUnits, timeout=60)
