"""Fact family ``cron``: system crontabs (/etc/crontab, /etc/cron.d/*), per-user
crontabs (Debian, RHEL and busybox spool layouts) and the run-parts directories
(/etc/cron.{hourly,daily,weekly,monthly}, listed as ``@hourly`` ... entries)."""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import CronEntry, Crontab

SPOOL_DIRS = ("/var/spool/cron/crontabs/", "/var/spool/cron/", "/etc/crontabs/")
PERIODIC = ("hourly", "daily", "weekly", "monthly")


_ENV_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def _spool_owner(path: str) -> str:
    for prefix in SPOOL_DIRS:
        rest = path[len(prefix):] if path.startswith(prefix) else ""
        if rest and "/" not in rest:
            return rest
    return ""


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def parse_crontab(path: str, text: str) -> Crontab:
    """Parse one crontab file; system crontabs carry a user field, spool ones do not."""
    owner = _spool_owner(path)
    env: list[tuple[str, str]] = []
    entries: list[CronEntry] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        env_match = _ENV_RE.match(line)
        if env_match:
            env.append((env_match.group(1), _unquote(env_match.group(2))))
            continue
        fields = line.split()
        if fields[0].startswith("@"):
            schedule, rest = fields[0], fields[1:]
        elif len(fields) >= 6:
            schedule, rest = " ".join(fields[:5]), fields[5:]
        else:
            continue
        user = ""
        if not owner:
            if len(rest) < 2:
                continue
            user, rest = rest[0], rest[1:]
        if not rest:
            continue
        # Rebuild the command from the original text to keep its spacing.
        command = line.split(None, len(line.split()) - len(rest))[-1]
        entries.append(CronEntry(schedule=schedule, command=command, user=user or owner))
    return Crontab(path=path, owner=owner, environment=tuple(env), entries=tuple(entries))


def parse(text: str) -> tuple[Crontab, ...]:
    """Parse the ``cron`` section."""
    tabs = []
    for part in split_parts(text):
        if part.kind == "crontab":
            tabs.append(parse_crontab(part.args, part.text))
        elif part.kind == "periodic" and part.args in PERIODIC:
            scripts = [line for line in part.text.splitlines() if line.strip()]
            tabs.append(Crontab(
                path=f"/etc/cron.{part.args}",
                entries=tuple(CronEntry(schedule=f"@{part.args}", command=s, user="root")
                              for s in scripts),
            ))
    return tuple(tabs)


FACT = Fact(name="cron", script=snippet("cron"), parse=parse, default=tuple, timeout=20)
