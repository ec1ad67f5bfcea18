"""Collect a host's inventory over a transport: one round trip, then pure parsing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from evacuate.errors import RemoteCommandError
from evacuate.inventory.assemble import assemble
from evacuate.inventory.facts import ALL_FACTS
from evacuate.inventory.facts.base import Fact
from evacuate.inventory.model import HostInventory
from evacuate.inventory.script import SectionOutput, build_script, split_sections
from evacuate.transport.base import SUDO_PASSWORD_HINT, Transport

log = logging.getLogger(__name__)


# Relative cost of a section on a typical host (measured on lab-source, 2026-12-03, in
# tenths of a second under load), used to spread the sections over concurrent channels of
# the one SSH connection; a section not named costs 0.3.
SECTION_COST = {"packagefiles": 5.5, "systemd": 4.4, "host_state": 3.3, "data": 2.5,
                "unowned": 1.8, "users": 1.6, "postgresql": 1.5, "sqlite": 1.2,
                "sources_apt": 1.0, "mysql": 0.8, "certificates": 0.7, "conffiles": 0.7,
                "mail": 0.6, "listeners": 0.6, "hardware": 0.5}


def plan_groups(facts: Sequence[Fact[object]], parallel: int) -> list[list[Fact[object]]]:
    """Split ``facts`` into at most ``parallel`` groups of similar cost (greedy, costliest
    first); each group keeps the facts' original order."""
    groups: list[list[Fact[object]]] = [[] for _ in range(max(1, parallel))]
    load = [0.0] * len(groups)
    order = {fact.name: i for i, fact in enumerate(facts)}
    for fact in sorted(facts, key=lambda f: -SECTION_COST.get(f.name, 0.3)):
        lightest = load.index(min(load))
        groups[lightest].append(fact)
        load[lightest] += SECTION_COST.get(fact.name, 0.3)
    return [sorted(g, key=lambda f: order[f.name]) for g in groups if g]


def collect_inventory(transport: Transport, *, host: str, timeout: float = 300,
                      facts: Sequence[Fact[object]] = ALL_FACTS,
                      parallel: int = 4) -> HostInventory:
    """Run the batched inventory script on ``transport``'s host and return what it found.

    The sections run as ``parallel`` scripts on concurrent channels of the same
    connection (no extra round trip, no temporary files on the host).

    Sections that fail are recorded in ``HostInventory.errors``. Raise
    RemoteCommandError if the script produced no section at all (no POSIX sh, or
    the connection broke), RemoteTimeout past ``timeout`` seconds, TransportError
    if the host cannot be reached.
    """
    collected_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    groups = plan_groups(facts, parallel)
    if len(groups) == 1:
        results = [transport.run_script(build_script(groups[0]), timeout=timeout)]
    else:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            results = list(pool.map(
                lambda group: transport.run_script(build_script(group), timeout=timeout), groups))
    sections: dict[str, SectionOutput] = {}
    for result in results:
        sections.update(split_sections(result.text))
        if result.error_text.strip():
            log.debug("%s: inventory script stderr:\n%s", host, result.error_text[-4000:])
    if not sections:
        first = results[0]
        last = (first.error_text.strip().splitlines() or [""])[-1][:200]
        raise RemoteCommandError(
            f"{host}: the inventory script produced no output "
            f"(exit status {first.exit_status}){': ' + last if last else ''}",
            exit_status=first.exit_status, stderr=first.error_text,
            hint=SUDO_PASSWORD_HINT if "sudo: a password is required" in first.error_text
            else None,
        )
    inventory = assemble(sections, host=host, collected_at=collected_at)
    # the database servers that run in containers, as inspect tells them; imported here:
    # the engines import the inventory's model
    from evacuate.engines import ENGINES
    from evacuate.engines.in_containers import with_container_servers
    return with_container_servers(inventory, ENGINES)
