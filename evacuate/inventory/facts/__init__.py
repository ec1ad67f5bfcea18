"""The fact families, in the order the inventory script runs them.

Cheap, essential sections come first and the slow ``data`` measurement last, so
a script cut off by its overall time limit loses the least.
"""

from __future__ import annotations

from evacuate.inventory.facts import (
    apache,
    certificates,
    conffiles,
    containers,
    cron,
    data,
    firewall,
    hardware,
    host_state,
    listeners,
    mail,
    mysql,
    network,
    nginx,
    osinfo,
    packagefiles,
    packages_apk,
    packages_deb,
    packages_rpm,
    postgresql,
    redis,
    sources_apt,
    sources_other,
    sqlite,
    sysctl,
    systemd,
    sysv_openrc,
    unowned,
    users,
)
from evacuate.inventory.facts.base import Fact

ALL_FACTS: tuple[Fact[object], ...] = (
    osinfo.FACT,
    hardware.FACT,
    network.FACT,
    users.FACT,
    packages_deb.FACT,
    packages_rpm.FACT,
    packages_apk.FACT,
    sources_apt.FACT,
    sources_other.YUM_FACT,
    sources_other.APK_FACT,
    systemd.FACT,
    sysv_openrc.FACT,
    listeners.FACT,
    cron.FACT,
    postgresql.FACT,
    mysql.FACT,
    redis.FACT,
    sqlite.FACT,
    nginx.FACT,
    apache.FACT,
    certificates.FACT,
    firewall.FACT,
    sysctl.FACT,
    containers.FACT,
    mail.FACT,
    conffiles.FACT,
    packagefiles.FACT,
    unowned.FACT,
    host_state.FACT,
    data.FACT,
)

FACTS_BY_NAME: dict[str, Fact[object]] = {fact.name: fact for fact in ALL_FACTS}

__all__ = ["ALL_FACTS", "FACTS_BY_NAME", "Fact"]
