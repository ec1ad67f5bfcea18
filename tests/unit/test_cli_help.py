"""Every verb answers --help (exit 0), and bad input is one line with a non-zero exit."""

from __future__ import annotations

import inspect

import pytest

from evacuate.cli.app import PANELS, app, run_cli
from evacuate.cli.config_cmds import config_app
from evacuate.cli.lab_cmds import lab_app

VERBS = ["inventory", "snapshot", "snapshots", "check", "forget", "plan", "run", "export",
         "revert", "dns", "dns lower-ttl", "dns switch", "dns revert", "verify", "restore", "rehearse", "status", "schedule", "init", "config",
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


def _help(args: list[str], capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that nothing the help says wraps
    assert run_cli([*args, "--help"]) == 0
    return capsys.readouterr().out


def test_every_verb_is_in_one_panel() -> None:
    run_cli(["--version"])  # registers the commands
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    listed = [name for names in PANELS.values() for name in names]
    assert sorted(names) == sorted(listed) and len(set(listed)) == len(listed)


def test_the_verbs_are_listed_as_the_work_goes(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _help([], capsys, monkeypatch).splitlines()
    titles = [next(i for i, line in enumerate(lines) if f"─ {title} ─" in line)
              for title in PANELS]
    assert titles == sorted(titles)  # the panels in the order of the work
    verbs = [line.split()[1] for line in lines
             if line.startswith("│ ") and line[2] not in " -"]
    assert verbs == [name for names in PANELS.values() for name in names]


@pytest.mark.parametrize("group", [[], ["lab"], ["config"]], ids=["evacuate", "lab", "config"])
def test_help_texts_have_no_hard_line_breaks(group: list[str],
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _help(group, capsys, monkeypatch).splitlines()
    typer_app = {"lab": lab_app, "config": config_app}[group[0]] if group else app
    for info in typer_app.registered_commands:
        doc = " ".join((inspect.getdoc(info.callback) or "").split())
        # each verb's line in the list says its docstring's first sentence, unbroken
        first = doc.split(". ")[0][:150]
        (line,) = [line for line in lines if line.startswith(f"│ {info.name} ")]
        assert first in line, (first, line)
