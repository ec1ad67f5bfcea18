"""Carry out a plan: snapshot → prepare (Ansible) → files → databases → activate (Ansible)
→ verify, recording each completed step in the journal so that ``--resume`` continues
after the last one. Data moves store → target as streams, never through Ansible."""

from __future__ import annotations

import contextlib
import shlex
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from evacuate.ansible.runner import PlaybookOutcome, run_playbook
from evacuate.errors import EvacuateError, TransportError
from evacuate.plan.model import RebuildPlan, Step
from evacuate.plan.selection import plan_selector
from evacuate.rebuild.databases import restore_databases
from evacuate.rebuild.journal import Journal
from evacuate.rebuild.pgcarry import carry_postgresql
from evacuate.rebuild.space import check_space, explain_no_space, needed_by_root
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import STAMP_RESTORED, restore_tree
from evacuate.snapshot.scan import decode_path
from evacuate.transport.base import Transport


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
    connect_source: Callable[[], Transport] | None  # None: the source is gone (restore)
    connect_target: Callable[[], Transport]
    take_snapshot: Callable[[], SnapshotManifest] | None
    vault_password_file: Path
    known_hosts: Path | None
    identity: Path | None
    verify: Callable[[SnapshotManifest, Transport], tuple[bool, str, object]] | None = None


def run_plan(ctx: RunContext, reporter: RunReporter, *, resume: bool = False,
             use_snapshot: str | None = None) -> RunSummary:
    """Run every step not yet done; raise the first step's error (the journal keeps what
    was done, so ``resume`` continues there)."""
    plan = ctx.plan
    journal = Journal.open(ctx.folder / "journal.json", plan.name, resume=resume)
    started = time.monotonic()
    summary = RunSummary(plan.name, journal.snapshot_id or plan.snapshot_id, 0.0)
    manifest: SnapshotManifest | None = None
    project = ctx.folder / "project"
    alongside: set[str] = set()  # steps that already ran next to the snapshot
    for index, step in enumerate(plan.steps, start=1):
        if step.id in alongside:
            continue
        skipped = journal.done(step.id)
        reporter.step(index, len(plan.steps), step, skipped)
        if skipped:
            continue
        began = time.monotonic()
        detail = ""
        if step.kind == "snapshot":
            if use_snapshot or ctx.take_snapshot is None:
                manifest = ctx.repo.load(ctx.repo.find(plan.source, use_snapshot or
                                                       plan.snapshot_id))
                detail = f"using snapshot {manifest.id}"
            else:
                after = plan.steps[index] if index < len(plan.steps) else None
                if after is not None and after.id == "prepare" and not journal.done(after.id):
                    reporter.step(index + 1, len(plan.steps), after, False)
                    alongside.add(after.id)
                    manifest = _snapshot_while_preparing(ctx, step, after, project, summary,
                                                         reporter, journal)
                    continue
                manifest = ctx.take_snapshot()
                detail = _snapshot_detail(manifest)
            journal.snapshot_id = manifest.id
        else:
            if manifest is None:
                manifest = ctx.repo.load(ctx.repo.find(plan.source, journal.snapshot_id
                                                       or plan.snapshot_id))
                journal.snapshot_id = manifest.id
            detail = _run_step(ctx, step, manifest, project, summary, reporter, journal)
        _ended(step, time.monotonic() - began, detail, summary, journal, reporter)
    summary.snapshot_id = journal.snapshot_id or plan.snapshot_id
    summary.seconds = time.monotonic() - started
    return summary


def _ended(step: Step, seconds: float, detail: str, summary: RunSummary, journal: Journal,
           reporter: RunReporter) -> None:
    summary.steps[step.id] = seconds
    journal.mark(step.id, seconds, detail=detail)
    reporter.step_done(step, seconds, detail)


def _snapshot_while_preparing(ctx: RunContext, snapshot: Step, prepare: Step, project: Path,
                              summary: RunSummary, reporter: RunReporter,
                              journal: Journal) -> SnapshotManifest:
    """Take the snapshot while the target installs its packages (neither needs the other):
    each step is journaled when it ends; the first failure is raised once both have ended."""
    assert ctx.take_snapshot is not None
    began = time.monotonic()
    stop = threading.Event()  # the snapshot failed: the packages stop too
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") as pool:
        preparing = pool.submit(_ansible_step, ctx, prepare, project, summary, reporter,
                                dict(FAST_PATH), stop.is_set)
        try:
            manifest = ctx.take_snapshot()
        except BaseException:
            stop.set()
            with contextlib.suppress(BaseException):  # the snapshot's error is the one raised
                detail = preparing.result()
                _ended(prepare, time.monotonic() - began, detail, summary, journal, reporter)
            raise
        journal.snapshot_id = manifest.id
        _ended(snapshot, time.monotonic() - began, _snapshot_detail(manifest), summary, journal,
               reporter)
        detail = preparing.result()
        _ended(prepare, time.monotonic() - began, detail, summary, journal, reporter)
    return manifest


def _snapshot_detail(manifest: SnapshotManifest) -> str:
    return f"snapshot {manifest.id}: {manifest.totals.seconds:.1f} s"


FAST_PATH: dict[str, object] = {"evacuate_restore_files": False,
                                 "evacuate_restore_databases": False}
"""The data steps stream files and dumps themselves: the playbook's own restore is off."""


def _playbook(ctx: RunContext, step: Step, project: Path, reporter: RunReporter,
              extravars: dict[str, object], cancel: Callable[[], bool] | None = None
              ) -> PlaybookOutcome:
    return run_playbook(project, ctx.folder / "runner", ident=f"{step.id}-{int(time.time())}",
                        tags=step.tags, extravars=extravars,
                        vault_password_file=ctx.vault_password_file, known_hosts=ctx.known_hosts,
                        identity=ctx.identity, on_task=reporter.task, cancel=cancel)


def _ansible_step(ctx: RunContext, step: Step, project: Path, summary: RunSummary,
                  reporter: RunReporter, extravars: dict[str, object],
                  cancel: Callable[[], bool] | None = None) -> str:
    outcome = _playbook(ctx, step, project, reporter, extravars, cancel)
    summary.playbooks[step.id] = outcome
    return f"ok={outcome.ok} changed={outcome.changed}"


def _run_step(ctx: RunContext, step: Step, manifest: SnapshotManifest, project: Path,
              summary: RunSummary, reporter: RunReporter, journal: Journal) -> str:
    if step.kind == "ansible" and step.id == "activate":
        extravars: dict[str, object] = dict(FAST_PATH)
        with ctx.connect_target() as target:
            files = set(target.run("systemctl list-unit-files --no-legend --no-pager | "
                                   "awk '{print $1}'", timeout=60, check=True).text.split())

            def exists(unit: str) -> bool:  # an instance exists when its template does
                name, at, rest = unit.partition("@")
                return unit in files or (bool(at) and f"{name}@.{rest.rsplit('.', 1)[-1]}" in files)

            running = [u for u in ctx.plan.services_started if exists(u)]
            if running:  # units already running (started by their packages) load the restored config
                target.run(["sh", "-c", 'systemctl daemon-reload; systemctl try-reload-or-restart '
                            '"$@"', "reload", *running], timeout=300, check=True)
        for key, units in (("evacuate_services_enabled", ctx.plan.services_enabled),
                           ("evacuate_services_started", ctx.plan.services_started)):
            extravars[key] = [u for u in units if exists(u)]
            for unit in units:
                if not exists(unit):
                    message = f"{unit} does not exist on the target: not enabled or started"
                    if message not in summary.warnings:
                        summary.warnings.append(message)
                        reporter.warning(message)
        return _ansible_step(ctx, step, project, summary, reporter, extravars)
    if step.kind == "ansible":
        return _ansible_step(ctx, step, project, summary, reporter, dict(FAST_PATH))
    if step.kind == "files":
        select = plan_selector(ctx.plan)
        # per tree (each may be its own file system on the target); /etc for config files
        needed = needed_by_root((e for e in manifest.files if select(e)),
                                (*ctx.plan.data_roots, "/etc"))
        with ctx.connect_target() as target:
            check_space(target, needed, "the files", label=ctx.plan.target)
            try:
                result = restore_tree(manifest, ctx.repo.blobs, target, "/", select=select,
                                      progress=reporter.advance)
            except EvacuateError as failed:
                raise explain_no_space(target, failed, needed, label=ctx.plan.target) from None
            removed = _mirror(target, manifest, ctx.plan.mirrored_dirs)
            if len(ctx.plan.postgresql_carry) == 2:  # across releases: 13's config into 15's
                for message in carry_postgresql(target, manifest, ctx.repo.blobs,
                                                *ctx.plan.postgresql_carry):
                    summary.warnings.append(message)
                    reporter.warning(message)
            target.run(["sh", "-c", STAMP_RESTORED], timeout=60, check=True)
        for skipped in result.skipped:
            reporter.warning(skipped)
        return (f"{result.files} files, {result.bytes >> 20} MiB"
                f"{'; removed ' + ', '.join(removed) if removed else ''}")
    if step.kind == "databases":
        owners = {d.name: d.owner for d in ctx.plan.databases if d.owner}
        # a run killed while a dump was loading left that database half restored
        interrupted = journal.steps.get(step.id, {}).get("restoring")

        def mark(database: str | None) -> None:
            journal.steps[step.id] = {"status": "running", "restoring": database}
            journal.save()

        with ctx.connect_target() as target:
            outcomes = restore_databases(target, ctx.repo.blobs, manifest, owners,
                                         reporter.advance, interrupted=interrupted, mark=mark)
        return "; ".join(f"{k}: {v}" for k, v in outcomes.items())
    if step.kind == "verify":
        if ctx.verify is None:
            return "no verifier"
        with ctx.connect_target() as target:
            ok, text, report = ctx.verify(manifest, target)
        summary.verify = report
        if not ok:
            raise VerifyFailed(f"verification of {ctx.plan.target} failed: {text}",
                               hint="see the report; fix and run 'evacuate run --resume'")
        return text
    raise EvacuateError(f"unknown step kind {step.kind!r}")


class VerifyFailed(EvacuateError):
    """The rebuilt target differs from the source."""


def _mirror(target: Transport, manifest: SnapshotManifest, dirs: tuple[str, ...]) -> list[str]:
    """Remove entries the packages created in mirrored directories (e.g. nginx's default
    site) that the source did not have."""
    removed = []
    for directory in dirs:
        wanted = {decode_path(e.path).rsplit(b"/", 1)[-1] for e in manifest.files
                  if e.path.startswith(directory + "/") and e.path.count("/") ==
                  directory.count("/") + 1}
        if not any(e.path == directory for e in manifest.files):
            continue
        listing = target.run(f"ls -A {shlex.quote(directory)} 2>/dev/null", timeout=60)
        for name in listing.stdout.split(b"\n"):
            if name and name not in wanted:
                path = f"{directory}/{name.decode('utf-8', 'surrogateescape')}"
                target.run(["rm", "-f", "--", path], timeout=60, check=True)
                removed.append(path)
    return removed


__all__ = ["RunContext", "RunReporter", "RunSummary", "TransportError", "VerifyFailed",
           "run_plan"]
