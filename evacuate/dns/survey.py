"""The DNS plan of a source, asked live of the zones' servers (evacuate.yml ``dns``)."""

from __future__ import annotations

from evacuate.config.model import DnsSettings
from evacuate.dns.model import DnsPlan
from evacuate.dns.names import host_addresses, served_names
from evacuate.dns.planning import plan_dns
from evacuate.dns.resolve import Resolver
from evacuate.inventory.model import HostInventory


def survey(source: HostInventory, target: HostInventory | None,
           settings: DnsSettings) -> DnsPlan:
    """Plan the switch of the names ``source`` answers for to ``target``'s addresses
    (evacuate.yml's addresses when it gives them; none when ``target`` is None: the plan
    then only lists the records)."""
    names = served_names(source, settings.names, settings.exclude_names)
    source_addresses = settings.source_addresses or host_addresses(source)
    target_addresses = settings.target_addresses or (host_addresses(target) if target else ())
    return plan_dns(names, source_addresses, target_addresses, Resolver(settings.resolvers),
                    long_ttl=settings.long_ttl)
