"""Pure comparisons of what a host *runs*: service and timer units, and listening ports.

Units that belong to the machine rather than to what it serves are not compared (see
:data:`IGNORED_UNITS`): consoles, systemd's own plumbing, per-login user managers and
host-key generation, which a rebuilt host has of its own.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

from evacuate.inventory.model import HostInventory, Listener, Service, Socket, Timer
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, failed, judged, skipped

IGNORED_UNITS = (
    "getty@*", "serial-getty@*", "console-getty.*", "container-getty@*",  # consoles
    "systemd-*",  # systemd's own plumbing (journald, logind, udevd, tmpfiles, ...)
    "user@*", "user-runtime-dir@*", "session-*.scope", "init.scope", "*.slice",  # logins
    "ssh-keygen*", "sshd-keygen*", "regenerate_ssh_host_keys*",  # per-host SSH keys
    "e2scrub_reap.*", "e2scrub_all.*",  # filesystem maintenance of the hoster's disks
    "cloud-init*", "cloud-config*", "cloud-final*",  # the hoster's provisioning
    "networking.service", "ifup@*",  # the hoster's network setup
)
"""Unit name patterns never compared (documented in the README's verify section)."""

ENABLED = ("enabled", "enabled-runtime")
EPHEMERAL_PORTS = 32768  # ports from here up are assigned at random (rpc.statd, ...)


def ignored(unit: str) -> bool:
    return any(fnmatchcase(unit, pattern) for pattern in IGNORED_UNITS)


def _state(enabled: str, active: str) -> str:
    return f"{enabled or '-'}/{active or 'unknown'}"


def _unit_check(name: str, want_enabled: str, want_active: str,
                have: tuple[str, str] | None) -> Check:
    expected = _state(want_enabled, want_active)
    if have is None:
        return failed("services", name, expected, "no such unit", "unit missing")
    have_enabled, have_active = have
    problems = []
    if want_enabled in ENABLED and have_enabled not in ENABLED:
        problems.append(f"not enabled ({have_enabled or 'unknown'})")
    if want_active == "active" and have_active != "active":
        problems.append(f"not running ({have_active or 'inactive'})")
    if not want_active and have_active == "failed":  # a rescued disk: it ran, or would have
        problems.append("failed")
    return judged(not problems, "services", name, expected, _state(have_enabled, have_active),
                  "; ".join(problems))


def _all_units(host: HostInventory) -> list[Service | Timer | Socket]:
    return [*host.services, *host.timers, *host.sockets]


def _wanted(host: HostInventory) -> list[tuple[str, str, str, bool]]:
    return sorted((u.name, u.enabled_state, u.active_state, u.locally_written)
                  for u in _all_units(host))


def checked(name: str, enabled: str, active: str, local: bool) -> bool:
    """Whether a unit of the source is compared: enabled (or active and written locally),
    not the machine's own, not a template (templates are enabled through their instances)."""
    if ignored(name) or name.rpartition(".")[0].endswith("@"):
        return False
    return enabled in ENABLED or (local and active == "active")


def checked_units(source: HostInventory) -> list[str]:
    """The source's units that :func:`compare_services` compares (by their source name)."""
    return [w[0] for w in _wanted(source) if checked(*w)]


def compare_services(source: HostInventory, target: HostInventory,
                     crossing: Crossing | None = None) -> list[Check]:
    """Each service, timer or socket enabled (or a unit active and written locally) on the
    source is enabled and, if it was active, active on the target. Static units started
    as dependencies follow from the units that pull them in and are not checked alone.
    Across releases a unit named after a server's version is looked for under the new
    version's name (postgresql@13-main → postgresql@15-main)."""
    units = {u.name: (u.enabled_state, u.active_state) for u in _all_units(target)}
    checks = []
    for name, enabled, active, local in _wanted(source):
        if checked(name, enabled, active, local):
            mapped = crossing.unit(name) if crossing else name
            check = _unit_check(mapped, enabled, active, units.get(mapped))
            if mapped != name:
                check = replace(check, detail=f"{name} on the source ({crossing.label if crossing else ''})"
                                + (f"; {check.detail}" if check.detail else ""))
            checks.append(check)
    return checks


def _port_key(listener: Listener) -> tuple[str, int]:
    return listener.proto, listener.port


def _units(listeners: list[Listener], crossing: Crossing | None = None) -> set[str]:
    # "init.scope": systemd itself holds the socket (socket activation); any unit may serve
    return {crossing.unit(lst.unit) if crossing else lst.unit for lst in listeners
            if lst.unit and lst.unit != "init.scope"}


def compare_listeners(source: HostInventory, target: HostInventory,
                      crossing: Crossing | None = None) -> list[Check]:
    """Each port the source listens on (outside the ephemeral range) is listened on by the
    target, by the same unit where both hosts know it (across releases, by the unit's
    name in the new release)."""
    mine: dict[tuple[str, int], list[Listener]] = {}
    for listener in source.listeners:
        unit = listener.unit or "-"
        if listener.port < EPHEMERAL_PORTS and (unit == "init.scope" or not ignored(unit)):
            mine.setdefault(_port_key(listener), []).append(listener)
    theirs: dict[tuple[str, int], list[Listener]] = {}
    for listener in target.listeners:
        theirs.setdefault(_port_key(listener), []).append(listener)
    if mine and not target.listeners and "listeners" in target.errors:
        return [skipped("listeners", "*", f"the target's listeners are unknown: "
                                          f"{target.errors['listeners']}")]
    checks = []
    for (proto, port), listeners in sorted(mine.items()):
        name = f"{proto}/{port}"
        want_units = _units(listeners, crossing)
        expected = f"{', '.join(sorted(want_units)) or listeners[0].process or '?'}"
        found = theirs.get((proto, port))
        if not found:
            checks.append(failed("listeners", name, expected, "nothing listening",
                                 f"port {port}/{proto} is closed on the target"))
            continue
        have_units = _units(found)
        same = not want_units or not have_units or bool(want_units & have_units)
        checks.append(judged(same, "listeners", name, expected,
                             ", ".join(sorted(have_units)) or found[0].process or "?",
                             "" if same else "a different unit listens on this port"))
    return checks
