"""Fact family ``network``: interfaces and addresses, routes, /etc/hosts, resolvers.

``ip -j`` (JSON) is used where iproute2 supports it; otherwise ``ip -o addr`` and
``ip route`` text, which the parser reads as well.
"""

from __future__ import annotations

import json
from typing import Any

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import HostsEntry, Interface, Network, Route


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _interfaces_json(text: str) -> list[Interface]:
    result = []
    for link in _json_list(text):
        addresses = tuple(
            f"{a['local']}/{a.get('prefixlen', '')}".rstrip("/")
            for a in link.get("addr_info", []) if isinstance(a, dict) and a.get("local")
        )
        result.append(Interface(
            name=str(link.get("ifname", "")), mac=str(link.get("address", "")),
            mtu=int(link.get("mtu", 0) or 0), state=str(link.get("operstate", "")),
            addresses=addresses,
        ))
    return result


def _interfaces_text(text: str) -> list[Interface]:
    # "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft ..."
    addresses: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] in ("inet", "inet6"):
            addresses.setdefault(fields[1], []).append(fields[3])
    return [Interface(name=name, addresses=tuple(addrs)) for name, addrs in addresses.items()]


def _routes_json(text: str) -> list[Route]:
    return [
        Route(destination=str(r.get("dst", "")), gateway=str(r.get("gateway", "")),
              device=str(r.get("dev", "")))
        for r in _json_list(text) if r.get("type", "unicast") == "unicast"
    ]


def _routes_text(text: str) -> list[Route]:
    routes = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] in ("broadcast", "local", "unreachable", "prohibit"):
            continue
        opts = dict(zip(fields[1::2], fields[2::2], strict=False))
        routes.append(Route(destination=fields[0], gateway=opts.get("via", ""),
                            device=opts.get("dev", "")))
    return routes


def _hosts(text: str) -> list[HostsEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) >= 2:
            entries.append(HostsEntry(address=fields[0], names=tuple(fields[1:])))
    return entries


def parse(text: str) -> Network:
    """Parse the ``network`` section."""
    interfaces: list[Interface] = []
    routes: list[Route] = []
    hosts: list[HostsEntry] = []
    nameservers: list[str] = []
    search: list[str] = []
    for part in split_parts(text):
        if part.kind == "addr-json":
            interfaces = _interfaces_json(part.text)
        elif part.kind == "addr-text":
            interfaces = _interfaces_text(part.text)
        elif part.kind in ("route-json", "route6-json"):
            routes += _routes_json(part.text)
        elif part.kind == "route-text":
            routes += _routes_text(part.text)
        elif part.kind == "hosts":
            hosts = _hosts(part.text)
        elif part.kind == "resolv":
            for line in part.text.splitlines():
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    nameservers.append(fields[1])
                elif fields and fields[0] in ("search", "domain"):
                    search = fields[1:]
    return Network(
        interfaces=tuple(interfaces), routes=tuple(routes), hosts=tuple(hosts),
        nameservers=tuple(nameservers), search=tuple(search),
    )


FACT = Fact(name="network", script=snippet("network"), parse=parse, default=Network, timeout=20)
