"""``evacuate plan SOURCE --to TARGET``: a reviewable rebuild plan and its Ansible project."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from evacuate.actions.plan import make_plan
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.cli.common import (
    AcceptNewOpt,
    ConfigOpt,
    FleetLimitRateOpt,
    IdentityOpt,
    JsonOpt,
    KnownHostsOpt,
    LimitRateOpt,
    StateOpt,
    StoreOpt,
    WithLogsOpt,
    make_context,
    with_logs,
)
from evacuate.cli.fleet_cmds import AllOpt, WaveOpt, chosen_waves, move
from evacuate.errors import UsageError
from evacuate.plan.model import Estimate, RebuildPlan
from evacuate.snapshot.open import open_repository
from evacuate.transport.throttle import RateLimit


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def container_rows(plan: RebuildPlan) -> list[tuple[str, str, str, str]]:
    """One row per container, image and named volume: kind, name, size, what else to know
    (an image's origin: from the store, or pulled on the target)."""
    found = plan.containers
    rows = []
    for c in found.containers:
        compose = f"{c.compose_project}/{c.compose_service}, " if c.compose_project else ""
        rows.append(("container", c.name, console.human_size(c.size_bytes),
                     f"{compose}{c.image}, {c.state}, restart {c.restart_policy}"))
    for i in found.images:
        origin = ("from the store (built or imported on the source)"
                  if i.origin == "store" else "pulled on the target")
        rows.append(("image", ", ".join(i.tags) or i.id[:12], console.human_size(i.size_bytes),
                     origin))
    for v in found.volumes:
        size = console.human_size(v.size_bytes) if v.size_bytes is not None else "unknown"
        rows.append(("volume", v.name, size, f"project {v.compose_project}" if v.compose_project
                     else ""))
    return rows


def render_plan(plan: RebuildPlan, project: Path) -> None:
    out = console.out()
    esc = console.escape
    out.print(f"[bold]Rebuild plan[/] {esc(plan.name)}: {esc(plan.source)} "
              f"({esc(plan.source_os)}) → {esc(plan.target)} "
              f"({esc(plan.target_os)}), snapshot {esc(plan.snapshot_id)}")
    users = ", ".join(f"{u.name}{'' if u.uid_kept else ' (new uid)'}" for u in plan.users)
    renamed = ", ".join(f"{old} → {new}" for old, new in plan.packages_renamed)
    rows = [
        ("packages", f"{len(plan.packages)} to install"
                     f"{'; renamed: ' + renamed if renamed else ''}"
                     f"{'; missing: ' + ', '.join(plan.packages_missing) if plan.packages_missing else ''}"),
        ("groups", ", ".join(g.name for g in plan.groups) or "none"),
        ("users", users or "none"),
        ("sudoers", ", ".join(name for name, _ in plan.sudoers) or "none"),
        ("config files", f"{len(plan.config_files)}: {', '.join(plan.config_files[:6])}"
                         f"{' ...' if len(plan.config_files) > 6 else ''}"),
        ("data", f"{', '.join(plan.data_roots)}: {plan.file_count} entries, "
                 f"{console.human_size(plan.file_bytes)}"),
        ("databases", ", ".join(f"{d.engine}:{d.name} ({console.human_size(d.size_bytes)}, "
                                f"{d.tables} tables)" for d in plan.databases) or "none"),
        ("services", ", ".join(plan.services_enabled) or "none"),
        ("cron", f"{plan.cron_entries} entries"),
        ("firewall", f"{plan.firewall_rules} nftables lines"),
    ]
    if plan.containers.engine:
        found = plan.containers
        rows.append(("containers", f"{found.engine} {found.version or '(did not answer)'}: "
                     f"{len(found.containers)} containers, {len(found.images)} images "
                     f"({len(found.stored_images)} from the store), {len(found.volumes)} volumes"))
    out.print(console.table("what moves", ("area", "plan"), rows))
    if plan.containers.containers or plan.containers.images or plan.containers.volumes:
        out.print(console.table("containers", ("kind", "name", "size", "detail"),
                                container_rows(plan)))
    if plan.rules:
        out.print(console.table("by rule: what moves, what stays and why", (
            "rule", "decision", "entries", "files", "size", "why"), [
            (r.rule, "moves" if r.carried else "stays" + " (plan)" * (r.stage == "plan"),
             r.entries, r.files, console.human_size(r.bytes), r.reason) for r in plan.rules]))
    out.print(console.table("steps", ("#", "step", "what"),
                            [(i + 1, s.id, s.title) for i, s in enumerate(plan.steps)]))
    if plan.dns is not None:
        out.print(console.table("DNS: records that point at the source", (
            "zone", "record", "type", "TTL", "now", "after the switch", "for"), [
            (r.zone, r.name, r.rtype, r.ttl, " ".join(r.values), " ".join(r.new_values),
             ", ".join(r.via)) for r in plan.dns.records]))
    est = plan.estimate
    out.print(f"estimate: transfer {console.human_size(est.transfer_bytes)} "
              f"(~{_duration(est.transfer_seconds)}), packages ~{_duration(est.packages_seconds)},"
              f" total ~{_duration(est.total_seconds)}; cutover downtime "
              f"~{_duration(est.cutover_downtime_seconds)}"
              + limit_note(est))
    for warning in plan.warnings:
        style = {"blocker": "bold red", "warning": "yellow", "info": "cyan"}[warning.severity]
        out.print(f"[{style}]{warning.severity}[/] {esc(f'[{warning.code}]')} "
                  f"{esc(warning.message)}")
    out.print(f"Ansible project: {esc(str(project))}  (run it with 'evacuate run')")


def limit_note(est: Estimate) -> str:
    """Which bandwidth limit the estimate assumed, in words ("" without one)."""
    if not est.limit_bytes_per_second:
        return ""
    rate = RateLimit(est.limit_bytes_per_second)
    if est.limit_assumed == "fleet" and est.fleet_limit_bytes_per_second:
        fleet = RateLimit(est.fleet_limit_bytes_per_second)
        return (f" (at the fleet limit of {fleet} shared by {est.fleet_concurrency} host(s) "
                f"at once: {rate} for this one)")
    return f" (at the limit of {rate} per host)"


@app.command("plan")
def plan(
    sources: list[str] = typer.Argument(None, metavar="SOURCE...",
                                        help="The server to evacuate (config name or SSH "
                                             "spec); without --to, hosts and groups of "
                                             "evacuate.yml, each onto its target."),
    to: str | None = typer.Option(None, "--to", help="The new host (config name or SSH spec)."),
    everything: bool = AllOpt, wave: str | None = WaveOpt,
    snapshot: str | None = typer.Option(None, help="Plan from this snapshot (default: latest; "
                                                   "one is taken if there is none)."),
    store: str | None = StoreOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt, logs: bool = WithLogsOpt, as_json: bool = JsonOpt,
    limit_rate: str | None = LimitRateOpt,
    fleet_limit_rate: str | None = FleetLimitRateOpt,
) -> None:
    """Plan the rebuild of SOURCE on the target: what moves, steps, estimate, warnings; write
    the Ansible project. Nothing is changed on either host (the target may refresh its
    package lists to see what it can install). With --all, --wave NAME or hosts without
    --to: every chosen host onto its target (hosts.NAME.target), several at once, one
    result per host."""
    ctx = with_logs(make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new, limit_rate=limit_rate,
                       fleet_limit_rate=fleet_limit_rate), logs)
    sources = sources or []
    if to is None:
        if snapshot is not None:
            raise UsageError("--snapshot plans one host: give it with --to TARGET")
        waves = chosen_waves(ctx, everything, wave, sources)
        repo = open_repository(ctx.config, ctx.state, store, create=True,
                               warn=console.warning_line)
        move(ctx, repo, waves, "plan", store=store, as_json=as_json)
        return
    if everything or wave is not None or len(sources) != 1:
        raise UsageError("--to plans one source: name exactly one, without --all or --wave")
    repo = open_repository(ctx.config, ctx.state, store, create=True, warn=console.warning_line)
    with console.TransferProgress("snapshot") as progress:
        result, project = make_plan(ctx.host(sources[0]), ctx.host(to), repo, ctx.connect,
                                    ctx.state, ctx.config, snapshot=snapshot,
                                    progress=progress, store=store)
    if as_json:
        console.print_json(asdict(result) | {"project": str(project)})
    else:
        render_plan(result, project)
