"""The run's data steps (files, databases, containers): each streams from the store into
the target here (evacuate.rebuild.data), or runs as a data.yml job on the execution node
(with an S3 store); the files step also stages its archive on the target while the
packages install (``stage_files_ahead``, the step's StepHandler.ahead)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from evacuate.ansible.runner import run_playbook
from evacuate.errors import EvacuateError
from evacuate.plan.model import Step, StepKind
from evacuate.rebuild.data import (
    DataOutcome,
    restore_containers,
    restore_dumps,
    restore_files,
    stage_files,
)
from evacuate.rebuild.datajob import PLAYBOOK, job_vars, vault_vars
from evacuate.snapshot.restore import StagedTree
from evacuate.transport.base import Transport
from evacuate.transport.spec import parse_host_spec

if TYPE_CHECKING:
    from evacuate.rebuild.run import RunContext, StepRun


def files_step(run: StepRun, step: Step, _index: int) -> str:
    ctx = run.ctx
    if on_node(ctx):
        return _data_job(run, step)
    staged = run.ahead.pop(step.id, None)
    staged = staged if isinstance(staged, StagedTree) else None
    with ctx.connect_target() as target:
        outcome = restore_files(ctx.plan, run.snapshot(), ctx.repo.blobs, target,
                                progress=run.reporter.advance, staged=staged)
    if staged is not None:
        outcome.detail += f" (streamed beside the packages in {staged.seconds:.1f} s)"
    return _data_done(run, outcome)


def stage_files_ahead(run: StepRun, _step: Step, stop: Callable[[], bool]) -> StagedTree | None:
    """The files step's archive streamed onto the target while the packages install (not
    with an execution node: its data steps read the store there)."""
    ctx = run.ctx
    if on_node(ctx):
        return None
    with ctx.connect_target() as target:
        return stage_files(ctx.plan, run.snapshot(), ctx.repo.blobs, target, stop)


def on_node(ctx: RunContext) -> bool:
    """The data steps run on the execution node: there is one, and the store is shared (S3)."""
    return ctx.node is not None and ctx.store is not None


def _data_job(run: StepRun, step: Step) -> str:
    """A data step as an Ansible job on the node (data.yml, its step's tag): the
    evacuate.migrate modules read the store there and write into the target themselves."""
    ctx = run.ctx
    assert ctx.store is not None
    interrupted = (run.journal.restoring(step.id)
                   if step.kind in (StepKind.DATABASES, StepKind.CONTAINERS) else None)
    outcome = run_playbook(run.project, ctx.folder / "runner",
                           ident=f"{step.id}-{int(time.time())}", tags=(step.kind.value,),
                           extravars=job_vars(ctx.store, run.snapshot().id,
                                              interrupted=interrupted),
                           vault_password_file=ctx.vault_password_file,
                           known_hosts=ctx.known_hosts, identity=ctx.identity,
                           on_task=run.reporter.task, cancel=run.cancel, node=ctx.node,
                           reaches=(parse_host_spec(ctx.plan.target_spec),),
                           playbook=PLAYBOOK, vault_vars=vault_vars(ctx.store))
    run.summary.playbooks[step.id] = outcome
    if not outcome.details:
        raise EvacuateError(f"the {step.id} step on {ctx.node.label if ctx.node else '?'} "
                            f"ran no evacuate.migrate module (ok={outcome.ok})")
    warned = list(outcome.warnings)  # shown, and kept in the summary as a local step keeps them
    return _data_done(run, DataOutcome("; ".join(outcome.details), warned, list(warned)))


def _data_done(run: StepRun, outcome: DataOutcome) -> str:
    run.summary.warnings.extend(outcome.kept)
    for message in outcome.warnings:
        run.reporter.warning(message)
    return outcome.detail


def _load_dumps(run: StepRun, step: Step, target: Transport, *, containers: bool) -> DataOutcome:
    """Restore the snapshot's dumps (those of servers in containers, or the host's own)
    with the plan's owners; the journal records each database as it loads, so a run killed
    while a dump was loading drops that half restored database when it resumes."""
    ctx = run.ctx

    def mark(database: str | None) -> None:
        run.journal.progress(step.id, database)

    return restore_dumps(ctx.plan, run.snapshot(), ctx.repo.blobs, target,
                         progress=run.reporter.advance, interrupted=run.journal.restoring(step.id),
                         mark=mark, containers=containers)


def databases_step(run: StepRun, step: Step, _index: int) -> str:
    if on_node(run.ctx):
        return _data_job(run, step)
    with run.ctx.connect_target() as target:
        outcome = _load_dumps(run, step, target, containers=False)
    return _data_done(run, outcome)


def containers_step(run: StepRun, step: Step, _index: int) -> str:
    ctx = run.ctx
    if on_node(ctx):
        return _data_job(run, step)
    with ctx.connect_target() as target:
        outcome = restore_containers(ctx.plan, run.snapshot(), ctx.repo.blobs, target,
                                     progress=run.reporter.advance,
                                     interrupted=run.journal.restoring(step.id),
                                     mark=lambda database: run.journal.progress(step.id,
                                                                                database))
    return _data_done(run, outcome)
