"""``evacuate plan`` and ``evacuate run`` for a fleet (--all, --wave NAME, or several hosts):
a live view of every host while it moves, then the per-host result table (or JSON)."""

from __future__ import annotations

import typer

from evacuate.actions.fleet import FleetContext, plan_fleet, run_fleet
from evacuate.cli import console
from evacuate.cli.common import Context
from evacuate.errors import ExitCode
from evacuate.fleet.board import FleetBoard, HostLine
from evacuate.fleet.model import FleetResult, HostStatus, Wave, select_waves
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.transport.throttle import RateLimit

AllOpt = typer.Option(False, "--all", help="Every host of evacuate.yml, wave after wave.")
WaveOpt = typer.Option(None, "--wave", metavar="NAME", help="The hosts of this wave of "
                                                            "evacuate.yml only.")


def chosen_waves(ctx: Context, everything: bool, wave: str | None,
                 names: list[str]) -> tuple[Wave, ...]:
    return select_waves(ctx.config, everything=everything, wave=wave, names=tuple(names))


def _eta(line: HostLine) -> str:
    if line.eta is None:
        return ""
    minutes, seconds = divmod(round(line.eta), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _moved(line: HostLine) -> str:
    moved = console.human_size(line.bytes)
    return f"{moved} of ~{console.human_size(line.expected)}" if line.expected else moved


def _view_rows(board: FleetBoard) -> list[tuple[str, ...]]:
    return [(line.host, line.target, line.wave, line.state, line.step, _moved(line),
             _eta(line)) for line in board.lines()]


def move(ctx: Context, repo: SnapshotRepository, waves: tuple[Wave, ...], command: str, *,
         store: str | None = None, continue_on_failure: bool = False,
         as_json: bool = False, cutover: bool = False) -> None:
    """Plan or run ``waves`` with a live view (``cutover``: each host cuts over after its
    run verified); print the results; exit 1 when a host failed (or was skipped for an
    earlier failure)."""
    def changed(line: HostLine) -> None:  # away from a terminal: one plain line per change
        if not view.live:
            step = f": {line.step}" if line.step and line.state == "running" else ""
            console.info_line(f"{line.host} ({line.wave}): {line.state}{step}")

    board = FleetBoard(waves, changed)
    fleet = FleetContext(ctx.config, ctx.state, repo, ctx.connect, ctx.host, store)
    hosts = sum(len(w.hosts) for w in waves)
    console.info_line(f"{command} of {hosts} host(s) in {len(waves)} wave(s): "
                      + "; ".join(f"{w.name} ({len(w.hosts)}, {w.concurrency} at once)"
                                  for w in waves))
    view = console.LiveTable(f"evacuate {command}", ("host", "target", "wave", "state", "step",
                                                     "moved", "ETA"), lambda: _view_rows(board))
    with view:
        if command == "plan":
            result = plan_fleet(waves, fleet, board,
                                say=lambda m: None if as_json else console.info_line(m))
        else:
            result = run_fleet(waves, fleet, board, continue_on_failure=continue_on_failure,
                               cutover=cutover, warn=console.warning_line)
    if as_json:
        console.print_json(result.to_json())
    else:
        render_result(result)
    if not result.ok:
        raise typer.Exit(int(ExitCode.FAILURE))


def render_result(result: FleetResult) -> None:
    marks = {HostStatus.OK: "[green]ok[/]", HostStatus.FAILED: "[bold red]failed[/]",
             HostStatus.SKIPPED: "[yellow]skipped[/]"}
    console.out().print(console.table(f"evacuate {result.command}: each host", (
        "host", "target", "wave", "status", "step", "moved", "time", "what"), [
        (r.host, r.target, r.wave, console.markup(marks[r.status]), r.step,
         console.human_size(r.bytes), f"{r.seconds:.1f} s", r.error or r.detail)
        for r in result.results]))
    counts = ", ".join(f"{len(result.of(s))} {s}" for s in HostStatus if result.of(s))
    stopped = (f"; wave {result.stopped_after} had a failure, the later waves did not start"
               if result.stopped_after else "")
    cut = [r.host for r in result.results if r.cut_over]
    cut_line = f"; cut over: {', '.join(cut)}" if cut else ""
    console.out().print(console.escape(f"{result.command}: {counts}{stopped}{cut_line}"))
    if result.fleet_limit is not None:
        use = result.fleet_limit
        hosts = ", ".join(f"{host} {console.human_size(n)}" for host, n in use.by_host.items())
        console.out().print(console.escape(
            f"fleet limit {RateLimit(use.bytes_per_second)}: "
            f"{console.human_size(use.charged)} charged ({hosts or 'nothing'})"))
