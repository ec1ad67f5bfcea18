"""The typed model of what a host runs: :class:`HostInventory` and its parts.

Every part is a frozen dataclass of plain values (str, int, bool, float, None,
tuples, dicts with str keys, other parts), so :mod:`evacuate.inventory.serialize`
can turn it into JSON and back without per-class code. Collections are tuples.

Secrets never enter the model: a user carries ``has_password`` (computed on the
host) and never a hash; databases carry role names, never passwords.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evacuate.inventory.model_apps import (  # noqa: F401  (re-exported)
    Certificate,
    Database,
    DatabaseServer,
    DataCandidate,
    Firewall,
    MailServer,
    SysctlSetting,
    VHost,
)
from evacuate.inventory.model_containers import (  # noqa: F401  (re-exported)
    ComposeProject,
    Container,
    ContainerImage,
    ContainerMount,
    Containers,
    ContainerVolume,
    PortBinding,
    RootlessContainer,
    RootlessPodman,
)
from evacuate.inventory.model_state import (  # noqa: F401  (re-exported)
    AptPackageFile,
    FileAttribute,
    HostState,
    LocalPackage,
)
from evacuate.inventory.model_units import (
    Listener,
    Service,
    Socket,
    Timer,
)

SCHEMA_VERSION = 1


# --- os, hardware, network -------------------------------------------------------


@dataclass(frozen=True)
class OsInfo:
    """The distribution and kernel. ``family`` is debian|redhat|alpine|unknown and
    ``init`` is systemd|openrc|sysv|unknown; together they pick the fact variants."""

    id: str = "unknown"
    id_like: tuple[str, ...] = ()
    version_id: str = ""
    codename: str = ""
    pretty_name: str = ""
    family: str = "unknown"
    init: str = "unknown"
    kernel: str = ""
    arch: str = ""
    hostname: str = ""
    fqdn: str = ""
    timezone: str = ""
    locale: str = ""


@dataclass(frozen=True)
class BlockDevice:
    name: str
    type: str
    size_bytes: int
    fstype: str = ""
    mountpoint: str = ""


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str
    options: str = ""
    size_bytes: int | None = None
    used_bytes: int | None = None


@dataclass(frozen=True)
class FstabEntry:
    source: str
    target: str
    fstype: str
    options: str = "defaults"
    dump: int = 0
    passno: int = 0


@dataclass(frozen=True)
class Hardware:
    cpu_model: str = ""
    cpu_count: int = 0
    memory_bytes: int = 0
    swap_bytes: int = 0
    block_devices: tuple[BlockDevice, ...] = ()
    mounts: tuple[Mount, ...] = ()
    fstab: tuple[FstabEntry, ...] = ()


@dataclass(frozen=True)
class Interface:
    name: str
    mac: str = ""
    mtu: int = 0
    state: str = ""
    addresses: tuple[str, ...] = ()  # CIDR notation, e.g. "192.0.2.10/24"


@dataclass(frozen=True)
class Route:
    destination: str  # "default" or a CIDR
    gateway: str = ""
    device: str = ""


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    hosts: tuple[HostsEntry, ...] = ()
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()


# --- packages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    """An installed package. ``manual`` is False when the package manager installed
    it as a dependency; ``source_repo`` is set only where the manager records it."""

    name: str
    version: str
    arch: str = ""
    manual: bool = True
    source_repo: str | None = None


@dataclass(frozen=True)
class Repository:
    """One package source: an apt one-line entry or deb822 stanza, a yum .repo section
    or an apk repositories line."""

    kind: str  # deb | deb-src | rpm | apk
    uris: tuple[str, ...]
    suites: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    file: str = ""
    name: str = ""
    enabled: bool = True
    signed_by: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Keyring:
    """A repository signing key file (public data), base64 of its bytes."""

    path: str
    sha256: str
    data_base64: str


@dataclass(frozen=True)
class PackageSources:
    repositories: tuple[Repository, ...] = ()
    keyrings: tuple[Keyring, ...] = ()


@dataclass(frozen=True)
class ChangedConffile:
    """A package's configuration file whose content differs from the shipped one
    (``actual_md5`` None: the file was deleted). ``diff`` is the unified diff from the
    shipped version, secret-looking values redacted (see inventory.conffile_diffs), when
    that version could be found; ``diff_note`` says where it came from or why there is none."""

    path: str
    package: str
    expected_md5: str
    actual_md5: str | None
    diff: str | None = None
    diff_note: str = ""


@dataclass(frozen=True)
class UnownedFile:
    path: str
    size_bytes: int | None = None


@dataclass(frozen=True)
class UnownedFiles:
    """Regular files under the scanned roots that no package owns, capped."""

    roots: tuple[str, ...] = ()
    files: tuple[UnownedFile, ...] = ()
    total_count: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class ChangedPackageFile:
    """A file a package installed whose content now differs from dpkg's md5sums."""

    path: str
    package: str


@dataclass(frozen=True)
class PackageFiles:
    """Package files (not conffiles) the admin changed, those that could not be read, the
    packages whose files cannot be checked (no md5sums), and how many files were looked at."""

    changed: tuple[ChangedPackageFile, ...] = ()
    unreadable: tuple[ChangedPackageFile, ...] = ()
    without_md5sums: tuple[str, ...] = ()
    checked: int = 0


# services, timers, sockets and listeners: evacuate.inventory.model_units


# --- accounts and scheduled jobs ----------------------------------------------------


@dataclass(frozen=True)
class User:
    """An account. There is deliberately no password hash field: the host computes
    ``has_password`` and the hash never leaves it."""

    name: str
    uid: int
    gid: int
    home: str = ""
    shell: str = ""
    gecos: str = ""
    groups: tuple[str, ...] = ()
    has_password: bool = False
    authorized_keys: tuple[str, ...] = ()
    system: bool = False
    # /etc/shadow without the hash: locked (the field starts with ! or *: passwd -S says L)
    # and the aging fields in days (None: the field is empty)
    locked: bool = False
    last_change: int | None = None
    min_days: int | None = None
    max_days: int | None = None
    warn_days: int | None = None
    inactive_days: int | None = None
    expire_date: int | None = None  # days since 1970-01-01
    # the packages whose maintainer scripts or sysusers.d files create this account
    created_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...] = ()
    system: bool = False
    created_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdRanges:
    """The host's own id ranges (login.defs; Debian's defaults when unset): where useradd
    and adduser take people's and system accounts' ids."""

    uid_min: int = 1000
    uid_max: int = 60000
    gid_min: int = 1000
    gid_max: int = 60000
    sys_uid_min: int = 100
    sys_uid_max: int = 999
    sys_gid_min: int = 100
    sys_gid_max: int = 999


@dataclass(frozen=True)
class SudoersFile:
    path: str
    lines: tuple[str, ...]  # comments and blank lines stripped; #include kept


@dataclass(frozen=True)
class Accounts:
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    sudoers: tuple[SudoersFile, ...] = ()
    ranges: IdRanges = field(default_factory=IdRanges)


@dataclass(frozen=True)
class CronEntry:
    schedule: str  # "m h dom mon dow" or "@daily"
    command: str
    user: str = ""


@dataclass(frozen=True)
class Crontab:
    """A crontab file; ``owner`` is set for per-user spool crontabs."""

    path: str
    owner: str = ""
    environment: tuple[tuple[str, str], ...] = ()
    entries: tuple[CronEntry, ...] = ()


# --- the whole host --------------------------------------------------------------------


@dataclass(frozen=True)
class HostInventory:
    """Everything known about one host at ``collected_at`` (ISO 8601 UTC).

    ``errors`` maps a section name to why it is missing or incomplete; a section in
    ``errors`` keeps its empty default.
    """

    host: str
    collected_at: str
    schema_version: int = SCHEMA_VERSION
    os: OsInfo = field(default_factory=OsInfo)
    hardware: Hardware = field(default_factory=Hardware)
    network: Network = field(default_factory=Network)
    packages: tuple[Package, ...] = ()
    package_sources: PackageSources = field(default_factory=PackageSources)
    changed_conffiles: tuple[ChangedConffile, ...] = ()
    unowned_files: UnownedFiles = field(default_factory=UnownedFiles)
    package_files: PackageFiles = field(default_factory=PackageFiles)
    services: tuple[Service, ...] = ()
    timers: tuple[Timer, ...] = ()
    sockets: tuple[Socket, ...] = ()
    listeners: tuple[Listener, ...] = ()
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    sudoers: tuple[SudoersFile, ...] = ()
    account_ranges: IdRanges = field(default_factory=IdRanges)
    crontabs: tuple[Crontab, ...] = ()
    databases: tuple[DatabaseServer, ...] = ()
    web: tuple[VHost, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    firewall: Firewall = field(default_factory=Firewall)
    sysctl: tuple[SysctlSetting, ...] = ()
    containers: Containers = field(default_factory=Containers)
    mail: MailServer = field(default_factory=MailServer)
    data_candidates: tuple[DataCandidate, ...] = ()
    state: HostState = field(default_factory=HostState)
    errors: dict[str, str] = field(default_factory=dict)
