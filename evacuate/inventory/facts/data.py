"""Fact family ``data``: the state trees whose content moves whole (web roots, homes,
/srv, /opt, /usr/local, mail, spools, each directory of /var/lib), each with its size (``du -sk``) and
number of files. Every measurement has its own time limit, so one huge tree
costs at most that and leaves the size unknown.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, to_int
from evacuate.inventory.model import DataCandidate

# Chosen by exclusion: every state tree (each directory of /var/lib and /var/spool on its
# own), but the package manager's, the init system's and the others a rule leaves behind.
CANDIDATES = (
    "/srv", "/var/www", "/home/*", "/root", "/opt/*", "/usr/local", "/var/mail", "/var/opt",
    "/var/local", "/var/spool/*", "/var/lib/*", "/var/lib/docker/volumes", "/var/lib/containers/storage/volumes",
    "/etc/letsencrypt",
)
SKIP = ("/var/lib/dpkg", "/var/lib/apt", "/var/lib/aptitude", "/var/lib/ucf",
        "/var/lib/systemd", "/var/lib/dhcp", "/var/lib/logrotate", "/var/lib/initramfs-tools",
        "/var/lib/docker", "/var/lib/containers")  # an engine's storage: only its volumes move
MEASURE_TIMEOUT = 60

SCRIPT = (snippet("data").replace("@TIMEOUT@", str(MEASURE_TIMEOUT))
          .replace("@CANDIDATES@", " ".join(CANDIDATES)).replace("@SKIP@", " ".join(SKIP)))

_KINDS = (
    ("/home/", "home"), ("/root", "home"), ("/var/www", "www"), ("/srv", "srv"),
    ("/opt/", "opt"), ("/var/lib/postgresql", "database"), ("/var/lib/pgsql", "database"),
    ("/var/lib/mysql", "database"), ("/var/lib/docker", "containers"),
    ("/var/lib/containers", "containers"),
    ("/var/lib/", "state"), ("/var/spool/", "spool"), ("/var/mail", "mail"),
    ("/usr/local", "local"),
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
