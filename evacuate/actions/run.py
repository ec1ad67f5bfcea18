"""Action: run a saved plan (and, for `restore`, the same without a source)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evacuate.actions.source_gone import GONE, source_gone_hint
from evacuate.actions.verify import save_report
from evacuate.config import Config
from evacuate.errors import UsageError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.plan.model import RebuildPlan
from evacuate.rebuild.cutover import CutoverResult, cutover, revert
from evacuate.rebuild.journal import Journal
from evacuate.rebuild.run import RunContext, RunReporter, RunSummary, run_plan
from evacuate.snapshot.engine import SnapshotProgress, take_snapshot
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir
from evacuate.transport.base import Transport
from evacuate.verify.engine import verify_against_snapshot


def run_saved_plan(plan: RebuildPlan, folder: Path, repo: SnapshotRepository,
                   source: HostRef | None, target: HostRef, options: ConnectOptions,
                   state: StateDir, config: Config | None, reporter: RunReporter, *,
                   resume: bool, use_snapshot: str | None,
                   snapshot_progress: SnapshotProgress | None = None) -> RunSummary:
    from evacuate.actions.snapshot import request_for

    def fresh_snapshot() -> SnapshotManifest:
        assert source is not None
        try:
            with connect(source, options) as transport:
                request = request_for(source, config)
                if request.host != plan.source:
                    request = type(request)(plan.source, request.include, request.exclude,
                                            request.databases)
                return take_snapshot(transport, repo, request, snapshot_progress)
        except GONE as lost:
            named = config is not None and (plan.target in config.targets
                                            or plan.target in config.hosts)
            lost.hint = source_gone_hint(repo, plan.source, plan.target if named else target.label,
                                         "or this plan: 'evacuate run --snapshot latest'")
            raise

    def verify(manifest: SnapshotManifest, target_transport: Transport) -> tuple[bool, str, object]:
        report = verify_against_snapshot(
            manifest, target_transport, target_address=target.spec.host,
            source_address=source.spec.host if source is not None else None,
            target_label=plan.target, settings=config.verify if config else None, plan=plan,
            read_blob=repo.blobs.read_blob)
        path = save_report(state, report)
        counts = report.counts()
        text = ", ".join(f"{n} {k}" for k, n in counts.items() if n) + f"; report {path}"
        if not report.ok:
            first = "; ".join(f"{c.area}:{c.name}" for c in report.failures()[:5])
            text = f"{len(report.failures())} checks failed ({first}); report {path}"
        return report.ok, text, report

    ctx = RunContext(
        plan=plan, folder=folder, repo=repo,
        connect_source=(lambda: connect(source, options)) if source else None,
        connect_target=lambda: connect(target, options),
        take_snapshot=fresh_snapshot if source else None,
        vault_password_file=state.root / "keys" / "vault-pass",
        known_hosts=options.known_hosts, identity=options.identity, verify=verify)
    return run_plan(ctx, reporter, resume=resume, use_snapshot=use_snapshot)


def cutover_saved_plan(plan: RebuildPlan, folder: Path, repo: SnapshotRepository,
                       source: HostRef, target: HostRef, options: ConnectOptions,
                       state: StateDir, config: Config | None,
                       say: Callable[[str], None]) -> CutoverResult:
    """The final delta with the source's writers stopped (see rebuild.cutover); the plan
    must have run to the end first."""
    from evacuate.actions.snapshot import request_for

    journal = Journal.open(folder / "journal.json", plan.name, resume=True)
    if not journal.done("verify") or journal.snapshot_id is None:
        raise UsageError("cutover needs a completed run of the plan first",
                         hint="run 'evacuate run' (it ends with a verified target)")
    previous = repo.load(repo.find(plan.source, journal.snapshot_id))
    request = request_for(source, config)
    request = type(request)(plan.source, request.include, request.exclude, request.databases)

    def verify(manifest: SnapshotManifest, target_transport: Transport) -> tuple[bool, str, object]:
        report = verify_against_snapshot(
            manifest, target_transport, target_address=target.spec.host, source_address=None,
            target_label=plan.target, settings=config.verify if config else None, plan=plan,
            read_blob=repo.blobs.read_blob)
        path = save_report(state, report)
        failed = report.failures()
        return report.ok, (f"{len(report.checks)} checks passed; report {path}" if not failed
                           else f"{len(failed)} checks failed; report {path}"), report

    with connect(source, options) as src, connect(target, options) as tgt:
        result = cutover(plan, repo, src, tgt, previous,
                         lambda: take_snapshot(src, repo, request), verify, say)
    journal.steps["cutover"] = {"status": "done" if result.verified else "failed",
                                "snapshot": result.final_snapshot,
                                "downtime": round(result.downtime_seconds, 2),
                                "stopped": result.stopped}
    journal.snapshot_id = result.final_snapshot
    journal.save()
    return result


def revert_saved_plan(plan: RebuildPlan, source: HostRef, options: ConnectOptions) -> list[str]:
    with connect(source, options) as src:
        return revert(plan, src)
