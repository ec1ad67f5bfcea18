"""``evacuate restore | rehearse | status | schedule``: useful after the source is gone."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import typer

from evacuate.actions import restore as actions
from evacuate.actions.notify import failures_notified, notify_failure, notify_stale
from evacuate.actions.snapshot import disk_label
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.cli.common import (
    AcceptNewOpt,
    ConfigOpt,
    IdentityOpt,
    JsonOpt,
    KnownHostsOpt,
    LimitRateOpt,
    StateOpt,
    StoreOpt,
    make_context,
)
from evacuate.cli.run_cmds import LiveReporter, json_outcome, summary_json
from evacuate.errors import ExitCode, UsageError
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.rescued import require_root
from evacuate.verify.reboot import DEFAULT_REBOOT_TIMEOUT


@app.command("restore")
def restore(
    host: str | None = typer.Argument(None, help="The lost host (its name in evacuate.yml or "
                                      "the label its snapshots are filed under); with "
                                      "--from-root, the label to file the disk's snapshot "
                                      "under (default: the disk's hostname)."),
    to: str = typer.Option(..., "--to", help="The new host."),
    snapshot: str = typer.Option("latest", help="Snapshot id (or prefix) or 'latest'."),
    from_root: Path | None = typer.Option(
        None, "--from-root", help="A rescued disk: the dead machine's root filesystem mounted "
        "here (read-only is fine). It is snapshotted first (databases dumped from servers "
        "started on a copy-on-write overlay; the disk is never written), then restored."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted restore."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, known_hosts: Path | None = KnownHostsOpt,
    identity: Path | None = IdentityOpt, accept_new: bool = AcceptNewOpt,
    as_json: bool = JsonOpt, limit_rate: str | None = LimitRateOpt,
) -> None:
    """Rebuild HOST on the new host from its snapshot alone (the source is never contacted),
    then verify against the snapshot. Prints the total time: your recovery time."""
    with json_outcome(as_json, "restore"):
        ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                           accept_new=accept_new, limit_rate=limit_rate)
        started = time.monotonic()
        warnings: list[str] = []
        if from_root is not None:
            if resume or snapshot != "latest":
                raise UsageError("--from-root takes a fresh snapshot of the disk: without "
                                 "--resume or --snapshot (resume with 'evacuate restore LABEL "
                                 "--to TARGET --resume')")
            require_root(from_root)  # before a store is made for it
            label = host or disk_label(from_root)
            repo = open_repository(ctx.config, ctx.state, store, create=True,
                                   warn=console.warning_line)
            with console.TransferProgress(f"restore from the rescued disk {from_root}") \
                    as progress:
                manifest, plan, summary = actions.restore_from_disk(
                    from_root, label, ctx.host(to), repo, ctx.connect, ctx.state, ctx.config,
                    LiveReporter(progress), progress)
            warnings = list(manifest.warnings)
        else:
            if host is None:
                raise UsageError("name the lost host (or --from-root PATH for a rescued disk)")
            repo = open_repository(ctx.config, ctx.state, store, warn=console.warning_line)
            with console.TransferProgress("restore") as progress:
                plan, summary = actions.restore_host(
                    ctx.host(host), ctx.host(to), repo, ctx.connect, ctx.state, ctx.config,
                    LiveReporter(progress), snapshot=snapshot, resume=resume)
    total = time.monotonic() - started
    if as_json:
        console.print_json({"ok": True, "command": "restore", "plan": plan.name,
                            "source": plan.source, "target": plan.target,
                            "rescued_disk": str(from_root) if from_root else None,
                            **summary_json(summary), "total_seconds": round(total, 3),
                            "warnings": warnings + list(summary.warnings)})
        return
    for warning in warnings[:10]:
        console.warning_line(warning)
    disk = f" (rescued disk {from_root})" if from_root is not None else ""
    console.out().print(f"[bold green]restored[/] {console.escape(plan.source)}"
                        f"{console.escape(disk)} on {console.escape(plan.target)} from snapshot "
                        f"{console.escape(summary.snapshot_id)}: verified; total {total:.1f} s")


@app.command("status")
def status(
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, as_json: bool = JsonOpt,
) -> None:
    """Per host: age and size of the last snapshot, last rehearsal. Exit 1 when a snapshot is
    older than snapshot.max_age (or missing): for monitoring."""
    ctx = make_context(config, state_dir)
    hosts = list(ctx.config.hosts) if ctx.config else []
    max_age = ctx.config.snapshot.max_age if ctx.config else None
    with failures_notified(ctx.config, "status", "the snapshot store", console.warning_line):
        repo = open_repository(ctx.config, ctx.state, store)
        rows = actions.snapshot_status(repo, ctx.state, hosts, max_age)
    if as_json:
        console.print_json([{**r.__dict__, "age_seconds": r.age.total_seconds() if r.age else None,
                             "age": None} for r in rows])
    elif not rows:
        console.out().print(f"no snapshots yet in {console.escape(repo.blobs.store.describe())}", soft_wrap=True)
    else:
        console.out().print(console.table(
            "snapshot status", ("host", "last snapshot", "age", "size", "new", "rehearsal", "state"),
            [(r.host, r.last_snapshot or "none",
              f"{int(r.age.total_seconds() // 60)} min" if r.age else "-",
              console.human_size(r.size), console.human_size(r.new_bytes),
              f"{r.last_rehearsal} {'ok' if r.rehearsal_ok else 'FAILED'}" if r.last_rehearsal
              else "never", "STALE" if r.stale else "fresh") for r in rows]))
    stale = [r.host for r in rows if r.stale]
    notify_stale(ctx.config, stale, max_age, console.warning_line)
    if stale:
        console.warning_line(f"stale or missing snapshots: {', '.join(stale)}"
                             f"{f' (max age {max_age})' if max_age else ''}")
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command("schedule")
def schedule(
    host: str = typer.Argument(..., help="Host from evacuate.yml or SSH spec."),
    every: str = typer.Option("15m", "--every", help="15m, 30m, 1h, 6h, 1d ..."),
    print_only: bool = typer.Option(False, "--print", help="Print the cron line; install nothing."),
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
) -> None:
    """Take snapshots of HOST every N minutes from this controller (a file in /etc/cron.d
    here, never anything on the source)."""
    ctx = make_context(config, state_dir)
    from evacuate.config import find_config

    line = actions.schedule_line(ctx.host(host).label, every, find_config(config), ctx.state)
    if print_only:
        print(line)
        return
    if os.geteuid() != 0:
        raise UsageError("installing a schedule in /etc/cron.d needs root",
                         hint="use --print and put the line in your own crontab")
    path = actions.install_schedule(ctx.host(host).file_label, line)
    console.info_line(f"scheduled: {path}: {line}")


@app.command("rehearse")
def rehearse(
    hosts: list[str] = typer.Argument(None, help="Hosts to rehearse (default: all in the config)."),
    target: str | None = typer.Option(None, "--target", help="A throwaway SSH host to restore "
                                      "onto (default: a lab host evacuate starts and removes)."),
    reports: Path = typer.Option(Path("rehearsal-reports"), "--reports",
                                 help="Directory for the JSON, JUnit and HTML reports."),
    reboot: bool = typer.Option(True, "--reboot/--no-reboot", help="Reboot the restored "
                                "target and verify again (a restore that works only until "
                                "its next boot fails)."),
    reboot_timeout: float = typer.Option(DEFAULT_REBOOT_TIMEOUT, "--reboot-timeout", min=1,
                                         help="Seconds the target has to boot again."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, as_json: bool = JsonOpt,
) -> None:
    """Prove the backups restore: restore each host's latest snapshot onto a throwaway target,
    verify, reboot it and verify again, write reports; exit 1 if any check fails."""
    from evacuate.actions.rehearse import rehearse_hosts

    with json_outcome(as_json, "rehearse"):
        ctx = make_context(config, state_dir)
        names = hosts or (list(ctx.config.hosts) if ctx.config else [])
        if not names:
            raise UsageError("no host to rehearse: name one or list hosts in evacuate.yml")
        with failures_notified(ctx.config, "rehearse", ", ".join(names), console.warning_line):
            repo = open_repository(ctx.config, ctx.state, store)
            reports.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="evacuate-rehearse-") as scratch:
                results = rehearse_hosts([ctx.host(n) for n in names], repo, ctx.config,
                                         ctx.state, ctx.connect, ctx.host, target, reports,
                                         Path(scratch),
                                         reboot_timeout=reboot_timeout if reboot else None)
    failed = [name for name, ok in results.items() if not ok]
    if failed:
        notify_failure(ctx.config, "rehearse", ", ".join(failed),
                       f"the rehearsal of {', '.join(failed)} failed; reports in "
                       f"{reports.absolute()}", console.warning_line)
    if as_json:
        console.print_json({"ok": not failed, "command": "rehearse", "reports": str(reports),
                            "hosts": [{"host": name, "passed": ok}
                                      for name, ok in results.items()],
                            "exit_code": int(ExitCode.FAILURE if failed else ExitCode.OK)})
    else:
        for name, ok in results.items():
            console.info_line(f"rehearsal of {name}: {'passed' if ok else 'FAILED'} "
                              f"(reports in {reports})")
    if failed:
        raise typer.Exit(int(ExitCode.FAILURE))
