"""Run a fleet's waves: each wave's hosts at most ``concurrency`` at once, a host's failure
kept to that host (its result says so), and the next wave started only when every host of
the previous one ended ok, unless asked to go on.

The work for one host is a function given to :func:`run_waves` (the actions run the host's
own single-host plan or run), so the scheduling is the same for ``plan`` and ``run`` and can
be tested on its own; so is what follows a host's work once it ended ok (``then``: the
cutover of ``run --cutover``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from evacuate.errors import EvacuateError
from evacuate.fleet.board import FleetBoard, HostProgress
from evacuate.fleet.model import FleetHost, FleetResult, HostResult, HostStatus, Wave

log = logging.getLogger(__name__)

HostWork = Callable[[FleetHost, HostProgress], HostResult]
"""Move one host, telling its progress; return its result (an exception is its failure)."""

ThenWork = Callable[[FleetHost, HostProgress, HostResult], HostResult]
"""What follows a host's work that ended ok (its result given): return the host's result
(an exception is its failure)."""


def run_waves(command: str, waves: tuple[Wave, ...], work: HostWork, board: FleetBoard, *,
              continue_on_failure: bool = False, gated: bool = True,
              then: ThenWork | None = None) -> FleetResult:
    """Run ``work`` for every host, wave after wave, and ``then`` for each host whose work
    ended ok, right after it (in its thread: it does not wait for the others of its wave,
    and its failure is that host's only). ``gated``: a wave with a failed host keeps the
    later waves from starting (their hosts are skipped) unless ``continue_on_failure`` (a
    fleet plan, which changes nothing, is not gated).
    KeyboardInterrupt is not a host's failure: it stops the fleet — no other host starts;
    the hosts under way end their runs before the process exits (a second Ctrl-C ends it
    at once), and each journal keeps what was done."""
    results: list[HostResult] = []
    stopped_after: str | None = None
    for wave in waves:
        if stopped_after is not None:
            results += [_skipped(host, stopped_after, board.of(host)) for host in wave.hosts]
            continue
        pool = ThreadPoolExecutor(max_workers=max(1, min(wave.concurrency, len(wave.hosts))),
                                  thread_name_prefix=f"wave-{wave.name}")
        try:
            futures = [pool.submit(_one, work, host, board.of(host), then)
                       for host in wave.hosts]
            ended = [future.result() for future in futures]
        except BaseException:  # Ctrl-C: no other host starts
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        results += ended
        if gated and not continue_on_failure and \
                any(r.status is HostStatus.FAILED for r in ended):
            stopped_after = wave.name
    return FleetResult(command, tuple(w.name for w in waves), tuple(results), stopped_after)


def _one(work: HostWork, host: FleetHost, progress: HostProgress,
         then: ThenWork | None = None) -> HostResult:
    began = time.monotonic()
    progress.begin()
    try:
        result = work(host, progress)
        if then is not None and result.status is HostStatus.OK:
            result = then(host, progress, result)
    except EvacuateError as failed:
        result = _failed(host, progress, failed.message, began)
    except Exception as failed:  # a bug in one host's run must not hide the others' results
        log.debug("%s failed", host.name, exc_info=True)
        result = _failed(host, progress, f"internal error: {type(failed).__name__}: {failed}",
                         began)
    progress.end(str(result.status))
    return result


def _failed(host: FleetHost, progress: HostProgress, message: str, began: float) -> HostResult:
    return HostResult(host.name, host.target, host.wave, HostStatus.FAILED,
                      step=progress.step_name, error=" ".join(message.split()),
                      bytes=progress.moved, seconds=time.monotonic() - began)


def _skipped(host: FleetHost, wave: str, progress: HostProgress) -> HostResult:
    progress.end("skipped")
    return HostResult(host.name, host.target, host.wave, HostStatus.SKIPPED,
                      error=f"not run: wave '{wave}' had a failed host "
                            "(--continue-on-failure runs the next waves anyway)")
