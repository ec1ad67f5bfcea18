"""The lab's zones on lab-dns, written before it boots (their records name the lab's
addresses, which depend on the lab's subnet).

``example.test`` lives in PowerDNS's sqlite3 database (the HTTP API edits it); ``static.test``
is a BIND zone file (PowerDNS serves it, its API cannot edit it: a zone evacuate cannot change).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

ZONE = "example.test"
"""The zone lab-source's names live in, edited through the API."""

STATIC_ZONE = "static.test"
"""A zone served from a BIND file: the API refuses to change it."""

API_PORT = 8081
API_KEY = "lab-pdns-api-key-7c41"
"""lab-dns's API key (seed/dns/dns.sh): a lab secret that evacuate must never print."""

DATABASE = "var/lib/powerdns/pdns.sqlite3"


@dataclass(frozen=True)
class LabRecord:
    name: str  # fully qualified, no final dot
    rtype: str
    content: str
    ttl: int
    prio: int = 0  # MX: its preference (PowerDNS's sql backends keep it in a column)


def example_records(source: str, dns: str, other: str) -> tuple[LabRecord, ...]:
    """example.test: lab-source's vhost and certificate names (one with a long TTL, one a
    CNAME to another, one a CNAME into static.test), the zone's MX on lab-source, and a name that points elsewhere."""
    return (
        LabRecord(ZONE, "SOA", f"ns1.{ZONE}. hostmaster.{ZONE}. 1 10800 3600 604800 300", 3600),
        LabRecord(ZONE, "NS", f"ns1.{ZONE}.", 3600),
        LabRecord(f"ns1.{ZONE}", "A", dns, 3600),
        LabRecord(ZONE, "A", source, 3600),
        LabRecord(f"www.{ZONE}", "A", source, 3600),
        LabRecord(f"shop.{ZONE}", "A", source, 86400),
        LabRecord(f"www.shop.{ZONE}", "CNAME", f"shop.{ZONE}.", 600),
        LabRecord(ZONE, "MX", f"mx.{ZONE}", 3600, prio=10),
        LabRecord(f"mx.{ZONE}", "A", source, 1800),
        LabRecord(f"docs.{ZONE}", "A", other, 3600),
        LabRecord(f"cdn.{ZONE}", "CNAME", f"www.{STATIC_ZONE}.", 300),
    )


def static_zone_file(source: str) -> str:
    return (f"$ORIGIN {STATIC_ZONE}.\n$TTL 3600\n"
            f"@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 10800 3600 604800 300\n"
            f"@ IN NS ns1.{ZONE}.\n"
            f"www IN A {source}\n")


def populate(root: Path, *, source: str, dns: str, other: str) -> None:
    """Write the lab's zones into lab-dns's root (its image made the empty database)."""
    db = sqlite3.connect(root / DATABASE)
    try:
        with db:
            db.execute("DELETE FROM records")
            db.execute("DELETE FROM domains")
            cursor = db.execute("INSERT INTO domains (name, type) VALUES (?, 'NATIVE')", (ZONE,))
            zone_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, 1)",
                [(zone_id, r.name, r.rtype, r.content, r.ttl, r.prio)
                 for r in example_records(source, dns, other)])
    finally:
        db.close()
    etc = root / "etc/powerdns"
    (etc / f"{STATIC_ZONE}.zone").write_text(static_zone_file(source))
    (etc / "named.conf").write_text(
        f'zone "{STATIC_ZONE}" {{ type master; file "/etc/powerdns/{STATIC_ZONE}.zone"; }};\n')
