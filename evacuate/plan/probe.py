"""What the target offers: free disk space, the candidate version of each package in its
package sources (``apt-cache policy``) and the names of every package they offer (to map
names onto another release), in one round trip."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from evacuate.transport.base import Transport

PROBE = (resources.files("evacuate.plan") / "sh" / "probe_target.sh").read_text(encoding="utf-8")
"""The program asking the target (its free space, candidates and package names)."""


@dataclass(frozen=True)
class TargetOffer:
    free_bytes: int | None
    candidates: dict[str, str | None]
    names: frozenset[str] = frozenset()


def parse_policy(text: str) -> dict[str, str | None]:
    """Parse ``apt-cache policy A B ...``: package → candidate version (None for none)."""
    result: dict[str, str | None] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1].split(":")[0] if line.count(":") > 1 else line[:-1]
        elif current and line.strip().startswith("Candidate:"):
            value = line.split(":", 1)[1].strip()
            result[current] = None if value in ("(none)", "") else value
    return result


def probe_target(transport: Transport, packages: Sequence[str]) -> TargetOffer:
    """Refresh the package lists when the target has none yet (a fresh host), then ask
    (``sh/probe_target.sh``)."""
    script = f"sh -c {shlex.quote(PROBE)} probe_target " + " ".join(
        shlex.quote(p) for p in packages)
    text = transport.run(script, timeout=300, check=True).text
    free_text, _, rest = text.partition("@@POLICY@@")
    policy, _, listed = rest.partition("@@NAMES@@")
    free = int(free_text.strip()) if free_text.strip().isdigit() else None
    candidates = parse_policy(policy)
    return TargetOffer(free, {name: candidates.get(name) for name in packages},
                       frozenset(listed.split()))
