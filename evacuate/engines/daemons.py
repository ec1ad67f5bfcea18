"""Daemons that keep data of their own (redis, mongodb, slapd, a mail server...), recognised
on a source by what it says about itself: an installed package, a unit, a listening
process. Verify counts each one's data as an item to check (evacuate.verify.coverage); the
plan warns about those no engine dumps natively (their files are copied while they run)."""

from __future__ import annotations

from dataclasses import dataclass

from evacuate.engines import engine_for
from evacuate.inventory.model import HostInventory

ENABLED = ("enabled", "enabled-runtime")
FILE_STORES = ("mail",)
"""Areas whose data is files made to be copied while written (maildirs, a mail queue)."""


@dataclass(frozen=True)
class DataStore:
    """A daemon that keeps data of its own, recognised by its package, unit or process;
    its data is verified by the checks of ``area`` (none yet for most)."""

    label: str
    area: str
    packages: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # unit (without .service) or process names


DATA_STORES = (
    DataStore("redis", "redis", ("redis-server",), ("redis-server", "redis")),
    DataStore("valkey", "valkey", ("valkey-server",), ("valkey-server", "valkey")),
    DataStore("keydb", "keydb", ("keydb-server",), ("keydb-server", "keydb")),
    DataStore("mongodb", "mongodb", ("mongodb-org-server", "mongodb-server"), ("mongod",)),
    DataStore("elasticsearch", "elasticsearch", ("elasticsearch",), ("elasticsearch",)),
    DataStore("opensearch", "opensearch", ("opensearch",), ("opensearch",)),
    DataStore("rabbitmq", "rabbitmq", ("rabbitmq-server",), ("rabbitmq-server", "beam.smp")),
    DataStore("etcd", "etcd", ("etcd-server", "etcd"), ("etcd",)),
    DataStore("influxdb", "influxdb", ("influxdb", "influxdb2"), ("influxd", "influxdb")),
    DataStore("couchdb", "couchdb", ("couchdb",), ("couchdb",)),
    DataStore("cassandra", "cassandra", ("cassandra",), ("cassandra",)),
    DataStore("LDAP directory", "ldap", ("slapd",), ("slapd",)),
    DataStore("mail", "mail", ("postfix", "exim4-daemon-light", "exim4-daemon-heavy",
                               "dovecot-core", "dovecot-imapd", "cyrus-imapd"),
              ("postfix", "master", "exim4", "dovecot", "cyrus-imapd")),
)
"""Data stores recognised on a source (documented in the README's verify section)."""

@dataclass(frozen=True)
class FoundStore:
    """A data store found on a source: its ports and the enabled units that run it."""

    store: DataStore
    ports: tuple[int, ...]
    units: tuple[str, ...]

    @property
    def dumped_natively(self) -> bool:
        return engine_for(self.store.area) is not None or self.store.area in FILE_STORES


def found_data_stores(source: HostInventory) -> list[FoundStore]:
    """The :data:`DATA_STORES` ``source`` has (by package, enabled unit or listener)."""
    packages = {p.name for p in source.packages}
    found = []
    for store in DATA_STORES:
        names = set(store.names)
        ports = sorted({lst.port for lst in source.listeners
                        if lst.process in names or lst.unit.removesuffix(".service") in names})
        units = [s.name for s in source.services
                 if s.name.removesuffix(".service") in names and s.enabled_state in ENABLED]
        if ports or units or packages & set(store.packages):
            found.append(FoundStore(store, tuple(ports), tuple(units)))
    return found


def undumped_warnings(source: HostInventory) -> list[str]:
    """One line per data store found that no engine dumps: copied as files while running."""
    lines = []
    for found in found_data_stores(source):
        if found.dumped_natively:
            continue
        where = ", ".join([*found.units, *(f"port {p}" for p in found.ports)])
        lines.append(f"{found.store.label}{f' ({where})' if where else ''} keeps data evacuate "
                     "cannot dump natively: its files are copied while it runs and may be "
                     "inconsistent; a cutover stops it before the final copy")
    return lines
