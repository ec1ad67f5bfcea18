"""evacuate.inventory: what a host runs, as a typed, JSON-serialisable HostInventory.

``collect_inventory(transport, host=...)`` runs one batched, read-only POSIX sh
script on the host (see :mod:`.script`), splits its output into sections and
parses each with its fact family's pure parser (:mod:`.facts`).
"""

from evacuate.inventory.assemble import assemble
from evacuate.inventory.collect import collect_inventory
from evacuate.inventory.model import SCHEMA_VERSION, HostInventory
from evacuate.inventory.script import SectionOutput, build_script, split_sections
from evacuate.inventory.serialize import InventoryFormatError, from_json, to_json

__all__ = [
    "SCHEMA_VERSION",
    "HostInventory",
    "InventoryFormatError",
    "SectionOutput",
    "assemble",
    "build_script",
    "collect_inventory",
    "from_json",
    "split_sections",
    "to_json",
]
