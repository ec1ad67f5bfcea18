"""What a fact family declares, and the small text helpers its parser uses.

A fact family is a POSIX sh snippet (read-only, tolerant of missing tools) whose
stdout one pure function ``parse(text) -> T`` turns into model values. A snippet
that prints several things separates them with part headers, one per line::

    @@-- <kind> [<arg> ...]@@

which :func:`split_parts` splits again. Helpers here never raise on odd input:
they skip what they cannot read, and the parser decides what is fatal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

PART_RE = re.compile(r"^@@-- (\S+)(?: (.*))?@@$")

# A shell function the snippets use to print a part header (defined in the preamble).
PART = "evac_part"


def snippet(name: str) -> str:
    """Return the sh snippet ``sh/<name>.sh`` shipped beside the fact modules (snippets are
    files so that shellcheck and the tests read what the host runs)."""
    return (resources.files("evacuate.inventory.facts") / "sh" / f"{name}.sh").read_text(
        encoding="utf-8")


@dataclass(frozen=True)
class Fact(Generic[T_co]):
    """One fact family: ``name`` (the section name), its sh ``script``, the pure
    ``parse``, the ``default`` value when the section is missing or failed, and the
    section's time limit in seconds."""

    name: str
    script: str
    parse: Callable[[str], T_co]
    default: Callable[[], T_co]
    timeout: int = 60


@dataclass(frozen=True)
class Part:
    kind: str
    args: str
    text: str


def split_parts(text: str) -> list[Part]:
    """Split a section's text at ``@@-- kind args@@`` header lines. Text before the
    first header becomes a part of kind ``""``."""
    parts: list[Part] = []
    kind, args = "", ""
    lines: list[str] = []
    for line in text.splitlines():
        match = PART_RE.match(line)
        if match:
            if kind or lines:
                parts.append(Part(kind, args, "\n".join(lines)))
            kind, args, lines = match.group(1), match.group(2) or "", []
        else:
            lines.append(line)
    if kind or lines:
        parts.append(Part(kind, args, "\n".join(lines)))
    return parts


def first_part(parts: list[Part], kind: str) -> str:
    """Return the text of the first part of ``kind``, or ``""``."""
    return next((p.text for p in parts if p.kind == kind), "")


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    """Parse ``KEY<sep>value`` lines (shell-style quotes around values removed)."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        if sep not in line or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(sep)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[key.strip()] = value
    return result


def stanzas(text: str) -> Iterator[list[str]]:
    """Yield groups of non-empty lines separated by blank lines."""
    block: list[str] = []
    for line in text.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def to_int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def dedupe(values: Any) -> tuple[str, ...]:
    """Return the distinct strings of ``values`` in first-seen order."""
    return tuple(dict.fromkeys(v for v in values if v))
