"""The one batched inventory script, and splitting its output back into sections.

:func:`build_script` joins every fact family's snippet into a single POSIX sh
script. Each section runs in its own ``sh -c`` (so one family's variables or
``exit`` cannot leak into the next), under ``timeout`` when the host has it, and
is framed by marker lines::

    @@EVAC-BEGIN <name>@@
    <the snippet's stdout>
    @@EVAC-END <name> rc=<exit status>@@

The END marker is preceded by one newline of ours, so a section's text is
recovered byte for byte. Stderr is not captured per section: it goes to the
script's stderr. A section hung in uninterruptible I/O (a dead NFS mount) can
outlive ``timeout -k``; the caller's overall time limit covers that case.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from evacuate.inventory.facts.base import PART, Fact

SCRIPT_VERSION = 1

# Exit statuses of GNU/busybox timeout when the time ran out (TERM) or -k killed it.
TIMEOUT_STATUSES = frozenset({124, 137})

_PREAMBLE = f"""\
# evacuate inventory script v{SCRIPT_VERSION}: read-only probes, one section each.
LC_ALL=C; export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
evac_timeout=
if command -v timeout >/dev/null 2>&1; then
  if timeout -k 1 5 true >/dev/null 2>&1; then evac_timeout=k; else evac_timeout=plain; fi
fi
evac_section() {{
  printf '@@EVAC-BEGIN %s@@\\n' "$1"
  case $evac_timeout in
    k) timeout -k 5 "$2" sh -c "$3" </dev/null ;;
    plain) timeout "$2" sh -c "$3" </dev/null ;;
    *) sh -c "$3" </dev/null ;;
  esac
  evac_rc=$?
  printf '\\n@@EVAC-END %s rc=%s@@\\n' "$1" "$evac_rc"
}}
"""

# Prepended to every snippet: what the snippets share.
_SNIPPET_PRELUDE = f"""\
{PART}() {{ printf '@@-- %s@@\\n' "$*"; }}
evac_has() {{ command -v "$1" >/dev/null 2>&1; }}
"""


@dataclass(frozen=True)
class SectionOutput:
    """One section's stdout; ``rc`` is None when its END marker never came."""

    text: str
    rc: int | None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0


def build_script(facts: Sequence[Fact[object]]) -> str:
    """Return the POSIX sh script that runs every fact's snippet in turn."""
    lines = [_PREAMBLE]
    for fact in facts:
        if not fact.name.replace("_", "").isalnum():
            raise ValueError(f"bad section name {fact.name!r}")
        snippet = _SNIPPET_PRELUDE + fact.script.strip() + "\n"
        lines.append(f"evac_section {fact.name} {int(fact.timeout)} {shlex.quote(snippet)}\n")
    lines.append("exit 0\n")
    return "".join(lines)


def split_sections(stdout: str) -> dict[str, SectionOutput]:
    """Split the script's stdout into sections by their markers.

    A section without its END marker (the script was cut off) is returned with
    ``rc=None`` and whatever text arrived. Text outside sections is ignored.
    """
    sections: dict[str, SectionOutput] = {}
    current: str | None = None
    end_prefix = ""
    buffer: list[str] = []
    for line in stdout.split("\n"):
        if current is None:
            if line.startswith("@@EVAC-BEGIN ") and line.endswith("@@"):
                current = line[len("@@EVAC-BEGIN "):-2]
                end_prefix = f"@@EVAC-END {current} rc="
                buffer = []
            continue
        if line.startswith(end_prefix) and line.endswith("@@"):
            rc_text = line[len(end_prefix):-2]
            rc = int(rc_text) if rc_text.isdigit() else -1
            sections[current] = SectionOutput("\n".join(buffer), rc, rc in TIMEOUT_STATUSES)
            current = None
            continue
        buffer.append(line)
    if current is not None:
        sections[current] = SectionOutput("\n".join(buffer), None, timed_out=True)
    return sections
