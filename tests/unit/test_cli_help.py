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


@pytest.mark.parametrize("args", [
    ["restore", "--from-root", "{tmp}/nothing-here", "--to", "root@192.0.2.1"],
    ["snapshot", "doomed", "--root", "{tmp}"],  # a directory, but not a root filesystem
    ["restore", "--to", "root@192.0.2.1"],  # neither a host nor --from-root
    ["restore", "--from-root", "{tmp}", "--to", "root@192.0.2.1", "--resume"],
])
def test_a_bad_rescued_disk_is_one_line(args: list[str], capsys: pytest.CaptureFixture[str],
                                        tmp_path) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = run_cli([*argv, "--state-dir", str(tmp_path / "state"),
                    "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert not (tmp_path / "store").exists()  # refused before anything was made
