"""Names print as they are: never as rich markup or emoji, and on one line (control
characters escaped); tables become one plain line per record away from a terminal."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.cli import console
from evacuate.cli.app import run_cli
from evacuate.cli.plan_cmds import render_plan
from evacuate.cli.verify_render import render_report
from evacuate.plan.model import DatabasePlan
from evacuate.plan.persist import plan_from_json
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.verify.model import Check, Status, VerifyReport, not_verified

PLAN_FIXTURE = Path(__file__).parents[1] / "fixtures" / "plan" / "doomed.json"
NAMES = (":ledger:", "[bold]shop[/]", "a\nb", "tab\there", "esc\x1b[31mred")
SHOWN = (":ledger:", "[bold]shop[/]", "a\\nb", "tab\\there", "esc\\x1b[31mred")


def _assert_literal(text: str) -> None:
    assert "📒" not in text and "\x1b[31m" not in text
    for shown in SHOWN:
        assert shown in text, f"{shown!r} not in {text!r}"


@pytest.mark.parametrize("terminal", [False, True], ids=["log", "terminal"])
def test_table_cells_and_titles_are_literal(terminal: bool) -> None:
    buffer = io.StringIO()
    out = console.make_console(buffer, force_terminal=terminal, width=200)
    out.print(console.table(f"databases of {NAMES[0]}", ("engine", "name"),
                            [("postgresql", name) for name in NAMES]))
    text = buffer.getvalue()
    _assert_literal(text)
    if not terminal:  # one record per line, tab-separated: title, header, records
        assert text.splitlines() == [f"databases of {NAMES[0]}", "engine\tname",
                                     *(f"postgresql\t{s}" for s in SHOWN)]


def test_a_wide_table_is_not_wrapped_in_a_log() -> None:
    buffer = io.StringIO()
    out = console.make_console(buffer)  # not a terminal: rich would assume 80 columns
    row = ("x" * 70, "y" * 70, "z" * 70)
    out.print(console.table("wide", ("a", "b", "c"), [row]))
    out.print("w " * 100)
    lines = buffer.getvalue().splitlines()
    assert lines[2] == "\t".join(row) and lines[3].rstrip() == ("w " * 100).rstrip()
    assert len(lines) == 4


def test_message_lines_print_names_literally(capsys: pytest.CaptureFixture[str]) -> None:
    for name in NAMES:
        console.info_line(f"      databases done in 1.0 s: postgresql{name} restored")
        console.warning_line(f"{name}: skipped")
        console.error_line(f"no plan {name}", hint=f"try {name}")
    err = capsys.readouterr().err
    _assert_literal(err)
    assert "postgresql:ledger: restored" in err
    assert len(err.splitlines()) == 4 * len(NAMES)  # each message on its line


def test_a_plan_prints_its_names_literally(capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_from_json(json.loads(PLAN_FIXTURE.read_text()))
    # the source in the plan's first line (a message, not a table cell): ':ledger:' there
    # shows whether the stdout console has emoji off
    plan = replace(plan, source=f"{NAMES[0]} {NAMES[1]}", target=NAMES[2], databases=tuple(
        DatabasePlan("postgresql", name, 1, 1) for name in NAMES))
    render_plan(plan, Path("/srv/plans") / NAMES[4])
    _assert_literal(capsys.readouterr().out)


def test_a_verify_report_prints_its_names_literally() -> None:
    buffer = io.StringIO()
    report = VerifyReport(source=NAMES[0], target=NAMES[1], snapshot="s", started="",
                          duration=1.0, checks=(
                              *(Check("databases", f"postgresql {name}", Status.FAIL,
                                      expected=name, found="-", detail=name) for name in NAMES),
                              # a line of its own (a message, not a cell): emoji off there too
                              not_verified("files", NAMES[0], NAMES[0])))
    render_report(report, out=console.make_console(buffer, force_terminal=True, width=400))
    _assert_literal(buffer.getvalue())


def test_the_snapshot_listing_prints_host_names_literally(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state, store = StateDir(tmp_path / "state"), tmp_path / " ".join(NAMES)  # in the title
    repo = open_repository(None, state, str(store), create=True)
    for host in ("doomed", "web-1"):
        repo.commit(SnapshotManifest(
            id="20261202T115500Z-0a0b", host=host, created="", tool_version="t",
            roots=(), excludes=(), files=(), dumps=(), inventory={}, totals=Totals()))
    assert run_cli(["snapshots", "--store", str(store), "--state-dir", str(state.root)]) == 0
    out = capsys.readouterr().out
    _assert_literal(out)
    assert len(out.splitlines()) == 4  # title, header, one line per snapshot


@pytest.mark.parametrize("raised, code, said", [
    (EOFError("a stream ended early"), 70, "internal error: EOFError: a stream ended early"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_only_a_real_interrupt_is_said_to_be_one(
        raised: BaseException, code: int, said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # click turns an EOFError (paramiko raises one for a connection that ends) into the same
    # Abort as ^C: the user must see what failed, not "interrupted"
    def fail(*_args: object) -> None:
        raise raised

    monkeypatch.chdir(tmp_path)  # the traceback goes to the debug log of a state here
    monkeypatch.setattr("evacuate.cli.snapshot_cmds.open_repository", fail)
    exit_code = run_cli(["snapshots", "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert exit_code == code
    assert f"error: {said}" in err and "Traceback" not in err
