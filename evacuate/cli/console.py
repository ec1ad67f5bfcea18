"""The one place that knows rich: the terminal console, tables and progress.

Everything else prints through these functions so that tests can capture output
(``make_console(file=...)``) and so that ``--json`` keeps stdout clean JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape as _escape_markup
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

__all__ = ["Console", "make_console"]


class _Console(Console):
    """rich's Console for evacuate: ``:name:`` never becomes an emoji, and away from a
    terminal (a log, CI) lines are never wrapped or cut at a width."""

    def print(self, *objects: Any, **options: Any) -> None:
        if not self.is_terminal:
            options.setdefault("soft_wrap", True)
        super().print(*objects, **options)


_out: Console = _Console(highlight=False, emoji=False)
_err: Console = _Console(stderr=True, highlight=False, emoji=False)


def make_console(file: IO[str] | None = None, *, stderr: bool = False,
                 force_terminal: bool | None = None, width: int | None = None) -> Console:
    """Return a console writing to ``file`` (or stdout/stderr)."""
    return _Console(file=file, stderr=stderr, highlight=False, emoji=False,
                    force_terminal=force_terminal, width=width)


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


# Control characters (C0, DEL, C1) as Python writes them: a name with a newline stays on
# its line, a name with an escape sequence cannot drive the terminal.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(0x20), *range(0x7F, 0xA0))}


def one_line(text: str) -> str:
    """``text`` with its control characters written as escapes (``\\n``, ``\\x1b``)."""
    return text.translate(_CONTROLS)


def escape(text: str) -> str:
    """Data (a name, a path, a message) for a markup template: markup escaped and control
    characters written as escapes, so that it prints as it is, on one line."""
    return _escape_markup(one_line(str(text)))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Records:
    """Records to print: a table on a terminal, plain lines elsewhere. Plain values are
    shown literally (never markup, on one line); cells made with :func:`markup` keep their
    styling."""
    return Records(title, tuple(columns),
                   [[cell if isinstance(cell, Text) else Text(one_line(str(cell)))
                     for cell in row] for row in rows])


class Records:
    """Rows under a title. On a terminal, a rich table; anywhere else (a log, CI, a pipe)
    the title, then the column names and one line per record, tab-separated: nothing is
    wrapped at a width, and each record can be grepped."""

    def __init__(self, title: str, columns: tuple[str, ...], rows: list[list[Text]]) -> None:
        self.title, self.columns, self.rows = title, columns, rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not console.is_terminal:  # segments, not Text: no tab expansion, no wrapping
            for line in (one_line(self.title), "\t".join(self.columns),
                         *("\t".join(cell.plain for cell in row) for row in self.rows)):
                yield Segment(line)
                yield Segment.line()
            return
        result = Table(title=Text(one_line(self.title)), title_justify="left",
                       header_style="bold")
        for column in self.columns:
            result.add_column(column)
        for row in self.rows:
            result.add_row(*row)
        yield result


def markup(text: str) -> Text:
    """A styled table cell from rich markup (only for text we wrote, never user data)."""
    return Text.from_markup(text, emoji=False)


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

        title = escape(title)
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
        self._progress.update(self._task, description=f"{self._title}: {escape(name)}")

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


class LiveTable:
    """A table redrawn from ``rows()`` while a context is open (the fleet view: one row per
    host), on stderr when it is a terminal; ``live`` is False elsewhere, and the caller
    prints plain lines instead."""

    def __init__(self, title: str, columns: Sequence[str],
                 rows: Callable[[], Iterable[Sequence[Any]]]) -> None:
        from rich.live import Live

        self.live = _err.is_terminal
        self._title, self._columns, self._rows = title, tuple(columns), rows
        self._live = Live(console=_err, refresh_per_second=2, transient=True,
                          get_renderable=self._render) if self.live else None

    def _render(self) -> Table:
        result = Table(title=Text(one_line(self._title)), title_justify="left",
                       header_style="bold")
        for column in self._columns:
            result.add_column(column)
        for row in self._rows():
            result.add_row(*(Text(one_line(str(cell))) for cell in row))
        return result

    def __enter__(self) -> LiveTable:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()


def human_size(value: float | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"
