"""Action: take the inventory of one or more hosts (concurrently) and keep it as JSON in the
state directory (``inventories/<host>/<time>.json`` and ``latest.json``)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from evacuate.errors import EvacuateError, UsageError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.inventory import HostInventory, collect_inventory, from_json, to_json
from evacuate.state import StateDir, read_json, write_json


@dataclass(frozen=True)
class InventoryOutcome:
    """One host's result: the inventory and where it was saved, or the error."""

    host: HostRef
    inventory: HostInventory | None = None
    path: Path | None = None
    error: EvacuateError | None = None


def inventory_dir(state: StateDir, label: str) -> Path:
    return state.sub("inventories", label)


def save_inventory(state: StateDir, ref: HostRef, inventory: HostInventory) -> Path:
    folder = inventory_dir(state, ref.file_label)
    stamp = inventory.collected_at.replace(":", "").replace("-", "")
    path = write_json(folder / f"{stamp}.json", to_json(inventory))
    write_json(folder / "latest.json", to_json(inventory))
    return path


def load_latest_inventory(state: StateDir, ref: HostRef) -> HostInventory:
    """The last inventory saved for ``ref``; raise UsageError when there is none."""
    path = state.root / "inventories" / ref.file_label / "latest.json"
    if not path.exists():
        raise UsageError(f"no inventory of {ref.label} yet",
                         hint=f"run 'evacuate inventory {ref.label}'")
    try:
        return from_json(read_json(path))
    except (ValueError, json.JSONDecodeError) as bad:
        raise UsageError(f"{path}: not a readable inventory ({bad})") from None


def take_inventory(ref: HostRef, options: ConnectOptions, state: StateDir, *,
                   timeout: float = 300) -> InventoryOutcome:
    """Collect and save one host's inventory; errors are returned, not raised."""
    try:
        with connect(ref, options) as transport:
            inventory = collect_inventory(transport, host=ref.label, timeout=timeout)
        return InventoryOutcome(ref, inventory, save_inventory(state, ref, inventory))
    except EvacuateError as error:
        return InventoryOutcome(ref, error=error)


def take_inventories(refs: list[HostRef], options: ConnectOptions, state: StateDir, *,
                     timeout: float = 300, parallel: int = 8) -> list[InventoryOutcome]:
    """Inventory every host concurrently; the outcomes keep the order of ``refs``."""
    if len(refs) == 1:
        return [take_inventory(refs[0], options, state, timeout=timeout)]
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(refs)))) as pool:
        return list(pool.map(lambda ref: take_inventory(ref, options, state, timeout=timeout),
                             refs))


# Facts about a running system that a disk cannot tell (they would describe the controller).
NOT_ON_A_DISK = ("network", "listeners", "firewall", "hardware", "docker")


def take_disk_inventory(root: Path, label: str, state: StateDir, *,
                        timeout: float = 600) -> InventoryOutcome:
    """Inventory a root filesystem mounted at ``root`` (a rescued disk): the same facts, read
    with the disk's own tools inside a chroot; nothing runs, so services are known by their
    enabled state only, and network, listeners and firewall are not collected."""
    from dataclasses import replace

    from evacuate.inventory.facts import ALL_FACTS
    from evacuate.transport import parse_host_spec
    from evacuate.transport.local import LocalTransport

    ref = HostRef(label, parse_host_spec("local"), False, "adhoc")
    if not (root / "etc").is_dir() or not (root / "bin" / "sh").exists():
        return InventoryOutcome(ref, error=UsageError(
            f"{root} does not look like a root filesystem (no etc/ or bin/sh)"))
    facts = [f for f in ALL_FACTS if f.name not in NOT_ON_A_DISK]
    try:
        transport = LocalTransport(name=f"disk {root}", root=root)
        inventory = collect_inventory(transport, host=label, timeout=timeout, facts=facts)
    except EvacuateError as error:
        return InventoryOutcome(ref, error=error)
    hostname = (root / "etc" / "hostname")
    if hostname.is_file():
        inventory = replace(inventory, os=replace(inventory.os, hostname=hostname.read_text(
            errors="replace").strip(), kernel=""))
    errors = dict(inventory.errors)
    errors.update({name: "not collected from a disk (the machine is not running)"
                   for name in NOT_ON_A_DISK})
    inventory = replace(inventory, errors=errors)
    return InventoryOutcome(ref, inventory, save_inventory(state, ref, inventory))
