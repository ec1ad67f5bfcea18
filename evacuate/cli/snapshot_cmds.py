"""``evacuate snapshot | snapshots | check | forget``: consistent copies in a store."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import typer

from evacuate.actions import snapshot as actions
from evacuate.actions.notify import failures_notified
from evacuate.actions.source_gone import age_seconds
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
    WithLogsOpt,
    make_context,
    with_logs,
)
from evacuate.errors import ExitCode
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.rescued import require_root


def _age(created: datetime) -> str:
    return age_seconds((datetime.now(UTC) - created).total_seconds(), compact=True)


@app.command("snapshot")
def snapshot(
    host: str = typer.Argument(..., help="Host from evacuate.yml or an SSH spec; with --root, "
                               "the label to file the disk's snapshot under."),
    root: Path | None = typer.Option(None, "--root", help="Snapshot a rescued disk's root "
                                     "filesystem mounted here instead (never written; its "
                                     "databases are dumped from servers started on a copy)."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, known_hosts: Path | None = KnownHostsOpt,
    identity: Path | None = IdentityOpt, accept_new: bool = AcceptNewOpt, logs: bool = WithLogsOpt,
    as_json: bool = JsonOpt, limit_rate: str | None = LimitRateOpt,
    notify: bool = typer.Option(False, "--notify", help="On failure, notify evacuate.yml's "
                                "notify.urls (the line 'evacuate schedule' installs passes it)."),
) -> None:
    """Copy HOST's inventory, database dumps and file trees into the store (incremental:
    unchanged files are neither read again nor stored twice). Read-only on HOST."""
    ctx = with_logs(make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new, limit_rate=limit_rate), logs)
    with failures_notified(ctx.config if notify else None, "snapshot", host,
                           console.warning_line):
        if root is not None:
            require_root(root)  # before a store is made for it
        repo = open_repository(ctx.config, ctx.state, store, create=True,
                               warn=console.warning_line)
        if root is not None:
            with console.TransferProgress(f"snapshot of the rescued disk {root}") as progress:
                manifest = actions.snapshot_rescued_disk(root, host, repo, ctx.config, progress)
        else:
            ref = ctx.host(host)
            with console.TransferProgress(f"snapshot of {ref.label}") as progress:
                manifest = actions.snapshot_host(ref, ctx.connect, repo, ctx.config, progress)
    totals = manifest.totals
    if as_json:
        console.print_json({"id": manifest.id, "host": manifest.host, "parent": manifest.parent,
                            "store": repo.blobs.store.describe(), "totals": asdict(totals),
                            "warnings": list(manifest.warnings)})
        return
    for warning in manifest.warnings[:20]:
        console.warning_line(warning)
    if len(manifest.warnings) > 20:
        console.warning_line(f"... and {len(manifest.warnings) - 20} more (see --json)")
    console.out().print(
        f"snapshot [bold]{console.escape(manifest.id)}[/] of {console.escape(manifest.host)} in "
        f"{console.escape(repo.blobs.store.describe())}: "
        f"{totals.files} files ({console.human_size(totals.bytes)}), {totals.dumps} dumps "
        f"({console.human_size(totals.dump_bytes)}); read {console.human_size(totals.transferred_bytes)}"
        f", stored {console.human_size(totals.new_bytes)} new, {totals.reused_files} files "
        f"unchanged{_kept_dumps(manifest)}; {totals.seconds:.1f} s", highlight=False)
    if totals.phases:
        console.out().print("time: " + ", ".join(f"{console.escape(name)} {seconds:.1f} s"
                                                 for name, seconds in totals.phases.items())
                            + " (the dumps run alongside the files)", highlight=False)


def _kept_dumps(manifest: SnapshotManifest) -> str:
    kept = [d.database for d in manifest.dumps if d.unchanged_since]
    quiet = [d.database for d in manifest.dumps if d.unchanged_since and d.kept == "quiet"]
    told = f"; {len(quiet)} told by the server's quiet marker, no table read" if quiet else ""
    return f", {len(kept)} databases unchanged (their dumps kept{told})" if kept else ""


@app.command("snapshots")
def snapshots(
    host: str | None = typer.Argument(None, help="Only this host's snapshots."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, as_json: bool = JsonOpt,
) -> None:
    """List the snapshots in the store with their age, size and new bytes."""
    ctx = make_context(config, state_dir)
    repo = open_repository(ctx.config, ctx.state, store)
    label = ctx.host(host).file_label if host else None
    listing = actions.list_snapshots(repo, label)
    if as_json:
        console.print_json([{"host": s.ref.host, "id": s.ref.id, "created": s.manifest.created,
                             "totals": asdict(s.manifest.totals)} for s in listing])
        return
    if not listing:
        console.out().print(f"no snapshots yet in {console.escape(repo.blobs.store.describe())}"
                            f"{' of ' + console.escape(label) if label else ''}", soft_wrap=True)
        return
    rows = [(s.ref.host, s.ref.id, _age(s.ref.created), s.manifest.totals.files,
             console.human_size(s.manifest.totals.bytes + s.manifest.totals.dump_bytes),
             console.human_size(s.manifest.totals.new_bytes), len(s.manifest.dumps),
             len(s.manifest.warnings)) for s in listing]
    console.out().print(console.table(
        f"snapshots in {repo.blobs.store.describe()}",
        ("host", "id", "age", "files", "size", "new", "dumps", "warnings"), rows))


@app.command("check")
def check(
    snapshot: str | None = typer.Argument(None, help="A snapshot id (or 'latest'); default all."),
    host: str | None = typer.Option(None, "--host", help="Only this host's snapshots."),
    read_data: bool = typer.Option(False, "--read-data",
                                   help="Also read, decrypt and hash every blob."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt, as_json: bool = JsonOpt,
) -> None:
    """Verify manifests and blobs; report missing or corrupt ones (exit 1 if any)."""
    ctx = make_context(config, state_dir)
    repo = open_repository(ctx.config, ctx.state, store)
    label = ctx.host(host).file_label if host else None
    report = actions.check(repo, label, snapshot, read_data)
    if as_json:
        console.print_json(asdict(report) | {"ok": report.ok})
    else:
        for problem in report.problems:
            console.error_line(problem)
        console.out().print(console.escape(
            f"checked {report.snapshots} snapshots, {report.blobs} blobs"
            f"{' (data read)' if read_data else ''}: "
            f"{'ok' if report.ok else f'{len(report.problems)} problems'}"))
    if not report.ok:
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command("forget")
def forget(
    host: str | None = typer.Option(None, "--host", help="Only this host's snapshots."),
    keep_last: int | None = typer.Option(None, "--keep-last", min=1),
    keep_daily: int | None = typer.Option(None, "--keep-daily", min=1),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; remove nothing."),
    store: str | None = StoreOpt, config: Path | None = ConfigOpt,
    state_dir: Path | None = StateOpt,
) -> None:
    """Forget snapshots beyond the retention policy and remove blobs nothing needs."""
    ctx = make_context(config, state_dir)
    settings = ctx.config.snapshot if ctx.config else None
    keep_last = keep_last or (settings.keep_last if settings else None)
    keep_daily = keep_daily or (settings.keep_daily if settings else None)
    if keep_last is None and keep_daily is None:
        from evacuate.errors import UsageError

        raise UsageError("say what to keep: --keep-last N and/or --keep-daily N "
                         "(or snapshot.keep_last / keep_daily in evacuate.yml)")
    repo = open_repository(ctx.config, ctx.state, store)
    label = ctx.host(host).file_label if host else None
    report = actions.forget(repo, label, keep_last, keep_daily, dry_run)
    verb = "would forget" if dry_run else "forgot"
    console.out().print(console.escape(f"{verb} {len(report.forgotten)} snapshots"
                        f"{': ' + ', '.join(r.id for r in report.forgotten) if report.forgotten else ''}"
                        f"; {'would remove' if dry_run else 'removed'} {report.removed_blobs} blobs"
                        + (f" and {report.removed_leftovers} leftovers of interrupted writes"
                           if report.removed_leftovers else "")))
