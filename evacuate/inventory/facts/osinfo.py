"""Fact family ``os``: distribution, kernel, hostname, timezone, locale, init system.

Its ``family`` and ``init`` pick the package and service fact variants once, in
:mod:`evacuate.inventory.assemble`.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, key_values, snippet, split_parts
from evacuate.inventory.model import OsInfo

_FAMILIES = {
    "debian": "debian", "ubuntu": "debian",
    "rhel": "redhat", "fedora": "redhat", "centos": "redhat",
    "rocky": "redhat", "almalinux": "redhat", "ol": "redhat",
    "alpine": "alpine",
}


def parse(text: str) -> OsInfo:
    """Parse the ``os`` section into an OsInfo."""
    parts = split_parts(text)
    release = key_values(first_part(parts, "os-release"))
    uname = key_values(first_part(parts, "uname"))
    host = key_values(first_part(parts, "host"))
    time = key_values(first_part(parts, "time"))
    locale = key_values(first_part(parts, "locale"))
    init = key_values(first_part(parts, "init"))

    os_id = release.get("ID", "unknown").lower() or "unknown"
    id_like = tuple(release.get("ID_LIKE", "").lower().split())
    family = next(
        (_FAMILIES[i] for i in (os_id, *id_like) if i in _FAMILIES), "unknown"
    )
    timezone = time.get("timezone", "")
    if not timezone and "zoneinfo/" in time.get("localtime", ""):
        timezone = time["localtime"].split("zoneinfo/", 1)[1]
    return OsInfo(
        id=os_id,
        id_like=id_like,
        version_id=release.get("VERSION_ID", ""),
        codename=release.get("VERSION_CODENAME", ""),
        pretty_name=release.get("PRETTY_NAME", ""),
        family=family,
        init=_init_system(init),
        kernel=uname.get("kernel", ""),
        arch=uname.get("arch", ""),
        hostname=host.get("hostname", ""),
        fqdn=host.get("fqdn", ""),
        timezone=timezone,
        locale=locale.get("LANG", locale.get("LC_ALL", "")),
    )


def _init_system(init: dict[str, str]) -> str:
    pid1 = init.get("pid1", "")
    if pid1 == "systemd" or init.get("systemd_booted") == "1":
        return "systemd"
    if pid1 in ("openrc-init",) or init.get("has_openrc") == "1":
        return "openrc"
    if pid1 == "init":
        return "sysv"
    # In a container or chroot pid 1 may be anything: go by the tools installed.
    if init.get("has_systemctl") == "1":
        return "systemd"
    return "unknown"


FACT = Fact(name="os", script=snippet("os"), parse=parse, default=OsInfo, timeout=20)
