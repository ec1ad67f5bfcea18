"""Fact family ``firewall``: the live rule sets as replayable text (``nft list
ruleset``, ``iptables-save``, ``ip6tables-save``). Listing is read-only; the
parser only trims the timestamp comments iptables-save adds."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, split_parts
from evacuate.inventory.model import Firewall

SCRIPT = r"""
if evac_has nft; then evac_part nft; nft list ruleset 2>/dev/null; fi
if evac_has iptables-save; then evac_part iptables; iptables-save 2>/dev/null; fi
if evac_has ip6tables-save; then evac_part ip6tables; ip6tables-save 2>/dev/null; fi
:
"""


def _iptables(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.startswith("# ")]
    # A table with only default ACCEPT policies and no rules says nothing.
    if not any(line.startswith("-A ") for line in lines):
        return ""
    return "\n".join(lines) + "\n"


def parse(text: str) -> Firewall:
    """Parse the ``firewall`` section; an empty rule set becomes ``""``."""
    parts = split_parts(text)
    nft = first_part(parts, "nft").strip()
    return Firewall(
        nftables=nft + "\n" if nft else "",
        iptables=_iptables(first_part(parts, "iptables")),
        ip6tables=_iptables(first_part(parts, "ip6tables")),
    )


FACT = Fact(name="firewall", script=SCRIPT, parse=parse, default=Firewall, timeout=30)
