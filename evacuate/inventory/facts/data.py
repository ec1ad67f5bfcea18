"""Fact family ``data``: directories whose content must move (web roots, homes,
/srv, /opt, database and container data), each with its size (``du -sk``) and
number of files. Every measurement has its own time limit, so one huge tree
costs at most that and leaves the size unknown.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, to_int
from evacuate.inventory.model import DataCandidate

CANDIDATES = (
    "/srv", "/var/www", "/home/*", "/root", "/opt/*", "/var/lib/postgresql", "/var/lib/pgsql",
    "/var/lib/mysql", "/var/lib/docker/volumes", "/var/mail", "/var/lib/letsencrypt",
    "/etc/letsencrypt",
)
MEASURE_TIMEOUT = 60

SCRIPT = rf"""
evac_to() {{ if evac_has timeout; then timeout {MEASURE_TIMEOUT} "$@"; else "$@"; fi; }}
for d in {' '.join(CANDIDATES)}; do
  if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
  size=$(evac_to du -skx "$d" 2>/dev/null | cut -f1)
  count=$(evac_to find "$d" -xdev -type f 2>/dev/null | wc -l)
  printf '%s\t%s\t%s\n' "${{size:--}}" "${{count:--}}" "$d"
done
:
"""

_KINDS = (
    ("/home/", "home"), ("/root", "home"), ("/var/www", "www"), ("/srv", "srv"),
    ("/opt/", "opt"), ("/var/lib/postgresql", "database"), ("/var/lib/pgsql", "database"),
    ("/var/lib/mysql", "database"), ("/var/lib/docker", "containers"),
)


def _kind(path: str) -> str:
    return next((kind for prefix, kind in _KINDS if path.startswith(prefix)), "other")


def parse(text: str) -> tuple[DataCandidate, ...]:
    """Parse ``size_kib<TAB>file_count<TAB>path`` lines (``-`` where unknown)."""
    result = []
    for line in text.splitlines():
        fields = line.split("\t", 2)
        if len(fields) != 3 or not fields[2].startswith("/"):
            continue
        size = to_int(fields[0])
        result.append(DataCandidate(
            path=fields[2], kind=_kind(fields[2]),
            size_bytes=size * 1024 if size is not None else None,
            file_count=to_int(fields[1]),
        ))
    return tuple(result)


FACT = Fact(name="data", script=SCRIPT, parse=parse, default=tuple, timeout=600)
