"""The ``evacuate`` command line.

This is the only layer that turns :class:`~evacuate.errors.EvacuateError` into a
one-line message and an exit code. An unexpected exception writes its traceback
to the debug log in the state directory and prints one line pointing at it.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import typer

from evacuate import __version__
from evacuate.cli import console
from evacuate.errors import ConfigError, EvacuateError, ExitCode
from evacuate.state import StateDir

app = typer.Typer(
    name="evacuate",
    help="Get a hosted Linux server out before (or after) its hoster pulls the plug.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"evacuate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Get a hosted Linux server out before (or after) its hoster pulls the plug.

    Exit codes: 0 ok, 1 operation failed, 2 usage, 3 config, 4 connection,
    5 host key refused, 6 remote command failed, 7 store, 8 lab, 70 internal
    error (traceback in the debug log), 130 interrupted.
    """


# ``evacuate --help`` lists the verbs as the work goes, panel by panel; every verb is in
# exactly one (tests/unit/test_cli_help.py).
PANELS: dict[str, tuple[str, ...]] = {
    "Move a server (in this order)": ("inventory", "snapshot", "plan", "run", "verify",
                                      "export", "revert", "dns"),
    "Emergency: the source is gone": ("restore", "rehearse", "status", "schedule"),
    "Store": ("snapshots", "check", "forget"),
    "Configuration": ("init", "config"),
    "Lab": ("lab",),
}


# The module of each verb: a command imports only its own module (and what that needs), not
# every verb's; the CLI's start is most of a short command's time (a third of an
# inventory's). tests/unit/test_cli_lazy.py checks this table against the registered verbs.
VERB_MODULES: dict[str, str] = {
    "inventory": "inventory_cmds",
    "snapshot": "snapshot_cmds", "snapshots": "snapshot_cmds", "check": "snapshot_cmds",
    "forget": "snapshot_cmds",
    "plan": "plan_cmds",
    "run": "run_cmds", "export": "run_cmds", "revert": "run_cmds",
    "verify": "verify_cmds",
    "dns": "dns_cmds",
    "restore": "emergency_cmds", "status": "emergency_cmds", "schedule": "emergency_cmds",
    "rehearse": "emergency_cmds",
    "init": "config_cmds", "config": "config_cmds",
    "lab": "lab_cmds",
}


def _verb(argv: list[str]) -> str | None:
    """The verb ``argv`` names: its first word that is not an option (the root has only
    flags); None when there is none."""
    return next((word for word in argv if not word.startswith("-")), None)


def _register_commands(argv: list[str] | None = None) -> None:
    """Import the command modules, which add their verbs to ``app``: only the named verb's
    when ``argv`` names a known one, every one otherwise (help, a mistyped verb)."""
    import importlib

    verb = _verb(sys.argv[1:] if argv is None else argv)
    every = sorted(set(VERB_MODULES.values()))
    modules = [VERB_MODULES[verb]] if verb in VERB_MODULES else every
    for module in modules:
        importlib.import_module(f"evacuate.cli.{module}")
    _arrange(app)


def unwrap(text: str | None) -> str | None:
    """Docstring text as help: the hard line breaks inside a paragraph joined (the help
    rewraps it to the terminal), blank lines between paragraphs kept."""
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _arrange(root: typer.Typer) -> None:
    """Put the verbs in their panels, in the order of :data:`PANELS`, and unwrap every help
    text (idempotent: the CLI may be run many times in one process)."""
    order = {name: index for index, name in enumerate(n for names in PANELS.values()
                                                       for n in names)}
    panel = {name: title for title, names in PANELS.items() for name in names}

    def key(info: Any) -> int:
        return order.get(info.name or "", len(order))

    root.registered_commands.sort(key=key)
    root.registered_groups.sort(key=key)
    for command_info in root.registered_commands:
        command_info.rich_help_panel = panel.get(command_info.name or "")
    for group_info in root.registered_groups:
        group_info.rich_help_panel = panel.get(group_info.name or "")
    commands = list(root.registered_commands)
    for group in root.registered_groups:
        if group.typer_instance is not None:
            commands += group.typer_instance.registered_commands
            group.help = unwrap(group.help or group.typer_instance.info.help)
    for command in commands:
        command.help = unwrap(command.help or inspect.getdoc(command.callback))


def _debug_log_path() -> Path:
    try:
        logs = StateDir.resolve().logs
    except OSError:
        logs = Path(os.environ.get("TMPDIR", "/tmp"))
    return logs / "debug.log"


def _write_traceback(exc: BaseException) -> Path | None:
    path = _debug_log_path()
    try:
        with path.open("a", encoding="utf-8") as handle:
            os.chmod(path, 0o600)
            handle.write(f"--- {datetime.now(UTC).isoformat()} evacuate {__version__}: "
                         f"{' '.join(sys.argv)}\n")
            handle.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and exit with the code for its outcome."""
    sys.exit(run_cli(argv))


def _internal_error(bug: BaseException) -> int:
    where = _write_traceback(bug)
    console.error_line(
        f"internal error: {type(bug).__name__}: {str(bug).splitlines()[0] if str(bug) else ''}",
        f"traceback written to {where}" if where else None,
    )
    return int(ExitCode.INTERNAL)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code; never raises."""
    logging.basicConfig(level=os.environ.get("EVACUATE_LOG", "WARNING").upper(),
                        format="%(levelname)s %(name)s: %(message)s")
    if "EVACUATE_LOG" not in os.environ:
        # paramiko logs a traceback for a host that hangs up before its banner; the transport
        # turns that into one line of its own
        logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    _register_commands(argv)
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    try:
        result = app(args=argv, standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort as aborted:
        if isinstance(aborted.__context__, EOFError):  # typer and click turn one into Abort
            return _internal_error(aborted.__context__)
        console.error_line("interrupted")
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as usage:
        message = usage.format_message()
        if message:  # a group called without a command has printed its help already
            console.error_line(message)
        return int(ExitCode.USAGE)
    except ConfigError as bad:
        console.error_line(bad.message, bad.hint)
        for problem in bad.problems:
            console.err().print(f"  {console.escape(problem)}", soft_wrap=True)
        return int(bad.exit_code)
    except EvacuateError as failure:
        console.error_line(failure.message, failure.hint)
        return int(failure.exit_code)
    except KeyboardInterrupt:
        console.error_line("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as bug:  # the last line of defence: never show a traceback
        return _internal_error(bug)
    if result == ExitCode.INTERRUPTED:  # typer's exit on ^C: 130, returned without a word
        console.error_line("interrupted")
    # click returns the exit code of ctx.exit() (e.g. after --help) in non-standalone mode
    return result if isinstance(result, int) else int(ExitCode.OK)
