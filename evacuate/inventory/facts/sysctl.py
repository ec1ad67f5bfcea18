"""Fact family ``sysctl``: kernel settings an admin set in /etc/sysctl.conf and
/etc/sysctl.d/*.conf (package defaults under /usr/lib/sysctl.d are not theirs),
with each key's current value."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, split_parts
from evacuate.inventory.model import SysctlSetting

SCRIPT = r"""
for f in /etc/sysctl.conf /etc/sysctl.d/*.conf; do
  [ -f "$f" ] || continue
  evac_part file "$f"
  cat "$f"
done
evac_has sysctl || exit 0
evac_part current
cat /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null \
  | sed -n 's/^[[:space:]]*-\{0,1\}\([A-Za-z0-9_.\/-]*\)[[:space:]]*=.*/\1/p' | sort -u \
  | while IFS= read -r k; do
      v=$(sysctl -n "$k" 2>/dev/null) && printf '%s = %s\n' "$k" "$v"
    done
:
"""


def _settings(text: str) -> list[tuple[str, str]]:
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;" or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        # "-key = value" means: ignore errors setting it; the key is the same.
        result.append((key.strip().lstrip("-").replace("/", "."), value.strip()))
    return result


def parse(text: str) -> tuple[SysctlSetting, ...]:
    """Parse the ``sysctl`` section; a key set in several files keeps the last value."""
    current: dict[str, str] = {}
    settings: dict[str, tuple[str, str]] = {}
    for part in split_parts(text):
        if part.kind == "file":
            for key, value in _settings(part.text):
                settings[key] = (value, part.args)
        elif part.kind == "current":
            current = dict(_settings(part.text))
    return tuple(
        SysctlSetting(key=key, value=value, file=path, current=current.get(key))
        for key, (value, path) in settings.items()
    )


FACT = Fact(name="sysctl", script=SCRIPT, parse=parse, default=tuple, timeout=20)
