"""``evacuate run``: carry out the plan on the target with a live view and a journal."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from evacuate.actions.plan import load_plan
from evacuate.actions.run import run_saved_plan
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.cli.common import (
    AcceptNewOpt,
    ConfigOpt,
    IdentityOpt,
    KnownHostsOpt,
    StateOpt,
    StoreOpt,
    WithLogsOpt,
    make_context,
    with_logs,
)
from evacuate.errors import TransportError, UsageError
from evacuate.hostref import HostRef
from evacuate.plan.model import Step
from evacuate.snapshot.open import open_repository


class LiveReporter:
    """Step lines, the current Ansible task and the bytes of data transfers."""

    def __init__(self, progress: console.TransferProgress) -> None:
        self.progress = progress

    def step(self, index: int, total: int, step: Step, skipped: bool) -> None:
        mark = " (done before, skipped)" if skipped else ""
        console.info_line(f"[{index}/{total}] {step.id}: {step.title}{mark}")
        self.progress.phase(step.id)

    def step_done(self, step: Step, seconds: float, detail: str) -> None:
        console.info_line(f"      {step.id} done in {seconds:.1f} s{': ' + detail if detail else ''}")

    def task(self, name: str, host: str) -> None:
        self.progress.phase(f"ansible: {name}"[:70])

    def advance(self, count: int) -> None:
        self.progress.advance(count)

    def warning(self, message: str) -> None:
        console.warning_line(message)


@app.command("run")
def run(
    plan_name: str | None = typer.Argument(None, metavar="[PLAN]",
                                           help="Plan name (default: the last one made)."),
    resume: bool = typer.Option(False, "--resume", help="Continue after the last completed "
                                                        "step of an interrupted run."),
    snapshot: str | None = typer.Option(None, "--snapshot",
                                        help="Use this snapshot (or 'latest') instead of "
                                             "taking a fresh one."),
    store: str | None = StoreOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt, logs: bool = WithLogsOpt,
    cutover: bool = typer.Option(False, "--cutover", help="After the run: stop the source's "
                                 "writing services, move the final delta, start the target, "
                                 "verify, and report the downtime."),
) -> None:
    """Rebuild the source on the target as planned: snapshot, prepare, files, databases,
    activate, verify. Each step is journaled; --resume continues an interrupted run. The
    source is only read, except that --cutover stops its services ('evacuate revert' starts
    them again)."""
    ctx = with_logs(make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new), logs)
    plan, folder = load_plan(ctx.state, plan_name)
    repo = open_repository(ctx.config, ctx.state, store, warn=console.warning_line)
    from evacuate.actions.plan import DISK_SOURCE

    source: HostRef | None = None
    if plan.source_spec.startswith(DISK_SOURCE):
        # A rescued disk's plan: there is no source to read, only its snapshot.
        if cutover:
            raise UsageError("a plan made from a rescued disk has no source to cut over")
        snapshot = snapshot or "latest"
    else:
        source = ctx.host(plan.source_spec or plan.source)
    target = ctx.host(plan.target_spec)
    started = time.monotonic()
    resume = resume or cutover  # a cutover continues a completed (or interrupted) run
    console.info_line(f"run {plan.name}: {plan.source} → {plan.target} "
                      f"(journal {folder / 'journal.json'})")
    try:
        with console.TransferProgress("run") as progress:
            summary = run_saved_plan(plan, folder, repo, source, target, ctx.connect, ctx.state,
                                     ctx.config, LiveReporter(progress), resume=resume,
                                     use_snapshot=snapshot)
    except TransportError as lost:
        if lost.hint is None and lost.message and plan.source in lost.message:
            lost.hint = ("the source is unreachable: 'evacuate run --resume --snapshot latest' "
                         "continues from the last snapshot")
        raise
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in summary.steps.items())
    console.out().print(f"[bold green]done[/]: {plan.source} rebuilt on {plan.target} from "
                        f"snapshot {summary.snapshot_id} in {time.monotonic() - started:.1f} s"
                        f"{' (' + steps + ')' if steps else ''}")
    if cutover:
        from evacuate.actions.run import cutover_saved_plan

        assert source is not None  # refused above for a rescued disk's plan
        result = cutover_saved_plan(plan, folder, repo, source, target, ctx.connect, ctx.state,
                                    ctx.config, lambda m: console.info_line(f"cutover: {m}"))
        console.out().print(
            f"cutover: {result.changed_files} changed and {result.removed_files} removed files "
            f"moved, databases replaced from snapshot {result.final_snapshot}; downtime "
            f"[bold]{result.downtime_seconds:.1f} s[/]; {result.detail}")
        if not result.verified:
            from evacuate.rebuild.run import VerifyFailed

            raise VerifyFailed("the target failed verification after the cutover; the source's "
                               "services are stopped", hint="'evacuate revert' starts them again")


@app.command("export")
def export(
    plan_name: str | None = typer.Argument(None, metavar="[PLAN]",
                                           help="Plan name (default: the last one made)."),
    to: Path = typer.Option(..., "--to", help="Payload directory to write."),
    snapshot: str | None = typer.Option(None, help="Snapshot (default: the plan's)."),
    store: str | None = StoreOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
) -> None:
    """Write the plan's payload (files.tar and the dumps) for running the rendered project with
    plain ansible-playbook (-e evacuate_payload_dir=DIR). The dumps of roles and users hold
    password hashes: the directory is private (0700, files 0600)."""
    from evacuate.actions.export import export_payload

    ctx = make_context(config, state_dir)
    plan, folder = load_plan(ctx.state, plan_name)
    repo = open_repository(ctx.config, ctx.state, store)
    path, result, dumps = export_payload(plan, repo, to, snapshot)
    console.info_line(f"payload in {path}: files.tar ({result.files} files, "
                      f"{console.human_size(result.bytes)}), dumps: {', '.join(dumps) or 'none'}")
    console.info_line(f"run: cd {folder / 'project'} && ansible-playbook site.yml "
                      f"--vault-password-file {ctx.state.root / 'keys' / 'vault-pass'} "
                      f"-e evacuate_payload_dir={path.absolute()}")


@app.command("revert")
def revert(
    plan_name: str | None = typer.Argument(None, metavar="[PLAN]",
                                           help="Plan name (default: the last one made)."),
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
) -> None:
    """Start the services a cutover stopped on the source again."""
    from evacuate.actions.run import revert_saved_plan

    ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity)
    plan, _folder = load_plan(ctx.state, plan_name)
    units = revert_saved_plan(plan, ctx.host(plan.source_spec or plan.source), ctx.connect)
    console.info_line(f"revert: started {', '.join(units) or 'nothing'} on {plan.source}")
