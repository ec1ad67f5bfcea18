"""Options and context shared by the verbs: which config, which state directory, how to
connect."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import typer

from evacuate.config import Config, find_config, load_config
from evacuate.config.model import SSHSettings
from evacuate.errors import UsageError
from evacuate.hostref import ConnectOptions, HostRef, resolve_host
from evacuate.state import StateDir
from evacuate.transport.throttle import RateLimit, SharedLimit

ConfigOpt = typer.Option(None, "--config", "-c", envvar="EVACUATE_CONFIG",
                         help="evacuate.yml to use (default ./evacuate.yml if present).")
StateOpt = typer.Option(None, "--state-dir", envvar="EVACUATE_STATE_DIR",
                        help="State directory (default: the config's state_dir, else ./.evacuate).")
JsonOpt = typer.Option(False, "--json", help="Print JSON to stdout instead of tables.")
StoreOpt = typer.Option(None, "--store", help="Store URL: a directory, file:///path or s3://bucket/prefix "
                                              "(default: the config's store, else <state>/store).")
KnownHostsOpt = typer.Option(None, "--known-hosts", help="known_hosts file to check host keys against.")
IdentityOpt = typer.Option(None, "--identity", "-i", help="Private key to log in with.")
LimitRateOpt = typer.Option(
    None, "--limit-rate", metavar="RATE",
    help="Bandwidth limit per host for every stream from the source and to the target, in "
         "bytes per second: 500k, 10M, 1.5M (k, M, G: powers of 1024). Overrides "
         "limit_rate in evacuate.yml.")
FleetLimitRateOpt = typer.Option(
    None, "--fleet-limit-rate", metavar="RATE",
    help="Bandwidth limit shared by every host of this run (a fleet's; one plan is a fleet "
         "of one), charged as well as each host's --limit-rate: the stricter holds. Bytes "
         "per second as --limit-rate. Overrides fleet_limit_rate in evacuate.yml.")
AcceptNewOpt = typer.Option(
    False, "--accept-new-host-key",
    help="Trust a host whose key is not in known_hosts yet and record it (like OpenSSH's "
         "StrictHostKeyChecking=accept-new). A changed key is always refused.")


@dataclass(frozen=True)
class Context:
    """What a verb needs: the config (None without one), the state dir, SSH options."""

    config: Config | None
    state: StateDir
    connect: ConnectOptions

    def host(self, text: str) -> HostRef:
        return resolve_host(text, self.config)


WithLogsOpt = typer.Option(False, "--with-logs", help="Copy /var/log too (the plan shows "
                          "its size either way); the same as snapshot.with_logs in evacuate.yml.")


def with_logs(ctx: Context, wanted: bool) -> Context:
    """``ctx`` whose config asks for logs when ``wanted`` (a config is made when none)."""
    if not wanted:
        return ctx
    from evacuate.config.model import Config

    config = ctx.config or Config(path=Path("evacuate.yml"), state_dir=ctx.state.root)
    config = replace(config, snapshot=replace(config.snapshot, with_logs=True))
    return replace(ctx, config=config)


def make_context(config_path: Path | None, state_dir: Path | None, *,
                 known_hosts: Path | None = None, identity: Path | None = None,
                 accept_new: bool = False, limit_rate: str | None = None,
                 fleet_limit_rate: str | None = None) -> Context:
    """Load the config (when there is one) and resolve the state directory: --state-dir or
    $EVACUATE_STATE_DIR, then the config's state_dir, then ./.evacuate. ``limit_rate``
    and ``fleet_limit_rate`` (the command line's) override the config's; a bad one is a
    UsageError. A fleet limit is one shared bucket for everything this process moves."""
    found = find_config(config_path)
    config = load_config(found) if found is not None else None
    if state_dir is not None:
        state = StateDir.resolve(state_dir)
    elif config is not None and config.state_dir is not None:
        state = StateDir(config.state_dir)
    else:
        state = StateDir.resolve(None)
    ssh = config.ssh if config is not None else SSHSettings()
    rate = _rate("--limit-rate", limit_rate, config.limit_rate if config else None)
    fleet = _rate("--fleet-limit-rate", fleet_limit_rate,
                  config.fleet_limit_rate if config else None)
    options = ssh.connect_options(known_hosts=known_hosts, identity=identity,
                                  trust_unknown=accept_new, limit_rate=rate)
    if fleet is not None:
        options = replace(options, fleet_limit=SharedLimit(fleet).share(""))
    return Context(config, state, options)


def _rate(option: str, given: str | None, configured: RateLimit | None) -> RateLimit | None:
    if given is None:
        return configured
    try:
        return RateLimit.parse(given)
    except ValueError as bad:
        raise UsageError(f"{option}: {bad}") from None
