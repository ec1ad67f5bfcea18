"""Fact family ``sysctl``: kernel settings an admin set in /etc/sysctl.conf and
/etc/sysctl.d/*.conf (package defaults under /usr/lib/sysctl.d are not theirs),
with each key's current value."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import SysctlSetting


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


FACT = Fact(name="sysctl", script=snippet("sysctl"), parse=parse, default=tuple, timeout=20)
