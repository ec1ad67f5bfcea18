"""The one place that knows rich: the terminal console, tables and progress.

Everything else prints through these functions so that tests can capture output
(``make_console(file=...)``) and so that ``--json`` keeps stdout clean JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_out: Console = Console(highlight=False)
_err: Console = Console(stderr=True, highlight=False)


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """Return a console writing to ``file`` (or stdout/stderr)."""
    return Console(file=file, stderr=stderr, highlight=False)


def out() -> Console:
    return _out


def err() -> Console:
    return _err


def print_json(value: Any) -> None:
    """Write ``value`` as JSON to stdout, nothing else (for ``--json``)."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def error_line(message: str, hint: str | None = None) -> None:
    """Print one error line (and an optional hint line) to stderr."""
    _err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    if hint:
        _err.print(f"[dim]hint:[/] {escape(hint)}", soft_wrap=True)


def warning_line(message: str) -> None:
    _err.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def info_line(message: str) -> None:
    _err.print(escape(message), soft_wrap=True)


def escape(text: str) -> str:
    """Escape rich markup in user-provided text."""
    from rich.markup import escape as _escape

    return _escape(text)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """Build a simple table. Plain values are shown literally (markup escaped); cells
    made with :func:`markup` keep their styling."""
    result = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*[cell if isinstance(cell, Text) else escape(str(cell)) for cell in row])
    return result


def markup(text: str) -> Text:
    """A styled table cell from rich markup (only for text we wrote, never user data)."""
    return Text.from_markup(text)


def status_mark(ok: bool | None) -> str:
    """A coloured mark for a health state: ok, failed, or unknown (None)."""
    if ok is None:
        return "[yellow]?[/]"
    return "[green]ok[/]" if ok else "[bold red]FAIL[/]"


class TransferProgress:
    """A live line for long operations: the phase, bytes moved, rate and (with a total)
    ETA. Used as a context manager; silent when stderr is not a terminal."""

    def __init__(self, title: str, total: int | None = None) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), console=_err, transient=True,
            disable=not _err.is_terminal)
        self._title = title
        self._task = self._progress.add_task(title, total=total)
        self.warnings: list[str] = []

    def __enter__(self) -> TransferProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def phase(self, name: str) -> None:
        self._progress.update(self._task, description=f"{self._title}: {name}")

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def human_size(value: float | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"
