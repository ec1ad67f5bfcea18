"""``evacuate dns lower-ttl | switch | revert``: the records that send clients to the
server, moved with it. The CLI parses and renders; evacuate.actions.dns decides."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from evacuate.actions import dns as actions
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

dns_app = typer.Typer(help="DNS records follow the server: lower the TTLs ahead, switch the "
                           "records to the target, switch them back (evacuate.yml dns).",
                      no_args_is_help=True)
app.add_typer(dns_app, name="dns")

DryRunOpt = typer.Option(False, "--dry-run", help="Print the record changes; change nothing.")


def render_outcome(outcome: actions.DnsOutcome, as_json: bool) -> None:
    if as_json:
        console.print_json({"ok": True, "command": f"dns {outcome.op}", **asdict(outcome)})
        return
    verb = {"lower-ttl": "lower the TTL of", "switch": "switch", "revert": "put back"}[outcome.op]
    if not outcome.changes:
        console.info_line(f"dns {outcome.op}: nothing to change")
    out = console.out()
    if outcome.changes:
        out.print(console.table(
            f"dns {outcome.op}{': would ' + verb if outcome.dry_run else ''}",
            ("zone", "record", "type", "now", "TTL", "after", "TTL"),
            [(c.zone, c.before.name, c.before.rtype, " ".join(c.before.values), c.before.ttl,
              " ".join(c.after.values), c.after.ttl) for c in outcome.changes]))
    if outcome.seen:
        slowest = max(s.seconds for s in outcome.seen)
        servers = sorted({s.server for s in outcome.seen})
        console.info_line(f"dns {outcome.op}: {len(outcome.changes)} record set(s) answered by "
                          f"every authoritative server ({', '.join(servers)}) within "
                          f"{slowest:.1f} s")
    for note in outcome.notes:
        console.warning_line(note)


@dns_app.command("lower-ttl")
def lower_ttl(
    source: str = typer.Argument(..., help="The source host (evacuate.yml name or SSH spec)."),
    ttl: int | None = typer.Option(None, "--ttl", min=1, help="The TTL in seconds (default: "
                                   "evacuate.yml dns.lowered_ttl, 300)."),
    dry_run: bool = DryRunOpt, as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt,
) -> None:
    """Ahead of the move: lower the TTL of every record that points at SOURCE, so that a
    switch reaches clients quickly (do it at least the old TTL before the cutover)."""
    ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new)
    render_outcome(actions.lower_ttl(ctx.host(source), ctx.connect, ctx.state, ctx.config,
                                     ttl=ttl, dry_run=dry_run), as_json)


@dns_app.command("switch")
def switch(
    plan_name: str | None = typer.Argument(None, metavar="[PLAN]",
                                           help="Plan name (default: the last one made)."),
    dry_run: bool = DryRunOpt, as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
) -> None:
    """Switch the plan's records from the source's addresses to the target's, all or nothing,
    and wait until every authoritative server answers them ('run --cutover' does this after
    the target verified)."""
    ctx = make_context(config, state_dir)
    render_outcome(actions.switch(ctx.state, ctx.config, plan_name=plan_name, dry_run=dry_run),
                   as_json)


@dns_app.command("revert")
def revert(
    dry_run: bool = DryRunOpt, as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
) -> None:
    """Put back every record evacuate changed (lowered TTLs and switches, as the journal
    recorded them), and wait until every authoritative server answers them."""
    ctx = make_context(config, state_dir)
    render_outcome(actions.revert(ctx.state, ctx.config, dry_run=dry_run), as_json)
