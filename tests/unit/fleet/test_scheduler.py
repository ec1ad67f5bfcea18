"""The fleet scheduler with an injected per-host function (no hosts): a wave's concurrency
is the most hosts at work at once, a host's failure stays its own, a failed wave keeps the
next ones from starting (their hosts skipped) unless --continue-on-failure, and a plan is
not gated."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from evacuate.errors import EvacuateError
from evacuate.fleet.board import FleetBoard, HostProgress
from evacuate.fleet.model import FleetHost, FleetResult, HostResult, HostStatus, Wave
from evacuate.fleet.scheduler import run_waves


def _wave(name: str, hosts: list[str], concurrency: int = 4) -> Wave:
    return Wave(name, tuple(FleetHost(h, f"new-{h}", name) for h in hosts), concurrency)


class Recorder:
    """A fake host run: records which hosts ran, fails the hosts in ``failing`` at step
    'files', raises a bug for those in ``buggy``."""

    def __init__(self, failing: frozenset[str] = frozenset(),
                 buggy: frozenset[str] = frozenset()) -> None:
        self.failing, self.buggy = failing, buggy
        self.lock = threading.Lock()
        self.ran: list[str] = []

    def __call__(self, host: FleetHost, progress: HostProgress) -> HostResult:
        with self.lock:
            self.ran.append(host.name)
        progress.step("files")
        progress.advance(1000)
        if host.name in self.failing:
            raise EvacuateError(f"restore on {host.target} failed:\nno space left")
        if host.name in self.buggy:
            raise KeyError("oops")
        progress.step("verify")
        return HostResult(host.name, host.target, host.wave, HostStatus.OK, "verify",
                          bytes=progress.moved)


def _run(waves: list[Wave], work: Callable[[FleetHost, HostProgress], HostResult], *,
         gated: bool = True, continue_on_failure: bool = False) -> FleetResult:
    return run_waves("run", tuple(waves), work, FleetBoard(tuple(waves)), gated=gated,
                     continue_on_failure=continue_on_failure)


def _statuses(result: FleetResult) -> dict[str, str]:
    return {r.host: str(r.status) for r in result.results}


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_no_more_hosts_than_the_waves_concurrency_are_at_work_at_once(concurrency: int) -> None:
    """Hosts hold until released: once ``concurrency`` are at work, no other starts (given
    half a second to); released, every host runs."""
    busy, ran = [0], []
    changed = threading.Condition()
    release = threading.Event()

    def work(host: FleetHost, progress: HostProgress) -> HostResult:
        with changed:
            busy[0] += 1
            ran.append(host.name)
            changed.notify_all()
        release.wait(30)
        with changed:
            busy[0] -= 1
        return HostResult(host.name, host.target, host.wave, HostStatus.OK)

    waves = [_wave("w", ["a", "b", "c", "d", "e"], concurrency)]
    results: list[FleetResult] = []
    fleet = threading.Thread(target=lambda: results.append(_run(waves, work)))
    fleet.start()
    try:
        with changed:
            assert changed.wait_for(lambda: busy[0] == concurrency, timeout=30)
            assert not changed.wait_for(lambda: busy[0] > concurrency, timeout=0.5), busy
    finally:
        release.set()
        fleet.join(60)
    assert results[0].ok and sorted(ran) == ["a", "b", "c", "d", "e"]


def test_a_failed_host_does_not_stop_the_others_of_its_wave() -> None:
    work = Recorder(failing=frozenset("b"), buggy=frozenset("c"))
    result = _run([_wave("w", ["a", "b", "c", "d"], 2)], work)
    assert _statuses(result) == {"a": "ok", "b": "failed", "c": "failed", "d": "ok"}
    failed = {r.host: r for r in result.of(HostStatus.FAILED)}
    assert (failed["b"].step, failed["b"].error, failed["b"].bytes) == (
        "files", "restore on new-b failed: no space left", 1000)
    assert failed["c"].error == "internal error: KeyError: 'oops'"
    assert not result.ok


def test_a_failed_wave_keeps_the_next_waves_from_starting() -> None:
    work = Recorder(failing=frozenset("b"))
    result = _run([_wave("one", ["a", "b"]), _wave("two", ["c"]), _wave("three", ["d"])], work)
    assert sorted(work.ran) == ["a", "b"]
    assert _statuses(result) == {"a": "ok", "b": "failed", "c": "skipped", "d": "skipped"}
    assert result.stopped_after == "one"
    skipped = result.of(HostStatus.SKIPPED)
    assert [(r.host, r.wave, r.step) for r in skipped] == [("c", "two", ""), ("d", "three", "")]
    assert "wave 'one' had a failed host" in skipped[0].error
    document = result.to_json()
    assert document["ok"] is False and document["stopped_after"] == "one"
    assert document["counts"] == {"ok": 1, "failed": 1, "skipped": 2}
    assert [h["status"] for h in document["hosts"]] == ["ok", "failed", "skipped", "skipped"]


def test_the_next_wave_starts_only_after_the_previous_one_ended() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def work(host: FleetHost, progress: HostProgress) -> HostResult:
        with lock:
            order.append(f"start {host.name}")
        threading.Event().wait(0.05 if host.name == "a" else 0)
        with lock:
            order.append(f"end {host.name}")
        return HostResult(host.name, host.target, host.wave, HostStatus.OK)

    _run([_wave("one", ["a", "b"]), _wave("two", ["c"])], work)
    assert order.index("start c") > max(order.index("end a"), order.index("end b"))


def test_continue_on_failure_runs_the_next_waves() -> None:
    work = Recorder(failing=frozenset("b"))
    result = _run([_wave("one", ["a", "b"]), _wave("two", ["c"])], work,
                  continue_on_failure=True)
    assert _statuses(result) == {"a": "ok", "b": "failed", "c": "ok"}
    assert result.stopped_after is None


def test_a_plan_is_not_gated() -> None:
    work = Recorder(failing=frozenset("a"))
    result = _run([_wave("one", ["a"]), _wave("two", ["c"])], work, gated=False)
    assert _statuses(result) == {"a": "failed", "c": "ok"}


def test_an_interrupt_stops_the_fleet_and_no_other_host_starts() -> None:
    started: list[str] = []
    another = threading.Event()

    def work(host: FleetHost, progress: HostProgress) -> HostResult:
        started.append(host.name)
        if host.name != "a":
            another.set()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run([_wave("one", ["a", "b", "c"], 1), _wave("two", ["d"])], work)
    assert not another.wait(0.5), started  # given half a second to, no other host started
    assert started == ["a"]


def test_the_board_shows_each_hosts_step_bytes_and_eta() -> None:
    waves = (_wave("one", ["a", "b"]),)
    seen: list[tuple[str, str, str]] = []
    board = FleetBoard(waves, lambda line: seen.append((line.host, line.state, line.step)))
    progress = board.of(waves[0].hosts[0])
    progress.begin(expected=4000)
    progress.step("files")
    progress.step("files")  # the same step again: no new line
    progress.advance(1000)
    line = board.lines()[0]
    assert (line.state, line.step, line.bytes, line.expected) == ("running", "files", 1000, 4000)
    assert line.eta is not None and line.eta > 0
    assert board.lines()[1].state == "waiting"
    progress.end("ok")
    assert board.lines()[0].eta is None
    assert seen == [("a", "running", ""), ("a", "running", "files"), ("a", "ok", "files")]


class CutoverRecorder:
    """A fake cutover (``run --cutover``'s ``then``): records which hosts it ran for and
    the status their run had; fails the hosts in ``failing`` at its step."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.lock = threading.Lock()
        self.after: list[tuple[str, str]] = []

    def __call__(self, host: FleetHost, progress: HostProgress, ran: HostResult) -> HostResult:
        with self.lock:
            self.after.append((host.name, str(ran.status)))
        progress.step("cutover")
        if host.name in self.failing:
            raise EvacuateError(f"the target failed verification after the cutover; "
                                f"{host.name}'s services are stopped")
        return HostResult(host.name, host.target, host.wave, HostStatus.OK, "cutover",
                          bytes=ran.bytes, cut_over=True)


def test_each_host_cuts_over_only_after_its_own_run_verified() -> None:
    """The host whose run failed does not cut over; the others of its wave do."""
    work, cut = Recorder(failing=frozenset("b")), CutoverRecorder()
    result = run_waves("run", (_wave("w", ["a", "b", "c"]),), work,
                       FleetBoard((_wave("w", ["a", "b", "c"]),)), then=cut)
    assert sorted(cut.after) == [("a", "ok"), ("c", "ok")]
    assert {r.host: (str(r.status), r.step, r.cut_over) for r in result.results} == {
        "a": ("ok", "cutover", True), "b": ("failed", "files", False),
        "c": ("ok", "cutover", True)}
    assert result.to_json()["cut_over"] == ["a", "c"]


def test_a_failed_cutover_is_its_hosts_failure_only_and_gates_the_next_wave() -> None:
    waves = [_wave("first", ["a", "b", "c"]), _wave("second", ["d"])]
    work, cut = Recorder(), CutoverRecorder(failing=frozenset("b"))
    result = run_waves("run", tuple(waves), work, FleetBoard(tuple(waves)), then=cut)
    hosts = {r.host: r for r in result.results}
    assert (str(hosts["b"].status), hosts["b"].step, hosts["b"].cut_over) == (
        "failed", "cutover", False)
    assert "failed verification after the cutover" in hosts["b"].error
    assert hosts["a"].cut_over and hosts["c"].cut_over  # its wave partners cut over all the same
    assert (str(hosts["d"].status), result.stopped_after) == ("skipped", "first")
    assert sorted(h for h, _ in cut.after) == ["a", "b", "c"]
    # --continue-on-failure: the next wave runs and cuts over too
    cut = CutoverRecorder(failing=frozenset("b"))
    result = run_waves("run", tuple(waves), Recorder(), FleetBoard(tuple(waves)), then=cut,
                       continue_on_failure=True)
    assert result.to_json()["cut_over"] == ["a", "c", "d"]


def test_without_then_no_host_is_cut_over() -> None:
    result = _run([_wave("w", ["a", "b"])], Recorder())
    assert result.to_json()["cut_over"] == [] and result.to_json()["fleet_limit"] is None
