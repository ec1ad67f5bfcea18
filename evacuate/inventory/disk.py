"""The inventory of a rescued disk: the same fact families, read with the disk's own tools
inside a chroot. Nothing of the dead machine runs (except database servers that a caller
may have started on a copy), so services are known by their enabled state only, and the
facts that would describe the controller rather than the disk are not collected."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evacuate.inventory.collect import collect_inventory
from evacuate.inventory.facts import ALL_FACTS
from evacuate.inventory.model import HostInventory
from evacuate.transport.base import Transport

NOT_ON_A_DISK = ("network", "listeners", "firewall", "hardware", "containers")
"""Facts about a running system that a disk cannot tell (they would describe the controller)."""


def collect_disk_inventory(transport: Transport, root: Path, *, host: str,
                           timeout: float = 600) -> HostInventory:
    """Inventory the root filesystem at ``root`` through ``transport`` (a chroot into it);
    the facts in :data:`NOT_ON_A_DISK` are listed in ``errors`` as not collected."""
    facts = [f for f in ALL_FACTS if f.name not in NOT_ON_A_DISK]
    inventory = collect_inventory(transport, host=host, timeout=timeout, facts=facts)
    hostname = root / "etc" / "hostname"
    if hostname.is_file():
        inventory = replace(inventory, os=replace(inventory.os, hostname=hostname.read_text(
            errors="replace").strip(), kernel=""))
    errors = dict(inventory.errors)
    errors.update({name: "not collected from a disk (the machine is not running)"
                   for name in NOT_ON_A_DISK})
    return replace(inventory, errors=errors)

