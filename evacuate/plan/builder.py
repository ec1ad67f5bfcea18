"""Build a RebuildPlan from the source's snapshot (inventory + manifest), the target's own
inventory and what the target's package sources offer. Pure: no I/O."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from evacuate.engines import owner_of, undumped_units
from evacuate.engines import plan_warnings as engine_warnings
from evacuate.engines.base import INSTANCE_MARK, container_of, container_tag
from evacuate.engines.daemons import undumped_warnings
from evacuate.inventory import HostInventory
from evacuate.plan.accounts import plan_accounts
from evacuate.plan.containers import containers_steps, plan_containers
from evacuate.plan.crossing import (
    carried_config,
    cross_release,
    map_units,
    warn_conffiles,
    warn_engines,
    warn_units,
)
from evacuate.plan.estimate import estimate_rebuild
from evacuate.plan.hoststate import plan_state
from evacuate.plan.model import (
    DatabasePlan,
    PlanWarning,
    RebuildPlan,
    Step,
    StepKind,
)
from evacuate.plan.renewals import renewal_warnings
from evacuate.plan.selection import (
    MIRRORED,
    config_paths,
    data_roots,
    file_selector,
    plan_totals,
)
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.transport.throttle import RateLimit

NOT_PORTABLE = ("linux-image-*", "linux-headers-*", "grub*", "firmware-*", "*-microcode",
                "cloud-init", "cloud-guest-utils", "qemu-guest-agent", "open-vm-tools",
                "ifupdown", "netplan.io", "systemd-resolved", "initramfs-tools")
SERVICE_NOISE = ("systemd-*", "getty@*", "serial-getty@*", "console-*", "e2scrub*", "apt-daily*",
                 "dpkg-db-backup*", "fstrim*", "logrotate*", "man-db*", "networking*",
                 "ifup@*", "dbus*", "user@*", "user-runtime-dir@*", "ssh*", "sshd*", "rc-local*", "cloud-*",
                 "remote-fs*", "getty*", "emergency*", "rescue*", "kmod*", "keyboard-setup*",
                 "console-setup*", "sysstat*", "unattended-upgrades*", "*.mount", "*.slice",
                 "*.scope", "*.device", "*.swap", "*.path", "*.target", "ssl-cert*")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _os(inv: HostInventory) -> str:
    return inv.os.pretty_name or f"{inv.os.id} {inv.os.version_id}"


def build_plan(source: HostInventory, manifest: SnapshotManifest, target: HostInventory, *,
               target_label: str, target_spec: str, available: Mapping[str, str | None],
               target_free_bytes: int | None, config_texts: Mapping[str, str],
               now: datetime | None = None,
               target_names: Collection[str] | None = None,
               limit_rate: RateLimit | None = None, fleet_limit_rate: RateLimit | None = None,
               concurrency: int = 1) -> RebuildPlan:
    """``limit_rate``: the bandwidth limit per host the estimate assumes; ``fleet_limit_rate``
    the fleet-wide one, shared by the ``concurrency`` hosts of the wave moving at once.
    ``available``: package → the target's candidate version (None: not available).
    ``config_texts``: contents of the config files carried over (to find hard-coded IPs).
    ``target_names``: every package the target's sources offer; across releases, packages
    not available under their own name are looked up there under their new one."""
    warnings: list[PlanWarning] = []
    crossing_release = (source.os.id, source.os.version_id) != (target.os.id, target.os.version_id)
    if crossing_release:
        warnings.append(PlanWarning("os-release", f"the source runs {_os(source)}, the target "
                                    f"{_os(target)}: packages are mapped to the target's "
                                    "release; check the differences listed below"))

    manual = sorted(p.name for p in source.packages if p.manual and not _matches(p.name, NOT_PORTABLE))
    missing = sorted(name for name in manual if available.get(name) is None)
    packages = [name for name in manual if name not in missing]
    crossing = cross_release(source, missing, target_names if crossing_release else None,
                             _os(target))
    packages = sorted({*packages, *crossing.install})
    missing = list(crossing.missing)
    warnings.extend(crossing.warnings)
    if crossing_release:
        warn_engines(source, available, warnings)

    # the packages the target will have that it lacks now: they create their own accounts
    installing = {p.name for p in source.packages if not _matches(p.name, NOT_PORTABLE)} \
        - set(missing) - {p.name for p in target.packages}
    accounts = plan_accounts(source, target, installing)
    users, groups = accounts.users, accounts.groups
    warnings.extend(accounts.warnings)
    local = {f.path for f in source.unowned_files.files} | {c.path for c in source.changed_conffiles}
    # the snapshot's bytes (config_texts), the parsed lines only where the snapshot has none
    sudoers = tuple((s.path.rsplit("/", 1)[-1], config_texts.get(s.path)
                     or "\n".join(s.lines) + "\n")
                    for s in source.sudoers if s.path.startswith("/etc/sudoers.d/")
                    and s.path in local)

    referenced = [p for v in source.web for p in (v.tls_cert, v.tls_key_path) if p] + \
        [c.path for c in source.certificates]
    exclusion = bool(manifest.rules)  # chosen by exclusion: every /etc file in it is config
    unowned = ([e.path for e in manifest.files if e.kind == "file"] if exclusion
               else [f.path for f in source.unowned_files.files])
    config = config_paths((c.path for c in source.changed_conffiles), [*unowned, *referenced])
    config = carried_config(config, crossing.changes, warnings)
    if crossing_release:
        warn_conffiles(source, config, _os(source), _os(target), warnings)
    roots = data_roots(manifest.roots)
    other_release = tuple(sorted({f"/etc/{c.family}/{c.old}" for c in crossing.changes}))
    select = file_selector(config, roots, exclusion, other_release)
    chosen = [e for e in manifest.files if select(e)]
    rules = (*manifest.rules,
             *plan_totals(manifest.files, config, roots, exclusion, other_release))
    warnings.extend(_package_warnings(source))
    warnings.extend(PlanWarning("data-daemon", line) for line in undumped_warnings(source))
    dumped_engines = {d.engine for d in manifest.dumps}
    containers, container_warnings = plan_containers(source.containers, tuple(
        s for s in source.databases
        if s.container and f"{s.engine}{INSTANCE_MARK}{container_tag(s)}" in dumped_engines),
        available)
    warnings.extend(container_warnings)
    warnings.extend(PlanWarning("database-copy", line) for line in engine_warnings(
        source, ((d.engine, d.database) for d in manifest.dumps)))
    file_bytes = sum(e.size for e in chosen if e.kind == "file" and not e.hardlink_to)
    state = plan_state(source, manifest, {e.path for e in chosen}, missing, config_texts,
                       warnings)
    packages, missing = sorted({*packages, *state.from_carried}), list(state.missing)
    for name in missing:
        warnings.append(PlanWarning("package-missing", f"package {name} is not available from "
                                    "the target's package sources: it will not be installed "
                                    "(locally built .deb or removed in the target's release?)"))

    databases = tuple(DatabasePlan(d.engine, d.database, d.blob.size, len(d.tables),
                                   owner=owner_of(source, d.engine, d.database))
                      for d in manifest.dumps)
    dump_bytes = sum(d.size_bytes for d in databases)

    unit_names = ({s.name for s in source.services} | {t.name for t in source.timers}
                  | {k.name for k in source.sockets})
    enabled = sorted(n for n in unit_names if _state(source, n) == "enabled"
                     and not _matches(n, SERVICE_NOISE))
    started = sorted([s.name for s in source.services if _ran(s.active_state, s.enabled_state)
                      and s.name.endswith(".service") and not _matches(s.name, SERVICE_NOISE)]
                     + [t.name for t in source.timers if _ran(t.active_state, t.enabled_state)
                        and not _matches(t.name, SERVICE_NOISE)]
                     + [k.name for k in source.sockets if _ran(k.active_state, k.enabled_state)
                        and not _matches(k.name, SERVICE_NOISE)])
    warn_units([*enabled, *started], crossing.changes, warnings)
    enabled, started = map_units(enabled, crossing.changes), map_units(started, crossing.changes)

    _warn_listeners(source, target, warnings)
    _warn_certificates(source, now or datetime.now(UTC), warnings)
    warnings += [PlanWarning("cert-http01", w) for w in
                 renewal_warnings(config_texts, source.certificates, now or datetime.now(UTC))]
    _warn_ips(source, config_texts, warnings)
    needed = file_bytes + 3 * dump_bytes + 400 * 1024 * 1024 * bool(packages)
    if target_free_bytes is not None and target_free_bytes < needed:
        warnings.append(PlanWarning("disk", f"the target has {target_free_bytes >> 20} MiB free "
                                    f"on /, the rebuild needs about {needed >> 20} MiB",
                                    "blocker"))

    to_install = [p for p in packages if p not in {q.name for q in target.packages}]
    estimate = estimate_rebuild(file_bytes=file_bytes, dump_bytes=dump_bytes,
                                packages_to_install=len(to_install),
                                snapshot_seconds=manifest.totals.seconds, limit=limit_rate,
                                fleet_limit=fleet_limit_rate, concurrency=concurrency)
    steps = (
        Step("snapshot", "take a fresh snapshot of the source (or use the latest)",
             StepKind.SNAPSHOT),
        Step("prepare", "target: packages, groups, users, keys, sudoers", StepKind.PREPARE,
             ("prepare",)),
        Step("files", f"restore {len(chosen)} entries ({file_bytes >> 20} MiB): config and data",
             StepKind.FILES),
        Step("databases", f"restore {len(databases)} dumps ({dump_bytes >> 10} KiB)"
             + (f"; {in_containers} of them into their containers in the containers step"
                if (in_containers := sum(bool(container_of(d.engine)[1]) for d in databases))
                else ""),
             StepKind.DATABASES),
        Step("activate", "cron, firewall, enable and start services", StepKind.ACTIVATE,
             ("activate",)),
        *containers_steps(containers),
        Step("verify", "check the target against the source", StepKind.VERIFY),
    )
    return RebuildPlan(
        name=f"{manifest.host}-to-{target_label}", source=manifest.host, target=target_label,
        target_spec=target_spec, source_os=_os(source), target_os=_os(target),
        snapshot_id=manifest.id, created=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        packages=tuple(packages), packages_missing=tuple(missing), groups=tuple(groups),
        users=tuple(users), sudoers=sudoers, config_files=tuple(config), data_roots=tuple(roots),
        mirrored_dirs=MIRRORED, file_count=len(chosen), file_bytes=file_bytes,
        databases=databases, services_enabled=tuple(enabled), services_started=tuple(started),
        cron_entries=sum(len(c.entries) for c in source.crontabs), timezone=source.os.timezone,
        firewall_rules=len([ln for ln in source.firewall.nftables.splitlines() if ln.strip()]),
        steps=steps, estimate=estimate, warnings=tuple(warnings),
        packages_renamed=crossing.renamed, rules=rules,
        selection="exclusion" if exclusion else "inclusion",
        postgresql_carry=next(((c.old, c.new) for c in crossing.changes
                               if c.family == "postgresql"), ()),
        state=state.state, target_own=accounts.target_own, other_release=other_release,
        containers=containers,
        undumped_units=undumped_units(source))


def _package_warnings(source: HostInventory) -> list[PlanWarning]:
    missing = source.package_files.without_md5sums
    if not missing:
        return []
    return [PlanWarning("no-md5sums", f"{len(missing)} packages have no md5sums, so files of "
                        f"theirs that were changed are not found and not carried: "
                        f"{', '.join(missing)}")]


def _ran(active: str, enabled: str) -> bool:
    """Whether a unit ran on the source: active, or (a rescued disk, where nothing runs and
    the active state is unknown) enabled, so that it would have started at boot."""
    return active == "active" or (not active and enabled in ("enabled", "enabled-runtime"))


def _state(inv: HostInventory, name: str) -> str:
    states = {s.name: s.enabled_state for s in inv.services}
    states.update({t.name: t.enabled_state for t in inv.timers})
    states.update({k.name: k.enabled_state for k in inv.sockets})
    return states.get(name, "")




def _warn_listeners(source: HostInventory, target: HostInventory,
                    warnings: list[PlanWarning]) -> None:
    for listener in source.listeners:
        if not listener.unit or (listener.unit == "init.scope" and not listener.package):
            warnings.append(PlanWarning("unknown-daemon", f"port {listener.port}/{listener.proto}"
                                        f" is served by {listener.process or 'an unknown process'}"
                                        " that no unit or package explains: move it by hand"))
    taken = {(lst.port, lst.proto): lst for lst in target.listeners}
    for listener in source.listeners:
        other = taken.get((listener.port, listener.proto))
        if other is not None and other.process != listener.process and listener.port != 22:
            warnings.append(PlanWarning("port-taken", f"port {listener.port}/{listener.proto} is "
                                        f"already used on the target by {other.process}"))


def _warn_certificates(source: HostInventory, now: datetime, warnings: list[PlanWarning]) -> None:
    for cert in source.certificates:
        try:
            expires = datetime.strptime(cert.not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue
        days = (expires - now).days
        if days < 30:
            warnings.append(PlanWarning("cert-expiry", f"certificate {cert.path} ({cert.subject}) "
                                        f"{'expired' if days < 0 else 'expires in'} "
                                        f"{abs(days)} days{' ago' if days < 0 else ''}"))
        names = [s.split(":", 1)[-1] for s in cert.sans if s.startswith("DNS:")]
        if names and cert.path.startswith(("/etc/ssl/certs/", "/etc/letsencrypt/")) and \
                "snakeoil" not in cert.path:
            warnings.append(PlanWarning("cert-names", f"certificate {cert.path} is for "
                                        f"{', '.join(names)}: DNS for these names points at the "
                                        "source until you switch it", "info"))


_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def _warn_ips(source: HostInventory, texts: Mapping[str, str], warnings: list[PlanWarning]) -> None:
    own = set()
    for interface in source.network.interfaces:
        for address in interface.addresses:
            ip = address.split("/")[0]
            try:
                if not ipaddress.ip_address(ip).is_loopback:
                    own.add(ip)
            except ValueError:
                continue
    for path, text in sorted(texts.items()):
        found = sorted({m for m in _IPV4.findall(text) if m in own})
        if found:
            warnings.append(PlanWarning("hardcoded-ip", f"{path} names the source's address "
                                        f"{', '.join(found)}: change it for the target"))
