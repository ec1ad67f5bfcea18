"""Action: the DNS side of a move: lower the TTLs ahead, switch the records to the target,
put them back; each change journaled and confirmed on every authoritative server."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from evacuate.actions.plan import load_plan
from evacuate.config import Config
from evacuate.config.model import DnsSettings
from evacuate.dns.editors import Editors
from evacuate.dns.model import DnsPlan, Zone
from evacuate.dns.resolve import Resolver
from evacuate.dns.survey import survey
from evacuate.dns.switch import (
    Change,
    Journal,
    Seen,
    apply_all,
    lower_ttl_changes,
    put_back,
    switch_changes,
    wait_until_answered,
)
from evacuate.errors import ConfigError, EvacuateError, UsageError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.inventory import collect_inventory
from evacuate.state import StateDir


@dataclass(frozen=True)
class DnsOutcome:
    """What a DNS verb changed (or, dry, would change), and when each authoritative
    server first answered it."""

    op: str
    changes: tuple[Change, ...]
    dry_run: bool = False
    seen: tuple[Seen, ...] = ()
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())


def dns_settings(config: Config | None) -> DnsSettings:
    """evacuate.yml's dns section with a provider (the default, or one zone's); ConfigError
    without."""
    if config is None or config.dns is None or not config.dns.editable:
        raise ConfigError("evacuate.yml has no dns section with a provider",
                          hint="add dns: {provider: ..., provider_options: {...}} "
                               "(see 'evacuate config reference')")
    return config.dns


def journal(state: StateDir) -> Journal:
    return Journal(state.sub("dns") / "journal.json")


def _confirm(settings: DnsSettings, seen: list[Seen]) -> Callable[[Sequence[Change]], None]:
    """Wait until every server of each change's zone, as its NS records name them now,
    answers the change."""
    lookup = Resolver(settings.resolvers)

    def confirm(changes: Sequence[Change]) -> None:
        zones: dict[str, Zone] = {}
        for change in changes:
            if change.zone not in zones:
                zones[change.zone] = lookup.zone_for(change.after.name)
        seen.extend(wait_until_answered(changes, zones, lookup, settings.switch_timeout))
    return confirm


def _apply(op: str, changes: list[Change], plan: DnsPlan, settings: DnsSettings,
           editors: Editors, state: StateDir, dry_run: bool) -> DnsOutcome:
    if dry_run or not changes:
        return DnsOutcome(op, tuple(changes), dry_run)
    seen: list[Seen] = []
    start = time.monotonic()
    apply_all(changes, editors, journal(state), _confirm(settings, seen))
    return DnsOutcome(op, tuple(changes), False, tuple(seen), round(time.monotonic() - start, 2))


def _check_zones(plan: DnsPlan, editors: Editors) -> None:
    """Log in to every zone the plan changes before anything changes (a refusal is then
    one line and nothing was switched)."""
    editors.check({r.zone for r in plan.records})


def lower_ttl(source: HostRef, options: ConnectOptions, state: StateDir,
              config: Config | None, *, ttl: int | None = None,
              dry_run: bool = False) -> DnsOutcome:
    """Lower the TTL of every record set that points at ``source`` (its inventory taken
    now, read-only) to ``ttl`` (default: dns.lowered_ttl) where it is longer."""
    settings = dns_settings(config)
    with connect(source, options) as transport:
        inventory = collect_inventory(transport, host=source.label)
    plan = survey(inventory, None, settings)
    editors = Editors(settings)
    _check_zones(plan, editors)
    changes = lower_ttl_changes(plan, editors, ttl or settings.lowered_ttl)
    outcome = _apply("lower-ttl", changes, plan, settings, editors, state, dry_run)
    return DnsOutcome(outcome.op, outcome.changes, outcome.dry_run, outcome.seen,
                      outcome.seconds, (*plan.warnings, *plan.long_ttls))


def switch(state: StateDir, config: Config | None, *, plan_name: str | None = None,
           dry_run: bool = False) -> DnsOutcome:
    """Switch the plan's record sets from the source's addresses to the target's, all or
    nothing: confirmed on every authoritative server within dns.switch_timeout, else put
    back."""
    settings = dns_settings(config)
    rebuild, _folder = load_plan(state, plan_name)
    if rebuild.dns is None:
        raise UsageError(f"plan {rebuild.name} has no DNS records",
                         hint="add a dns section to evacuate.yml and plan again")
    if not rebuild.dns.target_addresses:
        raise UsageError(f"plan {rebuild.name} knows no address of the target",
                         hint="set dns.target_addresses in evacuate.yml and plan again")
    editors = Editors(settings)
    _check_zones(rebuild.dns, editors)
    changes = switch_changes(rebuild.dns, editors)
    return _apply("switch", changes, rebuild.dns, settings, editors, state, dry_run)


def revert(state: StateDir, config: Config | None, *, dry_run: bool = False) -> DnsOutcome:
    """Put back what evacuate's DNS changes replaced (the journal's open changes, newest
    first), and wait until every authoritative server answers it."""
    settings = dns_settings(config)
    book = journal(state)
    open_changes = book.open_changes()
    undo = tuple(Change("revert", c.zone, c.after, c.before) for _i, c in open_changes)
    if dry_run or not open_changes:
        return DnsOutcome("revert", undo, dry_run)
    editors = Editors(settings)
    start = time.monotonic()
    failed = put_back(open_changes, editors, book)
    if failed:
        raise EvacuateError(f"could not put back {len(failed)} record set(s): {failed[0]}",
                            hint=f"the journal keeps them: {book.path}; run 'evacuate dns "
                                 "revert' again")
    seen: list[Seen] = []
    # undo is newest first: the oldest change, assigned last, holds the original state
    final = {(c.after.name, c.after.rtype): c for c in undo}
    _confirm(settings, seen)(list(final.values()))
    return DnsOutcome("revert", undo, False, tuple(seen), round(time.monotonic() - start, 2))


def has_open_changes(state: StateDir) -> bool:
    return bool(journal(state).open_changes())
