"""``evacuate inventory HOST...``: record what a machine is."""

from __future__ import annotations

from pathlib import Path

import typer

from evacuate.actions.inventory import (
    DiffOptions,
    InventoryOutcome,
    take_disk_inventory,
    take_inventories,
)
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.cli.common import (
    AcceptNewOpt,
    ConfigOpt,
    IdentityOpt,
    JsonOpt,
    KnownHostsOpt,
    StateOpt,
    make_context,
)
from evacuate.errors import ExitCode, UsageError
from evacuate.inventory import HostInventory, to_json
from evacuate.inventory.conffile_diffs import mirror_repository


def summary_rows(inv: HostInventory) -> list[tuple[str, str]]:
    """The facts a sysadmin wants to see first, as (area, summary) rows."""
    manual = sum(1 for p in inv.packages if p.manual)
    enabled = [s for s in inv.services if s.enabled_state == "enabled"]
    active = [s for s in inv.services if s.active_state == "active"]
    local_units = [s.name for s in inv.services if s.locally_written]
    people = [u for u in inv.users if not u.system]
    ports = sorted({f"{listener.port}/{listener.proto}" for listener in inv.listeners})
    data = sum(d.size_bytes or 0 for d in inv.data_candidates)
    cron = sum(len(c.entries) for c in inv.crontabs)
    return [
        ("system", f"{inv.os.pretty_name or inv.os.id} ({inv.os.arch}), kernel {inv.os.kernel}, "
                   f"{inv.os.hostname}, {inv.os.timezone}"),
        ("packages", f"{len(inv.packages)} installed, {manual} manual, "
                     f"{len(inv.package_sources.repositories)} repositories"),
        ("config", f"{len(inv.changed_conffiles)} changed conffiles "
                   f"({sum(c.diff is not None for c in inv.changed_conffiles)} with diffs), "
                   f"{len(inv.unowned_files.files)} unowned files"),
        ("services", f"{len(enabled)} enabled, {len(active)} active, local units: "
                     f"{', '.join(local_units) or 'none'}; {len(inv.timers)} timers"),
        ("ports", ", ".join(ports) or "none"),
        ("users", ", ".join(f"{u.name} ({len(u.authorized_keys)} keys)" for u in people) or "none"),
        ("cron", f"{cron} entries in {len(inv.crontabs)} crontabs"),
        ("databases", "; ".join(
            f"{d.engine} {(d.version.split() or ['?'])[0]}{'' if d.running else ' (stopped)'}: {', '.join(db.name for db in d.databases)}"
            for d in inv.databases) or "none"),
        ("web", "; ".join(f"{' '.join(v.server_names) or '_'} ({', '.join(v.listen)})"
                          for v in inv.web) or "none"),
        ("certificates", "; ".join(f"{c.subject} until {c.not_after}" for c in inv.certificates)
         or "none"),
        ("data", f"{console.human_size(data)} in {len(inv.data_candidates)} directories"),
        ("errors", "; ".join(f"{k}: {v}" for k, v in inv.errors.items()) or "none"),
    ]


def _render(outcome: InventoryOutcome) -> None:
    if outcome.inventory is None:
        assert outcome.error is not None
        console.error_line(f"{outcome.host.label}: {outcome.error}", outcome.error.hint)
        return
    table = console.table(f"inventory of {outcome.host.label}", ("area", "what was found"),
                          summary_rows(outcome.inventory))
    console.out().print(table)
    console.info_line(f"saved: {outcome.path}")


@app.command("inventory")
def inventory(
    hosts: list[str] = typer.Argument(None, help="Hosts from evacuate.yml or SSH specs "
                                              "(root@203.0.113.10, ops@web1:2222); with "
                                              "--root, the label to file it under."),
    root: Path | None = typer.Option(None, "--root", help="Inventory a rescued disk's root "
                                     "filesystem mounted here instead of a running host."),
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt, as_json: bool = JsonOpt,
    timeout: float = typer.Option(300.0, help="Seconds the whole inventory may take per host."),
    diffs: bool = typer.Option(True, "--diffs/--no-diffs", help="Diff the changed conffiles "
                               "against their shipped versions found in the host's apt cache "
                               "(one more read-only round trip)."),
    fetch_defaults: bool = typer.Option(False, "--fetch-defaults", help="Also download missing "
                                        "shipped versions (.debs) from the host's repositories "
                                        "to the controller (never to the host)."),
    defaults_from: list[str] = typer.Option([], "--defaults-from", metavar="'URI SUITE [COMP]'",
                                            help="A mirror to download shipped versions from "
                                            "(repeatable; a flat repository's suite is ./)."),
) -> None:
    """Record what HOST is (read-only, one SSH round trip) and save it in the state dir.

    Several hosts are inventoried concurrently. Exit 0 only if every host succeeded.
    """
    ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new)
    try:
        mirrors = tuple(mirror_repository(text) for text in defaults_from)
    except ValueError as bad:
        raise UsageError(f"--defaults-from: {bad}") from None
    options = DiffOptions(enabled=diffs, fetch=fetch_defaults, mirrors=mirrors)
    if root is not None:
        from evacuate.actions.snapshot import disk_label  # the snapshot's, only for a disk

        label = hosts[0] if hosts else disk_label(root)
        outcomes = [take_disk_inventory(root, label, ctx.state, timeout=timeout,
                                        diffs=options)]
    elif not hosts:
        raise UsageError("name at least one host (or --root PATH for a rescued disk)")
    else:
        outcomes = take_inventories([ctx.host(text) for text in hosts], ctx.connect, ctx.state,
                                    timeout=timeout, diffs=options)
    if as_json:
        payload = [to_json(o.inventory) if o.inventory else
                   {"host": o.host.label, "error": str(o.error)} for o in outcomes]
        console.print_json(payload[0] if len(payload) == 1 else payload)
    else:
        for outcome in outcomes:
            _render(outcome)
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        if len(outcomes) == 1 and failed[0].error is not None:
            # one host: exit with that error's own code (e.g. 5 for a refused host key)
            if as_json:
                console.error_line(str(failed[0].error), failed[0].error.hint)
            raise typer.Exit(int(failed[0].error.exit_code))
        raise typer.Exit(int(ExitCode.FAILURE))
