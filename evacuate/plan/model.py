"""The RebuildPlan: what moves from the source to the target, in which steps, how long it
should take, and what a sysadmin must know before running it. Pure data, saved as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from evacuate.dns.model import DnsPlan
from evacuate.plan.containers_model import ContainersPlan
from evacuate.plan.state_model import StatePlan
from evacuate.snapshot.exclusion import RuleTotal

PLAN_VERSION = 1


@dataclass(frozen=True)
class PlanWarning:
    code: str  # e.g. os-release, disk, hardcoded-ip, cert-expiry, unknown-daemon, uid-collision
    message: str
    severity: str = "warning"  # warning | info | blocker


@dataclass(frozen=True)
class UserPlan:
    name: str
    uid: int
    group: str
    gid: int
    groups: tuple[str, ...]
    home: str
    shell: str
    comment: str
    system: bool
    authorized_keys: tuple[str, ...]
    uid_kept: bool = True
    # see evacuate.plan.accounts: "create" (the target lacks it; its packages or the users
    # role make it) or "update" (the target has it: groups and state only, its uid stays)
    action: str = "create"
    source_uid: int | None = None  # the uid on the source (uid: the one planned here)
    early: bool = False  # created before the packages install (no package makes it)
    created_by: tuple[str, ...] = ()  # packages expected to create it on the target
    locked: bool = False
    last_change: int | None = None  # /etc/shadow aging, days (None: empty)
    min_days: int | None = None
    max_days: int | None = None
    warn_days: int | None = None
    inactive_days: int | None = None
    expire_date: int | None = None


@dataclass(frozen=True)
class GroupPlan:
    name: str
    gid: int
    gid_kept: bool = True
    source_gid: int | None = None
    system: bool = False
    early: bool = False
    created_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetAccount:
    """An account or group the target had before the rebuild and the source has not:
    the target's own, left alone (``home`` empty for groups)."""

    kind: str  # user | group
    name: str
    id: int
    home: str = ""


@dataclass(frozen=True)
class DatabasePlan:
    engine: str
    name: str  # an engine's accounts dump (evacuate.engines.is_accounts) for roles and users
    size_bytes: int
    tables: int
    owner: str = ""


class StepKind(StrEnum):
    """What a step does; ``rebuild.run`` has one handler per kind."""

    SNAPSHOT = "snapshot"
    PREPARE = "prepare"  # the playbook's packages, users, keys (may run beside the snapshot)
    FILES = "files"
    DATABASES = "databases"
    ACTIVATE = "activate"  # the playbook's cron, firewall, services (those that exist)
    CONTAINERS = "containers"  # load the saved images, bring the Compose projects up
    VERIFY = "verify"
    ANSIBLE = "ansible"  # any other playbook step: its tags


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    kind: StepKind
    tags: tuple[str, ...] = ()


class SourceKind(StrEnum):
    HOST = "host"  # a host to connect to
    DISK = "disk"  # a rescued disk: nothing to connect to, only its snapshots


@dataclass(frozen=True)
class PlanSource:
    """Where a plan's source is: ``host`` is its name in evacuate.yml or its SSH spec (a
    host), or the label its snapshots are filed under (a disk)."""

    kind: SourceKind = SourceKind.HOST
    host: str = ""

    @property
    def is_disk(self) -> bool:
        return self.kind is SourceKind.DISK


@dataclass(frozen=True)
class Estimate:
    transfer_bytes: int
    transfer_seconds: float
    packages_seconds: float
    total_seconds: float
    cutover_downtime_seconds: float
    limit_bytes_per_second: int | None = None  # the bandwidth limit the estimate assumed
    limit_assumed: str | None = None  # which: "host" (limit_rate) or "fleet" (its share)
    fleet_limit_bytes_per_second: int | None = None  # the fleet-wide limit it was a share of
    fleet_concurrency: int = 1  # hosts of the wave moving at once, sharing the fleet limit


@dataclass(frozen=True)
class RebuildPlan:
    name: str
    source: str
    target: str
    target_spec: str
    source_os: str
    target_os: str
    snapshot_id: str
    created: str
    packages: tuple[str, ...]
    packages_missing: tuple[str, ...]
    groups: tuple[GroupPlan, ...]
    users: tuple[UserPlan, ...]
    sudoers: tuple[tuple[str, str], ...]  # (name, content)
    config_files: tuple[str, ...]
    data_roots: tuple[str, ...]
    mirrored_dirs: tuple[str, ...]
    file_count: int
    file_bytes: int
    databases: tuple[DatabasePlan, ...]
    services_enabled: tuple[str, ...]
    services_started: tuple[str, ...]
    cron_entries: int
    timezone: str
    firewall_rules: int
    steps: tuple[Step, ...]
    estimate: Estimate
    warnings: tuple[PlanWarning, ...] = ()
    version: int = PLAN_VERSION
    source_spec: PlanSource = PlanSource()  # "" (empty host) in plans of early versions
    packages_renamed: tuple[tuple[str, str], ...] = ()  # (source name, target release's name)
    postgresql_carry: tuple[str, ...] = ()  # (old, new) major versions: see rebuild.pgcarry
    state: StatePlan = field(default_factory=StatePlan)  # see plan.hoststate
    target_own: tuple[TargetAccount, ...] = ()  # see evacuate.plan.accounts
    rules: tuple[RuleTotal, ...] = ()  # what each rule carried or left (snapshot and plan)
    selection: str = "inclusion"  # exclusion: the snapshot holds everything that moves
    other_release: tuple[str, ...] = ()  # /etc dirs of versions the target lacks: see selection
    dns: DnsPlan | None = None  # evacuate.yml has a dns section: see evacuate.dns.planning
    containers: ContainersPlan = field(default_factory=ContainersPlan)  # see plan.containers
    # the units of database servers the snapshot does not dump (a second instance of an
    # engine): the cutover stops them like any writer (see rebuild.cutover.writers)
    undumped_units: tuple[str, ...] = ()
