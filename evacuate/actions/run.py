"""Action: run a saved plan as asked (resume, a snapshot, a cutover, a dry run), and, for
``restore``, the same without a source. The decisions live here, not in the CLI: a plan made
from a rescued disk has no source (it runs from its latest snapshot and cannot cut over), a
cutover continues the run it follows, a source that cannot be reached says how to go on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evacuate.actions.dns import DnsOutcome, has_open_changes
from evacuate.actions.dns import revert as dns_revert
from evacuate.actions.dns import switch as dns_switch
from evacuate.actions.snapshot import hooked_snapshot, snapshot_request
from evacuate.actions.source_gone import GONE, source_gone_hint
from evacuate.actions.verify import save_report
from evacuate.ansible.node import ExecutionNode
from evacuate.config import Config
from evacuate.config.parse import parse_execution_node
from evacuate.errors import HostKeyError, TransportError, UsageError
from evacuate.hooks import HookContext, HookFailed, hook_runner
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.plan.model import RebuildPlan
from evacuate.rebuild.cutover import CutoverResult, cutover, revert
from evacuate.rebuild.datajob import StoreAccess, store_access
from evacuate.rebuild.journal import Journal
from evacuate.rebuild.run import RunContext, RunReporter, RunSummary, VerifyFailed, run_plan
from evacuate.snapshot.engine import SnapshotProgress
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir
from evacuate.transport.base import Transport
from evacuate.verify.databases import CountResult
from evacuate.verify.engine import verify_against_snapshot

Resolve = Callable[[str], HostRef]


@dataclass(frozen=True)
class RunRequest:
    """What ``evacuate run`` was asked for."""

    resume: bool = False
    snapshot: str | None = None  # a snapshot id or 'latest' instead of a fresh one
    cutover: bool = False
    node: str | None = None  # --node: the Ansible steps run on this execution node
    store: str | None = None  # --store: the URL the repository was opened from
    data_here: bool = False  # --data-here: the data steps stay here even with a node and S3


@dataclass
class RunOutcome:
    summary: RunSummary
    cutover: CutoverResult | None = None
    dns: DnsOutcome | None = None  # the cutover switched DNS (plan.dns and dns.provider)


class CutoverFailed(VerifyFailed):
    """The target failed verification after the cutover: the source's writers are stopped."""

    def __init__(self, result: CutoverResult) -> None:
        super().__init__("the target failed verification after the cutover; the source's "
                         f"services are stopped ({result.detail})",
                         hint="'evacuate revert' starts them again")
        self.result = result


def plan_source(plan: RebuildPlan, resolve: Resolve) -> HostRef | None:
    """The host the plan's source is (None: a rescued disk, there is nothing to reach)."""
    if plan.source_spec.is_disk:
        return None
    return resolve(plan.source_spec.host or plan.source)


def run_as_asked(plan: RebuildPlan, folder: Path, repo: SnapshotRepository, resolve: Resolve,
                 options: ConnectOptions, state: StateDir, config: Config | None,
                 reporter: RunReporter, asked: RunRequest, *,
                 ran: Callable[[RunSummary], None] = lambda _s: None,
                 say: Callable[[str], None] = lambda _m: None,
                 snapshot_progress: SnapshotProgress | None = None) -> RunOutcome:
    """Run ``plan`` (``ran`` is told when its steps are done), then cut over if asked;
    raise CutoverFailed when the target does not verify after the cutover.
    ``snapshot_progress``: told of a fresh snapshot's phases and bytes."""
    source = plan_source(plan, resolve)
    snapshot = asked.snapshot
    if source is None:  # a rescued disk's plan: only its snapshot is there to read
        if asked.cutover:
            raise UsageError("a plan made from a rescued disk has no source to cut over")
        snapshot = snapshot or "latest"
    target = resolve(plan.target_spec)
    # a cutover continues a completed (or interrupted) run
    summary = run_saved_plan(plan, folder, repo, source, target, options, state, config,
                             reporter, resume=asked.resume or asked.cutover,
                             use_snapshot=snapshot, snapshot_progress=snapshot_progress,
                             node=asked.node, store_url=asked.store,
                             data_here=asked.data_here)
    after_run(plan, folder, source, options, state, config, summary, say)
    ran(summary)
    outcome = RunOutcome(summary)
    if asked.cutover:
        assert source is not None  # refused above for a rescued disk's plan
        outcome.cutover, outcome.dns = cut_over(plan, folder, repo, source, target, options,
                                                state, config, say)
    return outcome


def cut_over(plan: RebuildPlan, folder: Path, repo: SnapshotRepository, source: HostRef,
             target: HostRef, options: ConnectOptions, state: StateDir, config: Config | None,
             say: Callable[[str], None]) -> tuple[CutoverResult, DnsOutcome | None]:
    """The cutover of a plan whose run verified (``run --cutover``, for one plan or each host
    of a fleet): the final delta (:func:`cutover_saved_plan`), then, the target verified, the
    DNS switch when the plan found records and evacuate.yml names a provider. Raise
    CutoverFailed when the target does not verify after it."""
    result = cutover_saved_plan(plan, folder, repo, source, target, options, state, config, say)
    if not result.verified:
        raise CutoverFailed(result)
    dns = None
    if plan.dns is not None and plan.dns.records and config is not None and \
            config.dns is not None and config.dns.editable:
        # the target verified: clients may go there now (all or nothing, confirmed on
        # every authoritative server; 'evacuate revert' switches back)
        dns = dns_switch(state, config, plan_name=plan.name)
        say(f"DNS: {len(dns.changes)} record set(s) switched to the target, "
            f"answered by every authoritative server in {dns.seconds:.1f} s")
    return result, dns


def hook_context(plan: RebuildPlan, snapshot_id: str = "") -> HookContext:
    """What a hook of ``plan``'s run is told."""
    return HookContext(host=plan.source, target=plan.target, plan=plan.name,
                       snapshot_id=snapshot_id)


def after_run(plan: RebuildPlan, folder: Path, source: HostRef | None, options: ConnectOptions,
              state: StateDir, config: Config | None, summary: RunSummary,
              say: Callable[[str], None]) -> None:
    """evacuate.yml's after_run hooks, once the run's target verified; a failing one is
    journaled (entry after_run, failed) and raised; once they run, that entry is done."""
    hooks = hook_runner(config, state.root, warn=say)
    context = hook_context(plan, summary.snapshot_id)
    try:
        if source is not None and hooks.on_source("after_run"):
            with connect(source, options) as transport:
                hooks.run("after_run", context, transport)
        else:
            hooks.run("after_run", context, None)
    except HookFailed as stopped:
        Journal.open(folder / "journal.json", plan.name, resume=True).failed(
            "after_run", stopped.message, stopped.output)
        raise
    journal = Journal.read(folder / "journal.json", plan.name)
    if journal is not None and journal.failed_entry("after_run"):  # it failed before: now ran
        journal.mark("after_run", 0.0, detail="the after_run hooks ran")


def run_saved_plan(plan: RebuildPlan, folder: Path, repo: SnapshotRepository,
                   source: HostRef | None, target: HostRef, options: ConnectOptions,
                   state: StateDir, config: Config | None, reporter: RunReporter, *,
                   resume: bool, use_snapshot: str | None,
                   snapshot_progress: SnapshotProgress | None = None,
                   node: str | None = None, store_url: str | None = None,
                   data_here: bool = False) -> RunSummary:
    def fresh_snapshot() -> SnapshotManifest:
        assert source is not None
        try:
            with connect(source, options) as transport:
                return hooked_snapshot(transport, repo, snapshot_request(source, plan, config),
                                       config, hook_context(plan), snapshot_progress)
        except GONE as lost:
            named = config is not None and (plan.target in config.targets
                                            or plan.target in config.hosts)
            lost.hint = source_gone_hint(repo, plan.source, plan.target if named else target.label,
                                         "or this plan: 'evacuate run --snapshot latest'")
            raise
        except TransportError as failed:
            if isinstance(failed, HostKeyError):
                raise
            failed.hint = failed.hint or ("the source cannot be reached: 'evacuate run --resume "
                                          "--snapshot latest' continues from the last snapshot")
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

    on_node = execution_node(plan, config, options, node)
    store = data_on_node(on_node, config, state, store_url, data_here=data_here)
    ctx = RunContext(
        plan=plan, folder=folder, repo=repo,
        connect_target=lambda: connect(target, options),
        take_snapshot=fresh_snapshot if source else None,
        vault_password_file=state.root / "keys" / "vault-pass",
        known_hosts=options.known_hosts, identity=options.identity, verify=verify,
        node=on_node, store=store)
    return run_plan(ctx, reporter, resume=resume, use_snapshot=use_snapshot)


def execution_node(plan: RebuildPlan, config: Config | None, options: ConnectOptions,
                   asked: str | None = None) -> ExecutionNode | None:
    """Where the plan's Ansible steps run: ``asked`` (``--node``), else the source's
    ``execution_node`` in evacuate.yml, reached with the ssh settings (None: here)."""
    spec = parse_execution_node(asked) if asked else None
    if spec is None and config is not None and (host := config.hosts.get(plan.source)):
        spec = host.execution_node
    if spec is None:
        return None
    return ExecutionNode(spec, identity=options.identity, known_hosts=options.known_hosts,
                         ssh_config=options.ssh_config, connect_timeout=options.connect_timeout)


def data_on_node(node: ExecutionNode | None, config: Config | None, state: StateDir,
                 store_url: str | None, *, data_here: bool = False) -> StoreAccess | None:
    """The store as the node opens it when the data steps run there: with a node and a
    shared (S3) store, unless ``data_here`` (None: they run here)."""
    if node is None or data_here:
        return None
    return store_access(config, state, store_url)


def cutover_saved_plan(plan: RebuildPlan, folder: Path, repo: SnapshotRepository,
                       source: HostRef, target: HostRef, options: ConnectOptions,
                       state: StateDir, config: Config | None,
                       say: Callable[[str], None]) -> CutoverResult:
    """The final delta with the source's writers stopped (see rebuild.cutover); the plan
    must have run to the end first."""
    journal = Journal.open(folder / "journal.json", plan.name, resume=True)
    if not journal.done("verify") or journal.snapshot_id is None:
        raise UsageError("cutover needs a completed run of the plan first",
                         hint="run 'evacuate run' (it ends with a verified target)")
    previous = repo.load(repo.find(plan.source, journal.snapshot_id))
    request = snapshot_request(source, plan, config)

    def verify(manifest: SnapshotManifest, target_transport: Transport,
               counted: list[CountResult]) -> tuple[bool, str, object]:
        report = verify_against_snapshot(
            manifest, target_transport, target_address=target.spec.host, source_address=None,
            target_label=plan.target, settings=config.verify if config else None, plan=plan,
            read_blob=repo.blobs.read_blob, counted=counted)
        path = save_report(state, report)
        failed = report.failures()
        return report.ok, (f"{len(report.checks)} checks passed; report {path}" if not failed
                           else f"{len(failed)} checks failed; report {path}"), report

    hooks = hook_runner(config, state.root, warn=say)
    context = hook_context(plan, previous.id)
    with connect(source, options) as src, connect(target, options) as tgt:
        try:
            hooks.run("before_cutover", context, src)  # before any service stops
        except HookFailed as stopped:
            journal.failed("cutover", stopped.message, stopped.output)
            raise
        result = cutover(plan, repo, src, tgt, previous,
                         lambda seen: hooked_snapshot(src, repo, request, config, context,
                                                      inventory=seen), verify,
                         say)
        if result.verified:
            try:
                hooks.run("after_cutover", context.with_snapshot(result.final_snapshot), src)
            except HookFailed as stopped:
                journal.mark_cutover(verified=True, snapshot=result.final_snapshot,
                                     downtime=result.downtime_seconds, stopped=result.stopped)
                journal.failed("after_cutover", stopped.message, stopped.output)
                raise
    journal.mark_cutover(verified=result.verified, snapshot=result.final_snapshot,
                         downtime=result.downtime_seconds, stopped=result.stopped)
    return result


def revert_saved_plan(plan: RebuildPlan, resolve: Resolve, options: ConnectOptions) -> list[str]:
    """Start the source's writers a cutover stopped."""
    source = plan_source(plan, resolve)
    if source is None:
        raise UsageError("a plan made from a rescued disk has no source to start services on")
    with connect(source, options) as src:
        return revert(plan, src)


def revert_dns(state: StateDir, config: Config | None) -> DnsOutcome | None:
    """Put back the DNS changes evacuate made (None: there are none)."""
    if not has_open_changes(state):
        return None
    return dns_revert(state, config)


__all__ = ["CutoverFailed", "RunOutcome", "RunRequest", "cut_over", "cutover_saved_plan",
           "plan_source", "revert_dns", "revert_saved_plan", "run_as_asked", "run_saved_plan"]
