"""The fleet view's rows (host, target, wave, state, steps under way, bytes of the expected,
ETA) and the live table drawn from them on a terminal; the result's last lines (the hosts
cut over, the fleet limit's use)."""

from __future__ import annotations

import io

import pytest

from evacuate.cli import console
from evacuate.cli.fleet_cmds import _view_rows, render_result
from evacuate.fleet.board import FleetBoard
from evacuate.fleet.model import FleetHost, FleetResult, HostResult, HostStatus, LimitUse, Wave


def test_the_view_shows_each_hosts_steps_bytes_and_eta() -> None:
    waves = (Wave("first", (FleetHost("web1", "new1", "first"), FleetHost("web2", "new2",
                                                                           "first"))),)
    board = FleetBoard(waves)
    progress = board.of(waves[0].hosts[0])
    progress.begin(expected=4 << 20)
    progress.step("snapshot", "prepare")
    progress.advance(1 << 20)
    rows = _view_rows(board)
    assert rows[0][:6] == ("web1", "new1", "first", "running", "snapshot, prepare",
                           "1.0 MiB of ~4.0 MiB")
    assert rows[0][6].endswith(" s")
    assert rows[1] == ("web2", "new2", "first", "waiting", "", "0 B", "")
    view = console.LiveTable("evacuate run", ("host", "target", "wave", "state", "step",
                                              "moved", "ETA"), lambda: rows)
    drawn = io.StringIO()
    console.make_console(file=drawn, force_terminal=True, width=140).print(view._render())
    assert "web1" in drawn.getvalue() and "snapshot, prepare" in drawn.getvalue()


def test_the_result_names_the_hosts_cut_over_and_the_fleet_limits_use(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = FleetResult("run", ("first",), (
        HostResult("web1", "new1", "first", HostStatus.OK, "cutover", bytes=3 << 20,
                   detail="verified; cut over: downtime 2.0 s", cut_over=True),
        HostResult("web2", "new2", "first", HostStatus.FAILED, "cutover",
                   error="hook before_cutover[0] failed")),
        fleet_limit=LimitUse(50 << 20, 7 << 20, {"web1": 4 << 20, "web2": 3 << 20}))
    render_result(result)
    printed = " ".join(capsys.readouterr().out.split())
    assert "run: 1 ok, 1 failed; cut over: web1" in printed
    assert "fleet limit 50M/s: 7.0 MiB charged (web1 4.0 MiB, web2 3.0 MiB)" in printed
    document = result.to_json()
    assert document["cut_over"] == ["web1"]
    assert document["fleet_limit"] == {"bytes_per_second": 50 << 20, "charged_bytes": 7 << 20,
                                       "by_host": {"web1": 4 << 20, "web2": 3 << 20}}
