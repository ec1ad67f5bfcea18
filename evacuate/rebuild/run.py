"""Carry out a plan: snapshot → prepare (Ansible) → files → databases → activate (Ansible)
→ verify, recording each completed step in the journal so that ``--resume`` continues
after the last one. Data moves store → target as streams, never through Ansible's own file
transfer: here (the data steps of evacuate.rebuild.datasteps, by evacuate.rebuild.data),
or, with an execution node and an S3 store, on the node by the same code in the
evacuate.migrate modules (evacuate.rebuild.datajob)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from evacuate.ansible.node import ExecutionNode
from evacuate.ansible.runner import PlaybookOutcome, run_playbook
from evacuate.errors import EvacuateError, TransportError
from evacuate.hooks import HookFailed
from evacuate.plan.model import RebuildPlan, Step, StepKind
from evacuate.rebuild.datajob import StoreAccess
from evacuate.rebuild.datasteps import (
    containers_step,
    databases_step,
    files_step,
    stage_files_ahead,
)
from evacuate.rebuild.journal import Journal
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import StagingStopped
from evacuate.transport.base import Transport
from evacuate.transport.spec import parse_host_spec


class RunReporter(Protocol):
    def step(self, index: int, total: int, step: Step, skipped: bool) -> None: ...
    def step_done(self, step: Step, seconds: float, detail: str) -> None: ...
    def task(self, name: str, host: str) -> None: ...
    def advance(self, count: int) -> None: ...
    def warning(self, message: str) -> None: ...


@dataclass
class RunSummary:
    plan: str
    snapshot_id: str
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    playbooks: dict[str, PlaybookOutcome] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    verify: object | None = None


@dataclass
class RunContext:
    plan: RebuildPlan
    folder: Path
    repo: SnapshotRepository
    connect_target: Callable[[], Transport]
    take_snapshot: Callable[[], SnapshotManifest] | None  # None: the source is gone (restore)
    vault_password_file: Path
    known_hosts: Path | None
    identity: Path | None
    verify: Callable[[SnapshotManifest, Transport], tuple[bool, str, object]] | None = None
    node: ExecutionNode | None = None  # the Ansible steps run there (None: here)
    store: StoreAccess | None = None  # an S3 store: with a node, the data steps run there too


@dataclass
class StepRun:
    """One run of a plan: what its step handlers share."""

    ctx: RunContext
    reporter: RunReporter
    journal: Journal
    summary: RunSummary
    use_snapshot: str | None
    manifest: SnapshotManifest | None = None
    alongside: set[str] = field(default_factory=set)  # steps already run next to another
    cancel: Callable[[], bool] | None = None  # a step run alongside stops when this says so
    ahead: dict[str, object] = field(default_factory=dict)  # step id → its work done ahead

    @property
    def project(self) -> Path:
        return self.ctx.folder / "project"

    def snapshot(self) -> SnapshotManifest:
        """The snapshot restored from (loaded from the store on a resume)."""
        if self.manifest is None:
            self.manifest = self.ctx.repo.load(self.ctx.repo.find(
                self.ctx.plan.source, self.journal.snapshot_id or self.ctx.plan.snapshot_id))
            self.journal.use_snapshot(self.manifest.id)
        return self.manifest

    def warn(self, message: str) -> None:
        if message not in self.summary.warnings:
            self.summary.warnings.append(message)
            self.reporter.warning(message)

    def ended(self, step: Step, seconds: float, detail: str) -> None:
        self.summary.steps[step.id] = seconds
        self.journal.mark(step.id, seconds, detail=detail)
        self.reporter.step_done(step, seconds, detail)


@dataclass(frozen=True)
class StepHandler:
    """How one kind of step runs: ``run`` returns the detail for the journal and the step's
    line, or None when it ended (journaled) the step itself. ``needs_snapshot``: the
    snapshot restored from is loaded first (on a resume, from the store)."""

    run: Callable[[StepRun, Step, int], str | None]
    needs_snapshot: bool = True
    ahead: Callable[[StepRun, Step, Callable[[], bool]], object] | None = None
    """Work of this step done ahead of its turn, while the packages install (the files
    step's archive staged on the target), until the callable says stop; what it returns
    is in ``StepRun.ahead`` for the step's own run."""


def run_plan(ctx: RunContext, reporter: RunReporter, *, resume: bool = False,
             use_snapshot: str | None = None) -> RunSummary:
    """Run every step not yet done; raise the first step's error (the journal keeps what
    was done, so ``resume`` continues there)."""
    plan = ctx.plan
    journal = Journal.open(ctx.folder / "journal.json", plan.name, resume=resume)
    started = time.monotonic()
    run = StepRun(ctx, reporter, journal, RunSummary(plan.name, journal.snapshot_id or
                                                  plan.snapshot_id, 0.0), use_snapshot)
    for index, step in enumerate(plan.steps, start=1):
        if step.id in run.alongside:
            continue
        skipped = journal.done(step.id)
        reporter.step(index, len(plan.steps), step, skipped)
        if skipped:
            continue
        handler = STEPS.get(step.kind)
        if handler is None:
            raise EvacuateError(f"unknown step kind '{step.kind}' (step {step.id})")
        began = time.monotonic()
        if handler.needs_snapshot:
            run.snapshot()
        try:
            detail = handler.run(run, step, index)
        except HookFailed as stopped:  # the hook's output goes into the journal
            journal.failed(step.id, stopped.message, stopped.output)
            raise
        if detail is not None:
            run.ended(step, time.monotonic() - began, detail)
    run.summary.snapshot_id = journal.snapshot_id or plan.snapshot_id
    run.summary.seconds = time.monotonic() - started
    return run.summary


def _snapshot_step(run: StepRun, step: Step, index: int) -> str | None:
    ctx, steps = run.ctx, run.ctx.plan.steps
    if run.use_snapshot or ctx.take_snapshot is None:
        def get() -> SnapshotManifest:
            return ctx.repo.load(ctx.repo.find(ctx.plan.source,
                                               run.use_snapshot or ctx.plan.snapshot_id))

        def detail(manifest: SnapshotManifest) -> str:
            return f"using snapshot {manifest.id}"
    else:
        get, detail = ctx.take_snapshot, _snapshot_detail
    after = steps[index] if index < len(steps) else None
    if after is not None and after.kind is StepKind.PREPARE and not run.journal.done(after.id):
        run.reporter.step(index + 1, len(steps), after, False)
        run.alongside.add(after.id)
        run.manifest = _beside_preparing(run, step, get, detail, after, index + 1)
        return None
    run.manifest = get()
    run.journal.use_snapshot(run.manifest.id)
    return detail(run.manifest)


def _beside_preparing(run: StepRun, snapshot: Step, get: Callable[[], SnapshotManifest],
                      detail: Callable[[SnapshotManifest], str], prepare: Step,
                      prepare_index: int) -> SnapshotManifest:
    """Take (or load) the snapshot while the target installs its packages (neither needs
    the other), then do what the later steps can do ahead (the files step stages its
    archive on the target) while they still install: each step is journaled when it ends;
    the first failure is raised once both have ended."""
    began = time.monotonic()
    stop = threading.Event()  # the snapshot failed: the packages stop too
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") as pool:
        run.cancel = stop.is_set
        preparing = pool.submit(STEPS[prepare.kind].run, run, prepare, prepare_index)
        try:
            manifest = get()
        except BaseException:
            stop.set()
            with contextlib.suppress(BaseException):  # the snapshot's error is the one raised
                ended = preparing.result()
                if ended is not None:
                    run.ended(prepare, time.monotonic() - began, ended)
            raise
        run.journal.use_snapshot(manifest.id)
        run.ended(snapshot, time.monotonic() - began, detail(manifest))
        run.manifest = manifest
        _ahead(run, prepare, lambda: preparing.done() and preparing.exception() is not None)
        ended = preparing.result()
        if ended is not None:
            run.ended(prepare, time.monotonic() - began, ended)
    run.cancel = None
    return manifest


def _ahead(run: StepRun, prepare: Step, stop: Callable[[], bool]) -> None:
    """Each later step's work ahead of its turn (StepHandler.ahead), while ``prepare`` runs
    and until ``stop`` (it failed) says to stop; a step whose work ahead fails does it in
    its turn, as without (the reason is a warning)."""
    steps = run.ctx.plan.steps
    for step in steps[steps.index(prepare) + 1:]:
        handler = STEPS.get(step.kind)
        if handler is None or handler.ahead is None or run.journal.done(step.id):
            continue
        try:
            run.ahead[step.id] = handler.ahead(run, step, stop)
        except StagingStopped:
            return
        except EvacuateError as failed:
            run.warn(f"{step.id}: not done beside the packages ({failed}); done in its turn")


def _snapshot_detail(manifest: SnapshotManifest) -> str:
    return f"snapshot {manifest.id}: {manifest.totals.seconds:.1f} s"


FAST_PATH: dict[str, object] = {"evacuate_restore_files": False,
                                 "evacuate_restore_databases": False}
"""The data steps stream files and dumps themselves: the playbook's own restore is off."""


def _ansible_step(run: StepRun, step: Step, extravars: dict[str, object],
                  cancel: Callable[[], bool] | None = None) -> str:
    ctx = run.ctx
    outcome = run_playbook(run.project, ctx.folder / "runner",
                           ident=f"{step.id}-{int(time.time())}", tags=step.tags,
                           extravars=extravars, vault_password_file=ctx.vault_password_file,
                           known_hosts=ctx.known_hosts, identity=ctx.identity,
                           on_task=run.reporter.task, cancel=cancel, node=ctx.node,
                           reaches=(parse_host_spec(ctx.plan.target_spec),))
    run.summary.playbooks[step.id] = outcome
    return f"ok={outcome.ok} changed={outcome.changed}"


def _playbook_step(run: StepRun, step: Step, _index: int) -> str:
    return _ansible_step(run, step, dict(FAST_PATH), run.cancel)


def _activate_step(run: StepRun, step: Step, _index: int) -> str:
    plan = run.ctx.plan
    extravars: dict[str, object] = dict(FAST_PATH)
    with run.ctx.connect_target() as target:
        files = set(target.run("systemctl list-unit-files --no-legend --no-pager | "
                               "awk '{print $1}'", timeout=60, check=True).text.split())

        def exists(unit: str) -> bool:  # an instance exists when its template does
            name, at, rest = unit.partition("@")
            return unit in files or (bool(at) and f"{name}@.{rest.rsplit('.', 1)[-1]}" in files)

        # a socket is never restarted under its running service (systemd refuses)
        running = [u for u in plan.services_started if exists(u) and not u.endswith(".socket")]
        # units already running (started by their packages, before the files step restored
        # their config) restart: a reload does not rebind what the config names (opendkim's
        # Socket, a daemon's listening address); try-restart leaves a stopped unit alone
        if running:
            target.run(["sh", "-c", 'systemctl daemon-reload; systemctl try-restart "$@"',
                        "restart", *running], timeout=300, check=True)
    for key, units in (("evacuate_services_enabled", plan.services_enabled),
                       ("evacuate_services_started", plan.services_started)):
        extravars[key] = [u for u in units if exists(u)]
        for unit in units:
            if not exists(unit):
                run.warn(f"{unit} does not exist on the target: not enabled or started")
    return _ansible_step(run, step, extravars)


def _verify_step(run: StepRun, _step: Step, _index: int) -> str:
    ctx = run.ctx
    if ctx.verify is None:
        return "no verifier"
    with ctx.connect_target() as target:
        ok, text, report = ctx.verify(run.snapshot(), target)
    run.summary.verify = report
    if not ok:
        raise VerifyFailed(f"verification of {ctx.plan.target} failed: {text}",
                           hint="see the report; fix and run 'evacuate run --resume'",
                           report=report)
    return text


STEPS: dict[StepKind, StepHandler] = {
    StepKind.SNAPSHOT: StepHandler(_snapshot_step, needs_snapshot=False),
    StepKind.PREPARE: StepHandler(_playbook_step),
    StepKind.FILES: StepHandler(files_step, ahead=stage_files_ahead),
    StepKind.DATABASES: StepHandler(databases_step),
    StepKind.ACTIVATE: StepHandler(_activate_step),
    StepKind.CONTAINERS: StepHandler(containers_step),
    StepKind.VERIFY: StepHandler(_verify_step),
    StepKind.ANSIBLE: StepHandler(_playbook_step),
}
"""One handler per step kind: a new kind of step is a StepKind and an entry here."""


class VerifyFailed(EvacuateError):
    """The rebuilt target differs from the source; ``report``: what the verifier found."""

    def __init__(self, message: str, *, hint: str | None = None,
                 report: object | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


__all__ = ["STEPS", "RunContext", "RunReporter", "RunSummary", "StepHandler", "StepRun",
           "TransportError", "VerifyFailed", "run_plan"]
