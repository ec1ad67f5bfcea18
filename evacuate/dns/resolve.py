"""Asking DNS servers and sending them dynamic updates, with dnspython (the only module of
ours that imports it).

A zone's servers are found once through a resolver (the system's, or evacuate.yml's
``dns.resolvers``): the zone that holds a name (its SOA), the zone's NS records and their
addresses. Records are then asked of those authoritative servers themselves, without
recursion, so their TTLs are the zone's and no cache stands in between.

Updates (RFC 2136) are signed with a TSIG key (RFC 8945) and sent over TCP; each replaces
whole record sets in one message, which the server applies all or not at all.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.tsig
import dns.update

from evacuate.dns.model import Answer, RecordSet, Zone
from evacuate.errors import EvacuateError

QUERY_TIMEOUT = 3.0


class DnsLookupError(EvacuateError):
    """A name's zone or its servers could not be found."""


class DnsUpdateError(EvacuateError):
    """A server refused a dynamic update, or its key, or did not answer; the message says
    why in a few words (never the key's secret)."""


TSIG_ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1",
                   "hmac-md5")
"""The TSIG algorithms a key may use (BIND's names, as tsig-keygen writes them)."""


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key: its name (``evacuate.`` or ``evacuate``), algorithm and base64 secret."""

    name: str
    algorithm: str = "hmac-sha256"
    secret: str = field(default="", repr=False)


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


def _tsig(key: TsigKey) -> dns.tsig.Key:
    if key.algorithm.lower() not in TSIG_ALGORITHMS:
        raise DnsUpdateError(f"TSIG key {key.name}: unknown algorithm {key.algorithm!r} "
                             f"(known: {', '.join(TSIG_ALGORITHMS)})")
    try:
        return dns.tsig.Key(key.name, key.secret, key.algorithm.lower())
    except (binascii.Error, ValueError, dns.exception.DNSException):
        raise DnsUpdateError(f"TSIG key {key.name}: its secret is not base64") from None


def _update(zone: str, key: TsigKey, rrsets: Sequence[RecordSet],
            require_zone: bool) -> dns.update.UpdateMessage:
    update = dns.update.UpdateMessage(zone, keyring=_tsig(key))
    if require_zone:
        update.present(zone.rstrip(".") + ".", "SOA")
    for rrset in rrsets:
        update.delete(rrset.name + ".", rrset.rtype)
        for value in rrset.values:
            try:
                rdata = dns.rdata.from_text(dns.rdataclass.IN, rrset.rtype, value,
                                            origin=dns.name.root, relativize=False)
            except (dns.exception.DNSException, ValueError) as error:
                raise DnsUpdateError(f"{rrset.name} {rrset.rtype}: {value!r} is not a valid "
                                     f"record ({error})") from None
            update.add(rrset.name + ".", rrset.ttl, rdata)
    return update


def update_wire(zone: str, key: TsigKey, rrsets: Sequence[RecordSet] = (), *,
                require_zone: bool = False) -> bytes:
    """The UPDATE message :func:`send_update` sends, as bytes: for each record set, delete
    its name's records of its type, then add its values with its TTL (no values: the
    delete only); ``require_zone``: with the prerequisite that the zone's SOA exists.
    Values are written as zone files write them, names taken from the root."""
    wire: bytes = _update(zone, key, rrsets, require_zone).to_wire()
    return wire


_RCODES = {
    "REFUSED": "the server refused the update (its allow-update or update-policy does not "
               "let key {key} make it)",
    "NOTAUTH": "the server is not authoritative for the zone",
    "NOTZONE": "a record is outside the zone",
    "YXRRSET": "a prerequisite failed",
    "NXRRSET": "the zone has no SOA record on this server",
    "SERVFAIL": "the server failed the update (SERVFAIL)",
}


def send_update(server: str, zone: str, key: TsigKey, rrsets: Sequence[RecordSet] = (), *,
                require_zone: bool = False, port: int = 53,
                timeout: float = QUERY_TIMEOUT) -> None:
    """Send ``server`` (an address) the UPDATE :func:`update_wire` describes, over TCP,
    and check its signed answer; DnsUpdateError saying why when the server refused the
    key, its signature or the update, or did not answer."""
    update = _update(zone, key, rrsets, require_zone)
    try:
        response = dns.query.tcp(update, server, timeout=timeout, port=port)
    except dns.tsig.PeerBadKey:
        raise DnsUpdateError(f"the server does not know TSIG key {key.name}") from None
    except dns.tsig.PeerBadSignature:
        raise DnsUpdateError(f"the server refused the signature of TSIG key {key.name} "
                             "(a wrong secret or algorithm)") from None
    except dns.tsig.PeerBadTime:
        raise DnsUpdateError("the server refused the request's time (are the clocks "
                             "apart by more than 5 minutes?)") from None
    except dns.tsig.PeerError as error:
        raise DnsUpdateError(f"the server refused TSIG key {key.name}: {error}") from None
    except dns.exception.Timeout:
        raise DnsUpdateError(f"{server}:{port} did not answer within {timeout:g} s") from None
    except OSError as error:
        raise DnsUpdateError(f"cannot connect to {server}:{port}: "
                             f"{error.strerror or error}") from None
    except dns.exception.DNSException as error:
        raise DnsUpdateError(f"{server}:{port} answered badly: {error}") from None
    rcode = dns.rcode.to_text(response.rcode())
    if rcode != "NOERROR":
        reason = _RCODES.get(rcode, f"the server answered {rcode}").format(key=key.name)
        raise DnsUpdateError(reason)
