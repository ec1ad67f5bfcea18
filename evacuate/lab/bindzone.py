"""lab-bind's zone, written before it boots (its records name the lab's addresses).

``hosted.test`` is served by BIND 9 from ``/var/lib/bind`` and changed by RFC 2136 dynamic
update signed with a TSIG key (seed/bind/bind.sh writes the keys and the update-policy):
lab-source's names at a second provider, beside lab-dns's PowerDNS.
"""

from __future__ import annotations

import os
from pathlib import Path

from evacuate.lab.dnszone import ZONE as PDNS_ZONE

ZONE = "hosted.test"

KEY_NAME = "evacuate-lab."
KEY_ALGORITHM = "hmac-sha256"
KEY_SECRET = "84T69h0AK3yiC7czRZh6uMDx6tu+Un4fAlSJM7Lt98A="
"""evacuate's TSIG key on lab-bind (seed/bind/bind.sh): a lab secret never to be printed."""

ACME_KEY_NAME = "acme-lab."
ACME_KEY_SECRET = "BWZiIGMVe3/aBBPhNluAstT6tpCumOuYU0jp6HpUfeM="
"""An ACME client's key: its update-policy lets it change _acme-challenge TXT records only."""

ZONE_FILE = f"var/lib/bind/{ZONE}.zone"


def zone_file(*, source: str, bind: str, other: str) -> str:
    """hosted.test: its apex and api on lab-source (api with a second address elsewhere and
    a 2 h TTL), www a CNAME to the apex, status elsewhere, mail at example.test's MX host
    (lab-dns's zone), an SPF record and an ACME challenge left behind."""
    return (f"$ORIGIN {ZONE}.\n$TTL 3600\n"
            f"@\tIN SOA ns1.{ZONE}. hostmaster.{ZONE}. 2024060101 10800 3600 604800 300\n"
            "@\tIN NS ns1\n"
            f"ns1\tIN A {bind}\n"
            f"@\tIN A {source}\n"
            f"@\tIN MX 10 mx.{PDNS_ZONE}.\n"
            '@\tIN TXT "v=spf1 mx -all"\n'
            "www 600\tIN CNAME @\n"
            f"api 7200\tIN A {source}\n"
            f"api 7200\tIN A {other}\n"
            f"status\tIN A {other}\n"
            '_acme-challenge 300\tIN TXT "left-over-token"\n')


def populate(root: Path, *, source: str, bind: str, other: str) -> None:
    """Write hosted.test into lab-bind's root, owned by its bind user, without a journal
    from an earlier boot (the zone starts as written here)."""
    path = root / ZONE_FILE
    path.write_text(zone_file(source=source, bind=bind, other=other))
    uid = gid = 0
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "bind":
            uid, gid = int(fields[2]), int(fields[3])
    os.chown(path, uid, gid)
    for journal in path.parent.glob(f"{ZONE}.zone.jnl*"):
        journal.unlink()
