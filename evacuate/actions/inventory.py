"""Action: take the inventory of one or more hosts (concurrently) and keep it as JSON in the
state directory (``inventories/<host>/<time>.json`` and ``latest.json``)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from evacuate.errors import EvacuateError, UsageError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.inventory import HostInventory, collect_inventory, to_json
from evacuate.inventory.conffile_diffs import Downloader, archives, collect_diffs
from evacuate.inventory.model import Repository
from evacuate.state import StateDir, write_json
from evacuate.transport.base import Transport


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


@dataclass(frozen=True)
class DiffOptions:
    """How changed conffiles get their diffs: from the host's apt cache (``enabled``), and
    from .debs the controller downloads from the host's own repositories (``fetch``) and
    from ``mirrors``."""

    enabled: bool = True
    fetch: bool = False
    mirrors: tuple[Repository, ...] = ()


def add_conffile_diffs(transport: Transport, inventory: HostInventory,
                       diffs: DiffOptions) -> HostInventory:
    if not diffs.enabled or not inventory.changed_conffiles:
        return inventory
    downloader = None
    if diffs.fetch or diffs.mirrors:
        arches = Counter(p.arch for p in inventory.packages if p.arch not in ("", "all"))
        arch = arches.most_common(1)[0][0] if arches else "amd64"
        repositories = (inventory.package_sources.repositories if diffs.fetch else ())
        downloader = Downloader(archives((*diffs.mirrors, *repositories), arch))
    return collect_diffs(transport, inventory, downloader=downloader)


def take_inventory(ref: HostRef, options: ConnectOptions, state: StateDir, *,
                   timeout: float = 300, diffs: DiffOptions = DiffOptions()) -> InventoryOutcome:
    """Collect and save one host's inventory; errors are returned, not raised."""
    try:
        with connect(ref, options) as transport:
            inventory = collect_inventory(transport, host=ref.label, timeout=timeout)
            inventory = add_conffile_diffs(transport, inventory, diffs)
        return InventoryOutcome(ref, inventory, save_inventory(state, ref, inventory))
    except EvacuateError as error:
        return InventoryOutcome(ref, error=error)


def take_inventories(refs: list[HostRef], options: ConnectOptions, state: StateDir, *,
                     timeout: float = 300, parallel: int = 8,
                     diffs: DiffOptions = DiffOptions()) -> list[InventoryOutcome]:
    """Inventory every host concurrently; the outcomes keep the order of ``refs``."""
    if len(refs) == 1:
        return [take_inventory(refs[0], options, state, timeout=timeout, diffs=diffs)]
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(refs)))) as pool:
        return list(pool.map(lambda ref: take_inventory(ref, options, state, timeout=timeout,
                                                        diffs=diffs), refs))


def take_disk_inventory(root: Path, label: str, state: StateDir, *,
                        timeout: float = 600, diffs: DiffOptions = DiffOptions()
                        ) -> InventoryOutcome:
    """Inventory a root filesystem mounted at ``root`` (a rescued disk), read with the
    disk's own tools inside a chroot; see :mod:`evacuate.inventory.disk`."""
    from evacuate.inventory.disk import collect_disk_inventory
    from evacuate.snapshot.rescued import looks_like_root
    from evacuate.transport import parse_host_spec
    from evacuate.transport.local import LocalTransport

    ref = HostRef(label, parse_host_spec("local"), False, "adhoc")
    if not looks_like_root(root):
        return InventoryOutcome(ref, error=UsageError(
            f"{root} does not look like a root filesystem (no etc/ or bin/sh)"))
    try:
        transport = LocalTransport(name=f"disk {root}", root=root)
        inventory = collect_disk_inventory(transport, root, host=label, timeout=timeout)
        inventory = add_conffile_diffs(transport, inventory, diffs)
    except EvacuateError as error:
        return InventoryOutcome(ref, error=error)
    return InventoryOutcome(ref, inventory, save_inventory(state, ref, inventory))
