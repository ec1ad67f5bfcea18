"""A command imports only its own verb's module: the CLI's start is a third of a short
command's time. The table of verbs is checked against what the modules register."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from evacuate.cli.app import PANELS, VERB_MODULES, _verb, app


def _registered() -> dict[str, str]:
    for module in set(VERB_MODULES.values()):
        importlib.import_module(f"evacuate.cli.{module}")
    verbs = {c.name: c.callback.__module__ for c in app.registered_commands
             if c.name and c.callback}
    for group in app.registered_groups:
        assert group.name and group.typer_instance
        callbacks = [c.callback for c in group.typer_instance.registered_commands]
        verbs[group.name] = next(cb.__module__ for cb in callbacks if cb)
    return verbs


def test_the_table_names_the_module_of_every_registered_verb() -> None:
    registered = _registered()
    assert {v: f"evacuate.cli.{m}" for v, m in VERB_MODULES.items()} == registered
    assert set(registered) == {v for names in PANELS.values() for v in names}


@pytest.mark.parametrize(("argv", "verb"), [
    (["inventory", "web1"], "inventory"), (["--version"], None), (["-h"], None),
    (["lab", "up", "--index", "3"], "lab"), ([], None)])
def test_the_verb_is_the_first_word_that_is_not_an_option(argv: list[str],
                                                          verb: str | None) -> None:
    assert _verb(argv) == verb


def _modules_after(*argv: str) -> set[str]:
    program = ("import sys, json\nfrom evacuate.cli.app import run_cli\n"
               f"code = run_cli({list(argv)!r})\n"
               "print(json.dumps([m for m in sys.modules if m.startswith('evacuate.cli.')]))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_verb_imports_only_its_own_module() -> None:
    loaded = _modules_after("inventory", "--help")
    commands = {m for m in loaded if m.endswith("_cmds")}
    assert commands == {"evacuate.cli.inventory_cmds"}


def test_help_and_an_unknown_verb_import_every_verb() -> None:
    every = {f"evacuate.cli.{m}" for m in VERB_MODULES.values()}
    assert every <= _modules_after("--help")
    assert every <= _modules_after("evaporate")
