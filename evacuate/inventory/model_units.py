"""Inventory model, what runs: service, timer and socket units and the listening ports
(re-exported by evacuate.inventory.model)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """A service unit (or init script). ``locally_written``: its unit file lives under
    /etc (written by an admin, not a package); ``dropins`` are override file paths."""

    name: str
    enabled_state: str = ""
    active_state: str = ""
    sub_state: str = ""
    unit_file_path: str = ""
    locally_written: bool = False
    dropins: tuple[str, ...] = ()
    description: str = ""
    user: str = ""
    exec_start: str = ""


@dataclass(frozen=True)
class Timer:
    name: str
    unit: str = ""
    enabled_state: str = ""
    active_state: str = ""
    schedule: tuple[str, ...] = ()  # e.g. ("OnCalendar=*-*-* 06:00:00",)
    unit_file_path: str = ""
    locally_written: bool = False


@dataclass(frozen=True)
class Socket:
    name: str
    unit: str = ""
    enabled_state: str = ""
    active_state: str = ""
    listen: tuple[str, ...] = ()
    unit_file_path: str = ""
    locally_written: bool = False


@dataclass(frozen=True)
class Listener:
    """A listening TCP/UDP socket mapped to its process, unit and package where known."""

    proto: str
    address: str
    port: int
    pid: int | None = None
    process: str = ""
    unit: str = ""
    package: str = ""
