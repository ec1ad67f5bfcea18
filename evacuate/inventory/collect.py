"""Collect a host's inventory over a transport: one round trip, then pure parsing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from evacuate.errors import RemoteCommandError
from evacuate.inventory.assemble import assemble
from evacuate.inventory.facts import ALL_FACTS
from evacuate.inventory.facts.base import Fact
from evacuate.inventory.model import HostInventory
from evacuate.inventory.script import build_script, split_sections
from evacuate.transport.base import Transport

log = logging.getLogger(__name__)


def collect_inventory(transport: Transport, *, host: str, timeout: float = 300,
                      facts: Sequence[Fact[object]] = ALL_FACTS) -> HostInventory:
    """Run the batched inventory script on ``transport``'s host and return what it found.

    Sections that fail are recorded in ``HostInventory.errors``. Raise
    RemoteCommandError if the script produced no section at all (no POSIX sh, or
    the connection broke), RemoteTimeout past ``timeout`` seconds, TransportError
    if the host cannot be reached.
    """
    collected_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = transport.run_script(build_script(facts), timeout=timeout)
    sections = split_sections(result.text)
    if not sections:
        raise RemoteCommandError(
            f"{host}: the inventory script produced no output "
            f"(exit status {result.exit_status})",
            exit_status=result.exit_status, stderr=result.error_text,
        )
    if result.error_text.strip():
        log.debug("%s: inventory script stderr:\n%s", host, result.error_text[-4000:])
    return assemble(sections, host=host, collected_at=collected_at)
