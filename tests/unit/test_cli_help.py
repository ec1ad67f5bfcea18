"""Every verb answers --help (exit 0), and bad input is one line with a non-zero exit."""

from __future__ import annotations

import pytest

from evacuate.cli.app import run_cli

VERBS = ["inventory", "snapshot", "snapshots", "check", "forget", "plan", "run", "export",
         "revert", "verify", "restore", "rehearse", "status", "schedule", "init", "config",
         "config check", "lab", "lab up", "lab down", "lab status", "lab reset", "lab images"]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([*verb.split(), "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_unknown_verb_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["evaporate"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "evaporate" in err


def test_a_bad_host_spec_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code = run_cli(["inventory", "root@host:99999", "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
