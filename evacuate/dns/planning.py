"""Which DNS records point at the source, from what the zones' own servers answer.

Pure: the answers come from a :class:`Lookup` (the live one is ``evacuate.dns.resolve``;
tests replay answers captured from a real server). For each name the server answers for,
the planner follows CNAMEs (into other zones too) to the A/AAAA record sets at the end,
and for each zone on the way its MX hosts; a record set holding one of the source's
addresses is planned to switch to the target's addresses of the same family.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from evacuate.dns.model import Answer, DnsPlan, NameReport, PlannedRecord, Zone
from evacuate.dns.names import ServedName
from evacuate.errors import EvacuateError

LONG_TTL = 3600
"""TTLs above this (seconds) get a warning: resolvers keep the old address that long."""

MAX_CHAIN = 8


class Lookup(Protocol):
    def zone_for(self, name: str) -> Zone: ...

    def ask(self, server: str, qname: str, rtype: str) -> Answer: ...


def duration(seconds: int) -> str:
    """``86400`` → ``"24 h"``, ``600`` → ``"10 min"``, ``45`` → ``"45 s"``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _family(address: str) -> int:
    return ipaddress.ip_address(address).version


@dataclass
class _Planner:
    lookup: Lookup
    source: frozenset[str]
    target: tuple[str, ...]
    zones: dict[str, Zone] = field(default_factory=dict)
    records: dict[tuple[str, str], PlannedRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def zone(self, name: str) -> Zone:
        zone = self.lookup.zone_for(name)
        self.zones.setdefault(zone.name, zone)
        return zone

    def follow(self, name: str, why: str) -> NameReport:
        """Follow ``name`` through its CNAMEs to its addresses on the zones' servers."""
        chain: list[str] = []
        current = name
        for _hop in range(MAX_CHAIN):
            try:
                zone = self.zone(current)
            except EvacuateError as error:
                return NameReport(name, why, chain=tuple(chain), problem=str(error))
            server = zone.servers[0]
            answer = self.lookup.ask(server, current, "A")
            if answer.rcode != "NOERROR":
                return NameReport(name, why, zone.name, tuple(chain),
                                  problem=f"{server} answered {answer.rcode} for {current} A")
            cname = answer.rrset(current, "CNAME")
            if cname is not None:
                chain.append(f"{current} CNAME {cname.values[0]}")
                current = cname.values[0]
                continue
            sets = [answer.rrset(current, "A"),
                    self.lookup.ask(server, current, "AAAA").rrset(current, "AAAA")]
            addresses: list[str] = []
            hits = False
            for rrset in sets:
                if rrset is None:
                    continue
                addresses += rrset.values
                if self.source.intersection(rrset.values):
                    hits = True
                    self.plan(zone.name, rrset.name, rrset.rtype, rrset.ttl, rrset.values, name)
            return NameReport(name, why, zone.name, tuple(chain), tuple(addresses), hits,
                              "" if addresses else f"{current} has no A or AAAA record")
        return NameReport(name, why, chain=tuple(chain),
                          problem=f"more than {MAX_CHAIN} CNAMEs from {name}")

    def plan(self, zone: str, name: str, rtype: str, ttl: int, values: tuple[str, ...],
             via: str) -> None:
        key = (name, rtype)
        if key in self.records:
            old = self.records[key]
            if via not in old.via:
                self.records[key] = PlannedRecord(old.zone, old.name, old.rtype, old.ttl,
                                                  old.values, old.new_values, (*old.via, via))
            return
        family = 4 if rtype == "A" else 6
        kept = [v for v in values if v not in self.source]
        new = [a for a in self.target if _family(a) == family]
        if not new:
            self.warnings.append(f"{name} {rtype} holds the source's address but the target has "
                                 f"no IPv{family} address: the switch leaves it as it is")
            new_values = values
        else:
            new_values = tuple(sorted({*kept, *new}))
        self.records[key] = PlannedRecord(zone, name, rtype, ttl, values, new_values, (via,))

    def mail_hosts(self, zone: Zone) -> list[NameReport]:
        """The zone's MX hosts, followed like the names (mail for the domain reaches the
        source when one of them resolves to it)."""
        answer = self.lookup.ask(zone.servers[0], zone.name, "MX")
        mx = answer.rrset(zone.name, "MX")
        reports = []
        for value in mx.values if mx else ():
            host = value.split()[-1]
            report = self.follow(host, f"MX of {zone.name}")
            reports.append(NameReport(report.name, report.why, report.zone,
                                      (f"{zone.name} MX {value}", *report.chain),
                                      report.addresses, report.points_at_source,
                                      report.problem))
        return reports


def plan_dns(names: Iterable[ServedName], source_addresses: Iterable[str],
             target_addresses: Iterable[str], lookup: Lookup, *,
             long_ttl: int = LONG_TTL) -> DnsPlan:
    """Given the names a server answers for, its addresses and the target's, plan the
    DNS switch from what ``lookup``'s authoritative answers say."""
    source = tuple(dict.fromkeys(source_addresses))
    target = tuple(dict.fromkeys(target_addresses))
    planner = _Planner(lookup, frozenset(source), target)
    reports = [planner.follow(n.name, n.why) for n in names]
    seen = {r.name for r in reports}
    for zone in list(planner.zones.values()):
        for report in planner.mail_hosts(zone):
            if report.name not in seen:
                seen.add(report.name)
                reports.append(report)
    records = tuple(sorted(planner.records.values(), key=lambda r: (r.zone, r.name, r.rtype)))
    warnings = list(planner.warnings)
    for report in reports:
        if report.problem:
            warnings.append(f"{report.name} ({report.why}): {report.problem}")
    long_ttls = []
    for record in records:
        if record.ttl > long_ttl:
            long_ttls.append(f"{record.name} {record.rtype} has a TTL of {duration(record.ttl)}: "
                            f"resolvers keep the source's address that long after a switch; "
                            f"lower it ('evacuate dns lower-ttl') at least "
                            f"{duration(record.ttl)} before the cutover")
    max_ttl = max((r.ttl for r in records), default=0)
    notes = []
    if records:
        notes.append(f"{len(records)} record set(s) point at the source; after the switch, "
                     f"resolvers may hand out the source's address for up to "
                     f"{duration(max_ttl)} (the longest TTL)")
    return DnsPlan(source, target, tuple(reports), records,
                   tuple(sorted(planner.zones.values(), key=lambda z: z.name)), max_ttl,
                   tuple(warnings), tuple(notes), tuple(long_ttls))
