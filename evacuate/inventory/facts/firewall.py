"""Fact family ``firewall``: the live rule sets as replayable text (``nft list
ruleset``, ``iptables-save``, ``ip6tables-save``). Listing is read-only; the
parser only trims the timestamp comments iptables-save adds."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts
from evacuate.inventory.model import Firewall


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


FACT = Fact(name="firewall", script=snippet("firewall"), parse=parse, default=Firewall, timeout=30)
