"""Turn the inventory script's sections into a :class:`HostInventory`.

Each section goes through its fact's pure parser. A section that failed, timed
out, never arrived, or whose parser raised is recorded in ``errors[section]``
and its fields keep their empty defaults: one bad section never costs the rest.

OS variants are picked here, once, from the ``os`` section: the package family
by ``os.family`` and the service family by ``os.init``. When the os section
itself is missing, the first variant that produced output is used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from evacuate.inventory.facts import FACTS_BY_NAME
from evacuate.inventory.facts.systemd import SystemdUnits
from evacuate.inventory.model import (
    Accounts,
    Containers,
    Firewall,
    Hardware,
    HostInventory,
    HostState,
    MailServer,
    Network,
    OsInfo,
    PackageFiles,
    PackageSources,
    UnownedFiles,
)
from evacuate.inventory.script import SectionOutput

log = logging.getLogger(__name__)

T = TypeVar("T")

PACKAGE_VARIANTS = {"debian": "packages_deb", "redhat": "packages_rpm", "alpine": "packages_apk"}
SOURCE_VARIANTS = {"debian": "sources_apt", "redhat": "sources_yum", "alpine": "sources_apk"}
SERVICE_VARIANTS = {"systemd": "systemd", "openrc": "sysv_openrc", "sysv": "sysv_openrc"}


class _Parsed:
    """Parse sections on demand, recording every failure in ``errors``."""

    def __init__(self, sections: Mapping[str, SectionOutput]) -> None:
        self.sections = sections
        self.errors: dict[str, str] = {}

    def get(self, name: str, kind: type[T]) -> T:
        fact = FACTS_BY_NAME[name]
        default: T = fact.default()  # type: ignore[assignment]
        section = self.sections.get(name)
        if section is None:
            self.errors[name] = "no output: the section did not run (script cut off?)"
            return default
        if section.timed_out:
            self.errors[name] = (f"timed out after {fact.timeout}s" if section.rc is not None
                                 else "cut off: the script ended before this section did")
            return default
        if section.rc != 0:
            self.errors[name] = f"exited with status {section.rc}"
            return default
        try:
            value = fact.parse(section.text)
        except Exception as exc:  # a parser bug must not cost the whole inventory
            log.debug("parser for %s failed", name, exc_info=True)
            self.errors[name] = f"could not parse output: {type(exc).__name__}: {exc}"
            return default
        if not isinstance(value, kind):
            self.errors[name] = f"parser returned {type(value).__name__}, not {kind.__name__}"
            return default
        return value

    def variant(self, table: Mapping[str, str], key: str) -> str | None:
        """The section for ``key`` (an os family or init system); if unknown, the
        first of ``table``'s sections with output."""
        if key in table:
            return table[key]
        return next((name for name in table.values()
                     if (s := self.sections.get(name)) is not None and s.text.strip()), None)


def assemble(sections: Mapping[str, SectionOutput], host: str, collected_at: str) -> HostInventory:
    """Parse every section into a HostInventory for ``host``; never raises on bad output."""
    parsed = _Parsed(sections)
    os_info = parsed.get("os", OsInfo)

    packages: tuple[Any, ...] = ()
    if (name := parsed.variant(PACKAGE_VARIANTS, os_info.family)) is not None:
        packages = parsed.get(name, tuple)
    sources = PackageSources()
    if (name := parsed.variant(SOURCE_VARIANTS, os_info.family)) is not None:
        sources = parsed.get(name, PackageSources)
    units = SystemdUnits()
    if (name := parsed.variant(SERVICE_VARIANTS, os_info.init)) == "systemd":
        units = parsed.get(name, SystemdUnits)
    elif name is not None:
        units = SystemdUnits(services=parsed.get(name, tuple))
    accounts = parsed.get("users", Accounts)

    return HostInventory(
        host=host,
        collected_at=collected_at,
        os=os_info,
        hardware=parsed.get("hardware", Hardware),
        network=parsed.get("network", Network),
        packages=packages,
        package_sources=sources,
        changed_conffiles=parsed.get("conffiles", tuple) if os_info.family == "debian" else (),
        unowned_files=parsed.get("unowned", UnownedFiles),
        package_files=parsed.get("packagefiles", PackageFiles) if os_info.family == "debian"
        else PackageFiles(),
        services=units.services,
        timers=units.timers,
        sockets=units.sockets,
        listeners=parsed.get("listeners", tuple),
        users=accounts.users,
        groups=accounts.groups,
        sudoers=accounts.sudoers,
        account_ranges=accounts.ranges,
        crontabs=parsed.get("cron", tuple),
        databases=(parsed.get("postgresql", tuple) + parsed.get("mysql", tuple)
                   + parsed.get("redis", tuple) + parsed.get("sqlite", tuple)),
        web=parsed.get("nginx", tuple) + parsed.get("apache", tuple),
        certificates=parsed.get("certificates", tuple),
        firewall=parsed.get("firewall", Firewall),
        sysctl=parsed.get("sysctl", tuple),
        containers=parsed.get("containers", Containers),
        mail=parsed.get("mail", MailServer),
        data_candidates=parsed.get("data", tuple),
        state=parsed.get("host_state", HostState),
        errors=dict(sorted(parsed.errors.items())),
    )
