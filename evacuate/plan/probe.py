"""What the target offers: free disk space, the candidate version of each package in its
package sources (``apt-cache policy``) and the names of every package they offer (to map
names onto another release), in one round trip."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from evacuate.transport.base import Transport


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
    """Refresh the package lists when the target has none yet (a fresh host), then ask."""
    names = " ".join(shlex.quote(p) for p in packages)
    script = ("df -B1 --output=avail / 2>/dev/null | tail -n 1; echo @@POLICY@@; "
              "if command -v apt-cache >/dev/null; then "
              "ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq "
              ">/dev/null 2>&1; "
              f"apt-cache policy {names} 2>/dev/null; echo @@NAMES@@; "
              # real packages only (pkgnames also lists virtual ones); lists may be compressed
              "{ cat /var/lib/apt/lists/*_Packages 2>/dev/null; "
              "for f in /var/lib/apt/lists/*_Packages.lz4; do [ -e \"$f\" ] && lz4cat \"$f\"; "
              "done 2>/dev/null; } | sed -n 's/^Package: //p' | sort -u; fi")
    text = transport.run(script, timeout=300, check=True).text
    free_text, _, rest = text.partition("@@POLICY@@")
    policy, _, listed = rest.partition("@@NAMES@@")
    free = int(free_text.strip()) if free_text.strip().isdigit() else None
    candidates = parse_policy(policy)
    return TargetOffer(free, {name: candidates.get(name) for name in packages},
                       frozenset(listed.split()))
