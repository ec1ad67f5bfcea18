"""The RebuildPlan: what moves from the source to the target, in which steps, how long it
should take, and what a sysadmin must know before running it. Pure data, saved as JSON."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class GroupPlan:
    name: str
    gid: int
    gid_kept: bool = True


@dataclass(frozen=True)
class DatabasePlan:
    engine: str
    name: str  # *globals* / *users* for roles and users
    size_bytes: int
    tables: int
    owner: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    kind: str  # snapshot | ansible | files | databases | verify
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    transfer_bytes: int
    transfer_seconds: float
    packages_seconds: float
    total_seconds: float
    cutover_downtime_seconds: float


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
    source_spec: str = ""
    packages_renamed: tuple[tuple[str, str], ...] = ()  # (source name, target release's name)
    postgresql_carry: tuple[str, ...] = ()  # (old, new) major versions: see rebuild.pgcarry
