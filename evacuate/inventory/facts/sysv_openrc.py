"""Fact family ``sysv_openrc``: services on hosts without systemd. OpenRC (Alpine):
``rc-update show -v`` (runlevels a service is in) and ``rc-status --all``
(state). SysV init (Debian/RHEL without systemd): ``S`` links in /etc/rc?.d and
``service --status-all``."""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import Service

_OPENRC_STATES = {"started": "active", "stopped": "inactive", "crashed": "failed",
                  "starting": "activating", "stopping": "deactivating"}
_RC_STATUS_RE = re.compile(r"^\s+(\S+)\s+\[\s*(\w+)\s*\]")
_STATUS_ALL_RE = re.compile(r"^\s*\[\s*([+?-])\s*\]\s+(\S+)")
_RC_LINK_RE = re.compile(r"^S\d\d(\S+)$")


def parse(text: str) -> tuple[Service, ...]:
    """Parse the ``sysv_openrc`` section into services sorted by name."""
    enabled: dict[str, list[str]] = {}
    active: dict[str, str] = {}
    for part in split_parts(text):
        for line in part.text.splitlines():
            if part.kind == "rc-update":
                name, sep, levels = line.partition("|")
                if sep and name.strip():
                    enabled[name.strip()] = levels.split()
            elif part.kind == "rc-status" and (m := _RC_STATUS_RE.match(line)):
                active[m.group(1)] = _OPENRC_STATES.get(m.group(2), m.group(2))
            elif part.kind == "rc-links" and (m := _RC_LINK_RE.match(line.strip())):
                enabled.setdefault(m.group(1), ["default"])
            elif part.kind == "status-all" and (m := _STATUS_ALL_RE.match(line)):
                state = {"+": "active", "-": "inactive"}.get(m.group(1), "")
                active[m.group(2)] = state
                enabled.setdefault(m.group(2), [])
    return tuple(
        Service(name=name, enabled_state="enabled" if enabled.get(name) else "disabled",
                active_state=active.get(name, ""), unit_file_path=f"/etc/init.d/{name}")
        for name in sorted(set(enabled) | set(active))
    )


FACT = Fact(name="sysv_openrc", script=snippet("sysv_openrc"), parse=parse, default=tuple, timeout=30)
