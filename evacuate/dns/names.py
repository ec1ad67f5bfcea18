"""The names a server answers for and its own addresses, read from its inventory."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from evacuate.inventory.model import HostInventory

_NOT_NAMES = {"_", "localhost", "localhost.localdomain", ""}


@dataclass(frozen=True)
class ServedName:
    """A name clients reach the server by, and where evacuate saw it."""

    name: str
    why: str


def _usable(name: str) -> bool:
    """A DNS name that can be looked up: not nginx's catch-all or regex names, no
    wildcard, an IP address or a name without a dot."""
    if name in _NOT_NAMES or name.startswith(("~", "*", ".")) or "." not in name:
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return True
    return False


def served_names(inventory: HostInventory, extra: Iterable[str] = (),
                 exclude: Iterable[str] = ()) -> tuple[ServedName, ...]:
    """Every name the inventory shows the server answers for, once, in this order: web
    server vhosts, certificate names (subjectAltName DNS entries), a mail server's own
    name (its fully qualified hostname), then ``extra`` (evacuate.yml ``dns.names``);
    names in ``exclude`` are left out."""
    skip = {n.lower().rstrip(".") for n in exclude}
    found: dict[str, ServedName] = {}

    def add(name: str, why: str) -> None:
        name = name.lower().rstrip(".")
        if _usable(name) and name not in skip and name not in found:
            found[name] = ServedName(name, why)

    for vhost in inventory.web:
        for name in vhost.server_names:
            add(name, f"{vhost.server} vhost {vhost.file}")
    for cert in inventory.certificates:
        for san in cert.sans:
            if san.startswith("DNS:"):
                add(san[4:], f"certificate {cert.path}")
    if inventory.mail.queued is not None or inventory.mail.maildirs:
        add(inventory.os.fqdn or inventory.os.hostname, "the mail server's hostname")
    for name in extra:
        add(name, "evacuate.yml dns.names")
    return tuple(found.values())


def host_addresses(inventory: HostInventory) -> tuple[str, ...]:
    """The host's global addresses (no loopback, link-local or multicast), as DNS would
    hold them."""
    found = []
    for interface in inventory.network.interfaces:
        for cidr in interface.addresses:
            try:
                address = ipaddress.ip_interface(cidr).ip
            except ValueError:
                continue
            if not (address.is_loopback or address.is_link_local or address.is_multicast):
                found.append(str(address))
    return tuple(dict.fromkeys(found))
