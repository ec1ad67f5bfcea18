"""Asking DNS servers, with dnspython (the only module of ours that imports it).

A zone's servers are found once through a resolver (the system's, or evacuate.yml's
``dns.resolvers``): the zone that holds a name (its SOA), the zone's NS records and their
addresses. Records are then asked of those authoritative servers themselves, without
recursion, so their TTLs are the zone's and no cache stands in between.
"""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from evacuate.dns.model import Answer, RecordSet, Zone
from evacuate.errors import EvacuateError

QUERY_TIMEOUT = 3.0


class DnsLookupError(EvacuateError):
    """A name's zone or its servers could not be found."""


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


class Resolver:
    """Finds zones through ``resolvers`` (None: the system's) and asks their servers."""

    def __init__(self, resolvers: tuple[str, ...] = (), timeout: float = QUERY_TIMEOUT,
                 port: int = 53) -> None:
        self.timeout = timeout
        self.port = port
        self._resolver = dns.resolver.Resolver(configure=not resolvers)
        if resolvers:
            self._resolver.nameservers = list(resolvers)
        self._resolver.port = port
        self._resolver.lifetime = timeout * 2
        self._zones: dict[str, Zone] = {}

    def zone_for(self, name: str) -> Zone:
        """The zone that holds ``name``, its NS names and their addresses; DnsLookupError
        when no SOA is found or no name server has an address."""
        try:
            zone_name = _text(dns.resolver.zone_for_name(name, resolver=self._resolver))
        except (dns.exception.DNSException, OSError) as error:
            raise DnsLookupError(f"no zone found for {name}: {error}") from None
        if zone_name in self._zones:
            return self._zones[zone_name]
        try:
            ns = self._resolver.resolve(zone_name, "NS")
        except (dns.exception.DNSException, OSError) as error:
            raise DnsLookupError(f"zone {zone_name} has no name servers: {error}") from None
        nameservers = sorted(_text(r.target) for r in ns)
        servers: list[str] = []
        for host in nameservers:
            for rtype in ("A", "AAAA"):
                try:
                    servers += [r.address for r in self._resolver.resolve(host, rtype)]
                except (dns.exception.DNSException, OSError):
                    continue
        if not servers:
            raise DnsLookupError(f"zone {zone_name}: none of its name servers "
                                 f"({', '.join(nameservers)}) has an address")
        zone = Zone(zone_name, tuple(nameservers), tuple(dict.fromkeys(servers)))
        self._zones[zone_name] = zone
        return zone

    def ask(self, server: str, qname: str, rtype: str) -> Answer:
        """Ask ``server`` (an address) for ``qname``/``rtype`` without recursion (UDP, TCP
        when truncated); a server that does not answer in time gives rcode TIMEOUT."""
        query = dns.message.make_query(qname, rtype)
        query.flags &= ~dns.flags.RD
        try:
            response, _tcp = dns.query.udp_with_fallback(query, server, timeout=self.timeout,
                                                         port=self.port)
        except (dns.exception.Timeout, OSError):
            return Answer(server, qname, rtype, "TIMEOUT", False)
        except dns.exception.DNSException as error:
            return Answer(server, qname, rtype, f"ERROR {error}", False)
        rrsets = tuple(
            RecordSet(_text(rrset.name), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl,
                      tuple(sorted(_value(rdata) for rdata in rrset)))
            for rrset in response.answer)
        return Answer(server, qname.lower().rstrip("."), rtype,
                      dns.rcode.to_text(response.rcode()),
                      bool(response.flags & dns.flags.AA), rrsets)


def _value(rdata: object) -> str:
    """A record's value as the zone file writes it, names without the final dot."""
    text = rdata.to_text()  # type: ignore[attr-defined]
    return text[:-1].lower() if text.endswith(".") else text
