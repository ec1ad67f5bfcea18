"""``evacuate run``: carry out the plan on the target with a live view and a journal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from evacuate.actions.dry_run import DryRun
from evacuate.actions.dry_run import dry_run as describe_run
from evacuate.actions.plan import load_plan
from evacuate.actions.run import CutoverFailed, RunRequest, run_as_asked
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
from evacuate.config.parse import parse_execution_node
from evacuate.errors import EvacuateError, ExitCode, UsageError
from evacuate.plan.model import Step
from evacuate.rebuild.run import RunSummary
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


@contextmanager
def json_outcome(as_json: bool, command: str) -> Iterator[None]:
    """With ``--json``, a failure still prints one JSON document on stdout (``ok`` false, the
    error, its hint and the exit code) before the error line and the exit code as always."""
    try:
        yield
    except (EvacuateError, KeyboardInterrupt) as failed:
        if as_json:
            document: dict[str, Any] = {"ok": False, "command": command}
            if isinstance(failed, EvacuateError):
                document |= {"error": failed.message, "hint": failed.hint,
                             "exit_code": int(failed.exit_code)}
                if isinstance(failed, CutoverFailed):
                    document["cutover"] = asdict(failed.result)
            else:
                document |= {"error": "interrupted", "hint": None,
                             "exit_code": int(ExitCode.INTERRUPTED)}
            console.print_json(document)
        raise


def summary_json(summary: RunSummary) -> dict[str, Any]:
    return {"snapshot_id": summary.snapshot_id, "seconds": round(summary.seconds, 3),
            "steps": {k: round(v, 3) for k, v in summary.steps.items()},
            "warnings": list(summary.warnings),
            "verified": getattr(summary.verify, "ok", None)}


def render_dry_run(plan: DryRun) -> None:
    def line(text: str) -> None:  # data, printed as it is (no markup, no wrapping)
        console.out().print(text, markup=False, emoji=False, soft_wrap=True)

    line(f"dry run of {plan.plan}: {plan.source} → {plan.target} from {plan.snapshot}; "
         "nothing is changed")
    for index, step in enumerate(plan.steps, start=1):
        mark = " (done before, skipped)" if step.skipped else ""
        line(f"[{index}/{len(plan.steps)}] {step.id}: {step.title}{mark}")
        for task in step.tasks:
            line(f"      task: {task}")
    line(f"data: {plan.files} entries ({console.human_size(plan.file_bytes)}) under "
         f"{', '.join(plan.data_roots) or 'no data root'} and {plan.config_files} config files; "
         f"{plan.packages} packages")
    for database in plan.databases:
        line(f"database: {database.engine}:{database.name} "
             f"({console.human_size(database.size_bytes)})")


@app.command("run")
def run(
    names: list[str] = typer.Argument(None, metavar="[PLAN | HOST...]",
                                      help="Plan name (default: the last one made); or hosts "
                                           "and groups of evacuate.yml, each run from its "
                                           "plan (as --all and --wave)."),
    everything: bool = AllOpt, wave: str | None = WaveOpt,
    continue_on_failure: bool = typer.Option(
        False, "--continue-on-failure", help="A fleet: start the next wave even when a host "
                                             "of this one failed."),
    resume: bool = typer.Option(False, "--resume", help="Continue after the last completed "
                                                        "step of an interrupted run."),
    snapshot: str | None = typer.Option(None, "--snapshot",
                                        help="Use this snapshot (or 'latest') instead of "
                                             "taking a fresh one."),
    store: str | None = StoreOpt,
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt, logs: bool = WithLogsOpt,
    limit_rate: str | None = LimitRateOpt,
    fleet_limit_rate: str | None = FleetLimitRateOpt,
    cutover: bool = typer.Option(False, "--cutover", help="After the run: stop the source's "
                                 "writing services, move the final delta, start the target, "
                                 "verify, and report the downtime."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the steps, their Ansible "
                                 "tasks and the data that would move; change nothing."),
    node: str | None = typer.Option(None, "--node", metavar="SPEC",
                                    help="Run the Ansible steps on this execution node "
                                         "([user@]host[:port], its own ansible-runner, "
                                         "over SSH) instead of here (overrides the host's "
                                         "execution_node); with an S3 store the data steps "
                                         "(files, databases) run there too."),
    data_here: bool = typer.Option(False, "--data-here", help="With an execution node: "
                                   "stream the files and databases from here, not from "
                                   "the node."),
    as_json: bool = JsonOpt,
) -> None:
    """Rebuild the source on the target as planned: snapshot, prepare, files, databases,
    activate, verify. Each step is journaled; --resume continues an interrupted run. The
    source is only read, except that --cutover stops its services ('evacuate revert' starts
    them again). With --all, --wave NAME or hosts: a fleet, wave after wave, each host
    resumed from its own journal (a host done and verified before is not run again); a host
    that fails does not stop the others of its wave, the next wave waits for every host of
    this one to verify (or --continue-on-failure); one result per host. With --cutover each
    host of a fleet cuts over once its own run verified; a failed cutover is its host's
    failure only."""
    names = names or []
    if everything or wave is not None or is_fleet(names, config, state_dir):
        if dry_run or snapshot is not None or resume or node is not None:
            raise UsageError("a fleet run resumes each host from its journal; --dry-run, "
                             "--snapshot, --resume and --node are for one plan "
                             "(a fleet's hosts name their execution_node in evacuate.yml)")
        ctx = with_logs(make_context(config, state_dir, known_hosts=known_hosts,
                                     identity=identity, accept_new=accept_new,
                                     limit_rate=limit_rate,
                                     fleet_limit_rate=fleet_limit_rate), logs)
        waves = chosen_waves(ctx, everything, wave, names)
        repo = open_repository(ctx.config, ctx.state, store, warn=console.warning_line)
        move(ctx, repo, waves, "run", store=store, continue_on_failure=continue_on_failure,
             as_json=as_json, cutover=cutover)
        return
    if continue_on_failure:
        raise UsageError("--continue-on-failure is for a fleet (--all, --wave or hosts)")
    plan_name = names[0] if names else None
    with json_outcome(as_json, "run"):
        if dry_run and cutover:
            raise UsageError("--dry-run shows the run only: without --cutover")
        if node is not None:
            parse_execution_node(node)  # a bad spec is refused before anything runs
        ctx = with_logs(make_context(config, state_dir, known_hosts=known_hosts,
                                     identity=identity, accept_new=accept_new,
                                     limit_rate=limit_rate,
                                     fleet_limit_rate=fleet_limit_rate), logs)
        plan, folder = load_plan(ctx.state, plan_name)
        repo = open_repository(ctx.config, ctx.state, store, warn=console.warning_line)
        if dry_run:
            described = describe_run(plan, folder, repo, ctx.state, resume=resume,
                                     snapshot=snapshot)
            if as_json:
                console.print_json({"ok": True, "command": "run", "dry_run": True,
                                    **asdict(described)})
            else:
                render_dry_run(described)
            return
        started = time.monotonic()
        console.info_line(f"run {plan.name}: {plan.source} → {plan.target} "
                          f"(journal {folder / 'journal.json'})")

        def ran(summary: RunSummary) -> None:
            if as_json:
                return
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in summary.steps.items())
            console.out().print(
                f"[bold green]done[/]: {console.escape(plan.source)} rebuilt on "
                f"{console.escape(plan.target)} from snapshot {console.escape(summary.snapshot_id)} in "
                f"{time.monotonic() - started:.1f} s{' (' + steps + ')' if steps else ''}")

        asked = RunRequest(resume=resume, snapshot=snapshot, cutover=cutover, node=node,
                           store=store, data_here=data_here)
        with console.TransferProgress("run") as progress:
            outcome = run_as_asked(plan, folder, repo, ctx.host, ctx.connect, ctx.state,
                                   ctx.config, LiveReporter(progress), asked, ran=ran,
                                   say=lambda m: console.info_line(f"cutover: {m}"))
    result = outcome.cutover
    if as_json:
        console.print_json({"ok": True, "command": "run", "plan": plan.name,
                            "source": plan.source, "target": plan.target,
                            **summary_json(outcome.summary),
                            "cutover": asdict(result) if result else None,
                            "dns": asdict(outcome.dns) if outcome.dns else None})
    elif result is not None:
        console.out().print(
            f"cutover: {result.changed_files} changed and {result.removed_files} removed files "
            f"moved, databases replaced from snapshot {console.escape(result.final_snapshot)}; downtime "
            f"[bold]{result.downtime_seconds:.1f} s[/]"
            + (f" ({', '.join(f'{k} {v:.1f} s' for k, v in result.phases.items())})"
               if result.phases else "") + f"; {console.escape(result.detail)}")
        if outcome.dns is not None:
            from evacuate.cli.dns_cmds import render_outcome

            render_outcome(outcome.dns, False)


def is_fleet(names: list[str], config: Path | None, state_dir: Path | None) -> bool:
    """Several names, or one that is no saved plan but a host or group of evacuate.yml."""
    if len(names) != 1:
        return len(names) > 1
    ctx = make_context(config, state_dir)
    if (ctx.state.root / "plans" / names[0] / "plan.json").exists() or ctx.config is None:
        return False
    return names[0] in ctx.config.hosts or names[0] in ctx.config.groups


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
    """Start the services a cutover stopped on the source again, then put back the DNS
    records evacuate switched (as its journal recorded them)."""
    from evacuate.actions.run import revert_dns, revert_saved_plan
    from evacuate.cli.dns_cmds import render_outcome

    ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity)
    plan, _folder = load_plan(ctx.state, plan_name)
    units = revert_saved_plan(plan, ctx.host, ctx.connect)
    console.info_line(f"revert: started {', '.join(units) or 'nothing'} on {plan.source}")
    dns = revert_dns(ctx.state, ctx.config)
    if dns is not None:
        render_outcome(dns, False)
