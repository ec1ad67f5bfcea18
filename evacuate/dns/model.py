"""DNS records as evacuate plans, switches and checks them: plain frozen values, saved as
JSON in the plan and the DNS journal (no DNS library type crosses this line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordSet:
    """One record set as a server answered it: ``name`` fully qualified without the final
    dot; ``values`` as the zone file writes them (A/AAAA: addresses; CNAME: the target
    without the final dot; MX: ``"10 mx.example.org"``)."""

    name: str
    rtype: str
    ttl: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """What one server answered for (``qname``, ``rtype``): its rcode (NOERROR, NXDOMAIN,
    SERVFAIL, REFUSED, or TIMEOUT when it did not answer), whether it said it is
    authoritative, and the answer section."""

    server: str
    qname: str
    rtype: str
    rcode: str
    authoritative: bool
    rrsets: tuple[RecordSet, ...] = ()

    def rrset(self, name: str, rtype: str) -> RecordSet | None:
        return next((r for r in self.rrsets if r.name == name and r.rtype == rtype), None)


@dataclass(frozen=True)
class Zone:
    """A zone, its name servers (from its NS records) and their addresses: the servers
    evacuate asks (never a recursive resolver's cache)."""

    name: str
    nameservers: tuple[str, ...]
    servers: tuple[str, ...]


@dataclass(frozen=True)
class NameReport:
    """One name the server answers for, why evacuate thinks so (``why``: the vhost file, the
    certificate, the mail server), and where DNS sends it: the zone, the chain of CNAMEs
    and MX hosts it follows (``"www.shop.example.org CNAME shop.example.org"``), the
    addresses it ends at, whether one of them is the source's; ``problem`` when it could
    not be resolved."""

    name: str
    why: str
    zone: str = ""
    chain: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    points_at_source: bool = False
    problem: str = ""


@dataclass(frozen=True)
class PlannedRecord:
    """A record set that points at the source: what it holds now and what the switch puts
    in its place (the source's addresses replaced by the target's of the same family)."""

    zone: str
    name: str
    rtype: str
    ttl: int
    values: tuple[str, ...]
    new_values: tuple[str, ...]
    via: tuple[str, ...] = ()  # the names of the NameReports that lead here


@dataclass(frozen=True)
class DnsPlan:
    """The DNS side of a move: the names, the record sets to switch, the zones and their
    servers, the longest TTL on the way (how long after a switch resolvers may still hand
    out the source's address) and the warnings."""

    source_addresses: tuple[str, ...]
    target_addresses: tuple[str, ...]
    names: tuple[NameReport, ...] = ()
    records: tuple[PlannedRecord, ...] = ()
    zones: tuple[Zone, ...] = ()
    max_ttl: int = 0
    warnings: tuple[str, ...] = ()  # names that could not be resolved or switched
    notes: tuple[str, ...] = field(default=())
    long_ttls: tuple[str, ...] = ()  # record sets whose TTL is longer than dns.long_ttl


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def dns_plan_from_json(data: dict[str, Any]) -> DnsPlan:
    return DnsPlan(
        source_addresses=_tuple(data.get("source_addresses")),
        target_addresses=_tuple(data.get("target_addresses")),
        names=tuple(NameReport(**{**n, "chain": _tuple(n.get("chain")),
                                  "addresses": _tuple(n.get("addresses"))})
                    for n in data.get("names", ())),
        records=tuple(planned_record_from_json(r) for r in data.get("records", ())),
        zones=tuple(Zone(z["name"], _tuple(z["nameservers"]), _tuple(z["servers"]))
                    for z in data.get("zones", ())),
        max_ttl=int(data.get("max_ttl", 0)),
        warnings=_tuple(data.get("warnings")),
        notes=_tuple(data.get("notes")),
        long_ttls=_tuple(data.get("long_ttls")),
    )


def planned_record_from_json(data: dict[str, Any]) -> PlannedRecord:
    return PlannedRecord(zone=data["zone"], name=data["name"], rtype=data["rtype"],
                         ttl=int(data["ttl"]), values=_tuple(data["values"]),
                         new_values=_tuple(data["new_values"]), via=_tuple(data.get("via")))


def answer_from_json(data: dict[str, Any]) -> Answer:
    return Answer(data["server"], data["qname"], data["rtype"], data["rcode"],
                  bool(data["authoritative"]),
                  tuple(RecordSet(r["name"], r["rtype"], int(r["ttl"]), _tuple(r["values"]))
                        for r in data.get("rrsets", ())))
