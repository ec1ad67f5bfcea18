"""The fleet view's rows (host, target, wave, state, steps under way, bytes of the expected,
ETA) and the live table drawn from them on a terminal."""

from __future__ import annotations

import io

from evacuate.cli import console
from evacuate.cli.fleet_cmds import _view_rows
from evacuate.fleet.board import FleetBoard
from evacuate.fleet.model import FleetHost, Wave


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
