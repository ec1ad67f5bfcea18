"""The typed, frozen settings a validated evacuate.yml turns into.

Addresses of hosts and targets are the transport's own
:class:`~evacuate.transport.spec.HostSpec`, so a config entry can be handed to
:func:`~evacuate.transport.open_transport` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from evacuate.snapshot.store.url import StoreURL
from evacuate.transport.options import ConnectOptions
from evacuate.transport.spec import HostSpec
from evacuate.transport.throttle import RateLimit

Detect = bool | Literal["auto"]


@dataclass(frozen=True)
class SSHSettings:
    known_hosts: Path | None = None  # None: ~/.ssh/known_hosts
    identity_file: Path | None = None
    config_file: Path | None = None
    connect_timeout: float = 10.0
    trust_unknown_hosts: bool = False

    def connect_options(self, *, known_hosts: Path | None = None, identity: Path | None = None,
                        trust_unknown: bool = False,
                        limit_rate: RateLimit | None = None) -> ConnectOptions:
        """The connection options these settings give, overridden by the explicit
        arguments (the command line's); ``limit_rate``: the bandwidth limit per host."""
        return ConnectOptions(known_hosts=known_hosts or self.known_hosts,
                              identity=identity or self.identity_file,
                              ssh_config=self.config_file,
                              trust_unknown=trust_unknown or self.trust_unknown_hosts,
                              connect_timeout=self.connect_timeout, limit_rate=limit_rate)


@dataclass(frozen=True)
class DatabaseSettings:
    """Per engine (evacuate.engines: an Engine's ``name``): dump it or not."""

    postgresql: Detect = "auto"
    mysql: Detect = "auto"
    redis: Detect = "auto"
    sqlite: Detect = "auto"


@dataclass(frozen=True)
class HostConfig:
    name: str
    ssh: HostSpec
    become: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    databases: DatabaseSettings = field(default_factory=DatabaseSettings)
    target: str | None = None
    execution_node: HostSpec | None = None  # where its Ansible steps run (None: here)


@dataclass(frozen=True)
class TargetConfig:
    name: str
    ssh: HostSpec
    become: bool = False


@dataclass(frozen=True)
class StoreConfig:
    """Where snapshots live (``location``: a directory, or an S3 bucket and prefix) and
    how to reach and decrypt them."""

    location: StoreURL
    endpoint_url: str | None = None
    region: str | None = None
    key_file: Path | None = None
    key_env: str | None = None

    @property
    def url(self) -> str:
        return str(self.location)

    @property
    def is_s3(self) -> bool:
        return self.location.is_s3


@dataclass(frozen=True)
class SnapshotSettings:
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    with_logs: bool = False
    max_age: timedelta | None = None
    keep_last: int | None = None
    keep_daily: int | None = None


@dataclass(frozen=True)
class URLCheck:
    url: str
    host_header: str | None = None
    expect_status: int = 200
    expect_text: str | None = None


@dataclass(frozen=True)
class SQLCheck:
    database: str
    engine: Literal["postgresql", "mysql"]
    query: str
    expect: str | None = None


@dataclass(frozen=True)
class CommandCheck:
    command: str
    host: str | None = None  # None: every target
    expect_output: str | None = None


@dataclass(frozen=True)
class ImapLogin:
    """A mailbox user verify logs in as over IMAP; the password is read from the
    environment variable ``password_env`` (never from evacuate.yml, never printed)."""

    user: str
    password_env: str
    port: int = 143


@dataclass(frozen=True)
class AcceptedDifference:
    check: str
    reason: str


@dataclass(frozen=True)
class VerifySettings:
    urls: tuple[URLCheck, ...] = ()
    sql: tuple[SQLCheck, ...] = ()
    commands: tuple[CommandCheck, ...] = ()
    accept: tuple[AcceptedDifference, ...] = ()
    imap_logins: tuple[ImapLogin, ...] = ()


HookEvent = Literal["before_snapshot", "after_snapshot", "before_cutover", "after_cutover",
                   "after_run"]
HOOK_EVENTS: tuple[HookEvent, ...] = ("before_snapshot", "after_snapshot", "before_cutover",
                                      "after_cutover", "after_run")


@dataclass(frozen=True)
class Hook:
    """A command evacuate.yml runs at an event: on the controller, or (``on: source``,
    the one exception to read-only) on the source."""

    run: str
    on: Literal["controller", "source"] = "controller"
    timeout: float = 600.0


@dataclass(frozen=True)
class HookSettings:
    """evacuate.yml's ``hooks``: the commands of each event, in order."""

    before_snapshot: tuple[Hook, ...] = ()
    after_snapshot: tuple[Hook, ...] = ()
    before_cutover: tuple[Hook, ...] = ()
    after_cutover: tuple[Hook, ...] = ()
    after_run: tuple[Hook, ...] = ()

    def of(self, event: HookEvent) -> tuple[Hook, ...]:
        hooks: tuple[Hook, ...] = getattr(self, event)
        return hooks


@dataclass(frozen=True)
class NotifySettings:
    """evacuate.yml's ``notify``: Apprise URLs (secrets: never shown) and when to use them."""

    urls: tuple[str, ...] = field(default=(), repr=False)
    on_failure: bool = True
    on_stale: bool = True


@dataclass(frozen=True)
class DnsProvider:
    """What edits a zone: a dns-lexicon provider by its lexicon name (``options`` by
    lexicon's option names, see evacuate.dns.provider) or ``rfc2136``, evacuate's own
    dynamic update with a TSIG key (see evacuate.dns.rfc2136). Options may hold secrets:
    never shown."""

    name: str
    options: Mapping[str, str | int | bool] = field(
        default_factory=lambda: MappingProxyType({}), repr=False)


@dataclass(frozen=True)
class DnsSettings:
    """evacuate.yml ``dns``: where zones are looked up and what edits them: ``provider``
    with its ``provider_options`` for every zone, unless ``zones`` names another for it
    (secrets may come from the environment instead, see evacuate.dns.provider and
    evacuate.dns.rfc2136)."""

    resolvers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    source_addresses: tuple[str, ...] = ()
    target_addresses: tuple[str, ...] = ()
    long_ttl: int = 3600
    lowered_ttl: int = 300
    switch_timeout: int = 300
    provider: str | None = None
    provider_options: Mapping[str, str | int | bool] = field(
        default_factory=lambda: MappingProxyType({}), repr=False)
    zones: Mapping[str, DnsProvider] = field(
        default_factory=lambda: MappingProxyType({}), repr=False)  # zone name → its provider

    def provider_for(self, zone: str) -> DnsProvider | None:
        """The provider that edits ``zone`` (its own under ``zones``, else the default;
        None: neither)."""
        own = self.zones.get(zone.lower().rstrip("."))
        if own is not None:
            return own
        return DnsProvider(self.provider, self.provider_options) if self.provider else None

    @property
    def editable(self) -> bool:
        """Whether any zone has a provider."""
        return bool(self.provider or self.zones)


DEFAULT_CONCURRENCY = 4
"""How many hosts of a wave move at once when evacuate.yml does not say."""


@dataclass(frozen=True)
class WaveConfig:
    """One wave of evacuate.yml's ``waves``: its hosts (groups expanded, in order) and how
    many of them move at the same time."""

    name: str
    hosts: tuple[str, ...]
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True)
class LabSettings:
    subnet: int | None = None


@dataclass(frozen=True)
class Config:
    """A validated evacuate.yml. ``hosts``/``targets`` map names to their settings."""

    path: Path
    state_dir: Path
    ssh: SSHSettings = field(default_factory=SSHSettings)
    hosts: Mapping[str, HostConfig] = field(default_factory=lambda: MappingProxyType({}))
    targets: Mapping[str, TargetConfig] = field(default_factory=lambda: MappingProxyType({}))
    store: StoreConfig | None = None
    snapshot: SnapshotSettings = field(default_factory=SnapshotSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    lab: LabSettings = field(default_factory=LabSettings)
    limit_rate: RateLimit | None = None  # per host, every stream (transport.throttle)
    fleet_limit_rate: RateLimit | None = None  # shared by every host of a run (a fleet's)
    hooks: HookSettings = field(default_factory=HookSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    dns: DnsSettings | None = None  # None: no dns section, plans do not look DNS up
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    waves: tuple[WaveConfig, ...] = ()  # in order (evacuate.fleet)

    def members(self, name: str) -> tuple[str, ...]:
        """The hosts ``name`` stands for: a group's members, or the host itself."""
        return self.groups.get(name, (name,))
