"""Action: plan or run a fleet — many sources in evacuate.yml's waves, each host by its own
single-host plan and run (its own folder and journal under ``plans/<host>-to-<target>/``),
so a killed fleet run resumes every host from its own journal and a host whose journal says
it was done and verified is not run again. A run with a failed host notifies
(``notify.urls``). ``run --cutover``: each host cuts over (the single-host cutover,
:func:`~evacuate.actions.run.cut_over`) right after its own run verified. A fleet-wide
bandwidth limit (``fleet_limit_rate``) is one bucket every host's transports are charged on,
each host's bytes counted by its name."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from evacuate.actions.notify import notify_failure
from evacuate.actions.plan import load_plan, make_plan
from evacuate.actions.run import Resolve, RunRequest, cut_over, plan_source, run_as_asked
from evacuate.ansible.vault import ensure_vault_password
from evacuate.config import Config
from evacuate.errors import EvacuateError, UsageError
from evacuate.fleet.board import FleetBoard, HostProgress
from evacuate.fleet.model import FleetHost, FleetResult, HostResult, HostStatus, LimitUse, Wave
from evacuate.fleet.scheduler import run_waves
from evacuate.hostref import ConnectOptions
from evacuate.plan.awx import AwxWave, awx_layout
from evacuate.plan.model import Step
from evacuate.rebuild.datajob import store_access
from evacuate.rebuild.journal import Journal, StepStatus
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir, write_json, write_private
from evacuate.yamlio import dump_block

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetContext:
    """What every host's plan or run of a fleet shares."""

    config: Config | None
    state: StateDir
    repo: SnapshotRepository
    options: ConnectOptions
    resolve: Resolve
    store: str | None = None  # the --store URL given (for the projects' README commands)

    def options_for(self, host: FleetHost) -> ConnectOptions:
        """The connection options of ``host``'s plan or run: its bytes on the fleet-wide
        limit (when there is one) are counted as its own."""
        return self.options.for_host(host.name)


def fleet_plan_name(host: FleetHost) -> str:
    """The name of ``host``'s plan (the plan builder's ``SOURCE-to-TARGET``: config names
    are already safe as file names)."""
    return f"{host.name}-to-{host.target}"


class _HostReporter:
    """A host's run reporter and snapshot progress: its step and bytes on the fleet board."""

    def __init__(self, progress: HostProgress) -> None:
        self.progress = progress
        self.warnings: list[str] = []
        self.under_way: list[str] = []

    def step(self, index: int, total: int, step: Step, skipped: bool) -> None:
        if not skipped:
            self.under_way.append(step.id)
            self.progress.step(*self.under_way)

    def step_done(self, step: Step, seconds: float, detail: str) -> None:
        if step.id in self.under_way:
            self.under_way.remove(step.id)

    def task(self, name: str, host: str) -> None:
        pass

    def phase(self, name: str) -> None:  # the snapshot's: its bytes count, its phases not
        pass

    def advance(self, count: int) -> None:
        self.progress.advance(count)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def plan_fleet(waves: tuple[Wave, ...], fleet: FleetContext, board: FleetBoard, *,
               say: Callable[[str], None] = lambda _m: None) -> FleetResult:
    """Plan every host onto its target (a snapshot is taken where there is none). Plans
    change nothing, so a failed plan does not keep the next waves from being planned.
    With an S3 store the fleet's AWX layout is written too (``say`` is told where)."""
    _shared_keys(fleet.state)
    at_once = {w.name: max(1, min(w.concurrency, len(w.hosts))) for w in waves}

    def work(host: FleetHost, progress: HostProgress) -> HostResult:
        began = time.monotonic()
        progress.step("plan")
        plan, project = make_plan(fleet.resolve(host.name), fleet.resolve(host.target),
                                  fleet.repo, fleet.options_for(host), fleet.state,
                                  fleet.config, progress=_HostReporter(progress),
                                  store=fleet.store, concurrency=at_once[host.wave])
        blockers = sum(w.severity == "blocker" for w in plan.warnings)
        return HostResult(host.name, host.target, host.wave, HostStatus.OK, "plan",
                          bytes=progress.moved, seconds=time.monotonic() - began,
                          detail=f"plan {plan.name}: {len(plan.warnings)} warning(s)"
                                 + (f", {blockers} blocker(s)" if blockers else "")
                                 + f"; project {project}")

    result = _recorded(fleet, run_waves("plan", waves, work, board, gated=False))
    layout = write_awx_layout(waves, fleet, result)
    if layout is not None:
        say(f"the fleet's AWX layout (awx.awx playbook): {layout}")
    return result


AWX_LAYOUT = "awx.yml"
"""The fleet's AWX layout, in the state directory's fleet/ (see evacuate.plan.awx)."""


def write_awx_layout(waves: tuple[Wave, ...], fleet: FleetContext,
                     result: FleetResult) -> Path | None:
    """Write the AWX layout of the hosts planned (None: the store is not S3, which the
    data steps on AWX's execution nodes need)."""
    store = store_access(fleet.config, fleet.state, fleet.store)
    if store is None:
        return None
    planned = {r.host for r in result.results if r.status is HostStatus.OK}
    awx_waves = [AwxWave(wave.name, tuple(
        load_plan(fleet.state, fleet_plan_name(host))[0]
        for host in wave.hosts if host.name in planned)) for wave in waves]
    document = "# Generated by evacuate plan: the fleet in AWX (README, 'A fleet from AWX')\n" \
        "# ansible-playbook awx.yml -e evacuate_ee_image=IMAGE (awx.awx installed, " \
        "CONTROLLER_HOST and CONTROLLER_OAUTH_TOKEN set)\n" + \
        dump_block(awx_layout([w for w in awx_waves if w.plans], store))
    return write_private(fleet.state.sub("fleet") / AWX_LAYOUT, document)


def run_fleet(waves: tuple[Wave, ...], fleet: FleetContext, board: FleetBoard, *,
              continue_on_failure: bool = False, cutover: bool = False,
              warn: Callable[[str], None] = lambda _m: None) -> FleetResult:
    """Run every host's saved plan (``plan`` first), resuming from its journal; a host
    whose journal says it was done and verified is not run again. With ``cutover`` each
    host whose run verified (now or before) cuts over then, unless its journal says it was
    cut over already; a failed cutover is that host's failure. The next wave starts only
    when every host of this one verified (and cut over), unless ``continue_on_failure``.
    Failed hosts are notified through ``notify.urls``."""
    _shared_keys(fleet.state)

    def work(host: FleetHost, progress: HostProgress) -> HostResult:
        began = time.monotonic()
        progress.step("plan")
        name = fleet_plan_name(host)
        if not (fleet.state.root / "plans" / name / "plan.json").exists():
            raise UsageError(f"no plan {name} yet: run 'evacuate plan {host.name}' first")
        plan, folder = load_plan(fleet.state, name)
        if done_before(folder, plan.name):
            return HostResult(host.name, host.target, host.wave, HostStatus.OK, "verify",
                              detail="done and verified before (its journal): not run again",
                              done_before=True)
        progress.expect(plan.estimate.transfer_bytes)
        reporter = _HostReporter(progress)
        try:
            outcome = run_as_asked(plan, folder, fleet.repo, fleet.resolve,
                                   fleet.options_for(host), fleet.state, fleet.config, reporter,
                                   RunRequest(resume=True, store=fleet.store),
                                   snapshot_progress=reporter)
        except EvacuateError:
            stopped = failed_step(folder, plan.name)  # a hook's, after the steps too
            if stopped:
                progress.step(stopped)
            raise
        summary = outcome.summary
        return HostResult(host.name, host.target, host.wave, HostStatus.OK, "verify",
                          bytes=progress.moved, seconds=time.monotonic() - began,
                          detail=f"verified; snapshot {summary.snapshot_id}"
                                 + (f"; {len(reporter.warnings)} warning(s)"
                                    if reporter.warnings else ""))

    def then(host: FleetHost, progress: HostProgress, ran: HostResult) -> HostResult:
        return cut_over_host(fleet, host, progress, ran)

    result = run_waves("run", waves, work, board, continue_on_failure=continue_on_failure,
                       then=then if cutover else None)
    failed = result.of(HostStatus.FAILED)
    if failed:
        skipped = len(result.of(HostStatus.SKIPPED))
        notify_failure(fleet.config, "run", f"{len(failed)} of {len(result.results)} hosts",
                       "\n".join(f"{r.host} → {r.target} (wave {r.wave}): failed at "
                                 f"{r.step or 'start'}: {r.error}" for r in failed)
                       + (f"\n{skipped} host(s) of later waves not run." if skipped else ""),
                       warn)
    return _recorded(fleet, result)


def cut_over_host(fleet: FleetContext, host: FleetHost, progress: HostProgress,
                  ran: HostResult) -> HostResult:
    """Cut ``host`` over after its run verified (``ran``): the single-host cutover, unless
    its journal says it was cut over before. Raise (its failure) when it does not verify."""
    began = time.monotonic()
    progress.step("cutover")
    plan, folder = load_plan(fleet.state, fleet_plan_name(host))
    journal = Journal.read(folder / "journal.json", plan.name)
    if journal is not None and journal.done("cutover"):
        return replace(ran, step="cutover", cut_over=True,
                       detail=f"{ran.detail}; cut over before (its journal): not again")
    source = plan_source(plan, fleet.resolve)
    if source is None:
        raise UsageError(f"plan {plan.name} was made from a rescued disk: no source to cut over")
    result, dns = cut_over(plan, folder, fleet.repo, source, fleet.resolve(plan.target_spec),
                           fleet.options_for(host), fleet.state, fleet.config,
                           lambda message: log.info("%s: cutover: %s", host.name, message))
    switched = f", DNS switched ({len(dns.changes)} record sets)" if dns else ""
    return replace(ran, step="cutover", cut_over=True, bytes=progress.moved,
                   seconds=ran.seconds + time.monotonic() - began,
                   detail=f"{ran.detail}; cut over: downtime {result.downtime_seconds:.1f} s"
                          f"{switched}")


def done_before(folder: Path, plan: str) -> bool:
    """The plan's journal says its run ended verified (and no after_run hook failed since)."""
    journal = Journal.read(folder / "journal.json", plan)
    return journal is not None and journal.done("verify") and \
        not journal.failed_entry("after_run")


def failed_step(folder: Path, plan: str) -> str | None:
    """The step (or hook event, e.g. after_run) the plan's journal records as failed."""
    journal = Journal.read(folder / "journal.json", plan)
    if journal is None:
        return None
    return next((step for step, entry in journal.steps.items()
                 if entry.status is StepStatus.FAILED), None)


def _shared_keys(state: StateDir) -> None:
    """Hosts run side by side: the vault password every plan uses is made once, first."""
    ensure_vault_password(state.root / "keys" / "vault-pass")


def _recorded(fleet: FleetContext, result: FleetResult) -> FleetResult:
    """The result, with the fleet-wide limit's use, is kept as ``fleet/<command>-latest.json``
    in the state directory."""
    shared = fleet.options.fleet_limit
    if shared is not None:
        result = replace(result, fleet_limit=LimitUse(
            shared.limit.rate.bytes_per_second, shared.limit.bucket.taken,
            shared.limit.by_host()))
    write_json(fleet.state.sub("fleet") / f"{result.command}-latest.json", result.to_json())
    return result
