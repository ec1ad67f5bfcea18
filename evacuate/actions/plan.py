"""Action: plan the rebuild of a source on a target, render the Ansible project, save both."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from evacuate.actions.snapshot import snapshot_host
from evacuate.actions.source_gone import GONE, source_gone_hint
from evacuate.ansible.vault import encrypt, ensure_vault_password
from evacuate.config import Config
from evacuate.dns.survey import survey
from evacuate.errors import EvacuateError, UsageError
from evacuate.hooks import source_hook_lines
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.inventory import HostInventory, collect_inventory, from_json
from evacuate.plan.builder import build_plan
from evacuate.plan.model import PlanSource, PlanWarning, RebuildPlan, SourceKind
from evacuate.plan.persist import plan_from_json
from evacuate.plan.probe import probe_target
from evacuate.plan.render import render_project
from evacuate.plan.renewals import renewal_paths
from evacuate.snapshot.engine import SnapshotProgress
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir, read_json, write_json, write_private

MAX_SCANNED_CONFIG = 256 * 1024


def plan_dir(state: StateDir, name: str) -> Path:
    return state.sub("plans", name)


def source_manifest(repo: SnapshotRepository, source: HostRef, options: ConnectOptions,
                    config: Config | None, snapshot: str | None,
                    progress: SnapshotProgress | None) -> SnapshotManifest:
    """The snapshot to plan from: the one asked for, else the latest, else a new one."""
    if snapshot:
        return repo.load(repo.find(source.file_label, snapshot))
    latest = repo.latest(source.file_label)
    if latest is not None:
        return latest
    return snapshot_host(source, options, repo, config, progress)


def read_small_files(repo: SnapshotRepository, manifest: SnapshotManifest,
                     paths: set[str]) -> dict[str, str]:
    texts = {}
    for entry in manifest.files:
        if entry.path in paths and entry.blob is not None and entry.size <= MAX_SCANNED_CONFIG:
            texts[entry.path] = repo.blobs.read_blob(entry.blob).decode("utf-8", "replace")
    return texts


def password_hashes(repo: SnapshotRepository, manifest: SnapshotManifest,
                    users: set[str]) -> dict[str, str]:
    """The planned users' password hashes from the snapshot's /etc/shadow (never logged)."""
    entry = next((e for e in manifest.files if e.path == "/etc/shadow" and e.blob), None)
    if entry is None or entry.blob is None:
        return {}
    hashes = {}
    for line in repo.blobs.read_blob(entry.blob).decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        # a locked account keeps its hash behind the "!" (and stays locked)
        if len(fields) > 1 and fields[0] in users and fields[1].lstrip("!")[:1] == "$":
            hashes[fields[0]] = fields[1]
    return hashes


def make_plan(source: HostRef, target: HostRef, repo: SnapshotRepository,
              options: ConnectOptions, state: StateDir, config: Config | None, *,
              snapshot: str | None = None, progress: SnapshotProgress | None = None,
              origin: PlanSource | None = None,
              store: str | None = None, concurrency: int = 1) -> tuple[RebuildPlan, Path]:
    """Plan ``source`` onto ``target``. ``concurrency``: the hosts moving at once beside it
    (a fleet's wave), sharing the fleet-wide limit (the estimate assumes its share).
    ``origin``: where a run finds the source (default: the host ``source``; a rescued
    disk's plan says so, and a run never connects to it).
    ``store``: the --store URL the plan was made with (for the project README's commands)."""
    try:
        manifest = source_manifest(repo, source, options, config, snapshot, progress)
    except GONE as lost:
        lost.hint = source_gone_hint(repo, source.file_label, target.label)
        raise
    inventory: HostInventory = from_json(manifest.inventory)
    with connect(target, options) as transport:
        target_inventory = collect_inventory(transport, host=target.label)
        manual = [p.name for p in inventory.packages if p.manual]
        engine = inventory.containers.package  # asked even when a dependency brought it
        offer = probe_target(transport, manual + ([engine] if engine and engine not in manual
                                                  else []))
    config_paths = {c.path for c in inventory.changed_conffiles} | \
        {f.path for f in inventory.unowned_files.files if f.path.startswith("/etc/")}
    # byte for byte: the sudoers drop-ins and the apt sources files (plan.hoststate)
    config_paths |= {s.path for s in inventory.sudoers} | \
        {r.file for r in inventory.package_sources.repositories if r.file}
    # ACME renewal configs (certbot's, acme.sh's): HTTP-01 renewals wait for the DNS switch
    config_paths |= renewal_paths(e.path for e in manifest.files)
    plan = build_plan(inventory, manifest, target_inventory, target_label=target.file_label,
                      target_spec=str(target.spec), available=offer.candidates,
                      target_free_bytes=offer.free_bytes, target_names=offer.names,
                      config_texts=read_small_files(repo, manifest, config_paths),
                      limit_rate=options.limit_rate,
                      fleet_limit_rate=(options.fleet_limit.limit.rate
                                        if options.fleet_limit is not None else None),
                      concurrency=concurrency)
    plan = replace(plan, source_spec=origin or host_source(source),
                   warnings=(*plan.warnings, *hook_warnings(config)))
    if config is not None and config.dns is not None:
        dns = survey(inventory, target_inventory, config.dns)
        # the DNS table says which names point at the source: no "until you switch it" notes
        kept = (w for w in plan.warnings if w.code != "cert-names")
        plan = replace(plan, dns=dns, warnings=(
            *kept, *(PlanWarning("dns", w) for w in dns.warnings),
            *(PlanWarning("dns-ttl", w) for w in dns.long_ttls),
            *(PlanWarning("dns", n, "info") for n in dns.notes)))
    folder = plan_dir(state, plan.name)
    hashes = password_hashes(repo, manifest, {u.name for u in plan.users})
    password = ensure_vault_password(state.root / "keys" / "vault-pass")
    vault = encrypt(json.dumps({"evacuate_password_hashes": hashes}, indent=1) + "\n", password)
    project = render_project(plan, folder / "project", vault_document=vault,
                             export_options=cli_options(state, config, store))
    write_json(folder / "plan.json", asdict(plan))
    write_private(state.root / "plans" / "current", plan.name + "\n")
    return plan, project


def hook_warnings(config: Config | None) -> list[PlanWarning]:
    """The plan names every hook that runs on the source: the one explicit exception to
    read-only."""
    if config is None:
        return []
    return [PlanWarning("hook-on-source", line) for line in source_hook_lines(config.hooks)]


def cli_options(state: StateDir, config: Config | None, store: str | None) -> list[str]:
    """The options that make a verb run from any directory use this state directory, config
    and store (for the commands we print for the user to run)."""
    options = ["--state-dir", str(state.root.absolute())]
    if config is not None:
        options += ["--config", str(config.path.absolute())]
    if store:
        options += ["--store", store if "://" in store else str(Path(store).absolute())]
    return options


def host_source(source: HostRef) -> PlanSource:
    """A plan's source that is a host: its config name, or the SSH spec it was given as."""
    return PlanSource(SourceKind.HOST, str(source.spec) if source.role == "adhoc"
                      else source.label)


def disk_source(label: str) -> PlanSource:
    """A plan's source that is a rescued disk, its snapshots filed under ``label``."""
    return PlanSource(SourceKind.DISK, label)


def load_plan(state: StateDir, name: str | None) -> tuple[RebuildPlan, Path]:
    """The saved plan ``name`` (default: the last one made); UsageError if there is none."""
    if name is None:
        current = state.root / "plans" / "current"
        if not current.exists():
            raise UsageError("no plan yet", hint="run 'evacuate plan SOURCE --to TARGET'")
        name = current.read_text().strip()
    folder = state.root / "plans" / name
    if not (folder / "plan.json").exists():
        raise UsageError(f"no plan named {name!r} in {state.root / 'plans'}")
    try:
        return plan_from_json(read_json(folder / "plan.json")), folder
    except (KeyError, TypeError, ValueError) as bad:
        raise EvacuateError(f"{folder / 'plan.json'} is not a readable plan: {bad}") from None
