"""Fact family ``sqlite``: the SQLite databases of a host, found by their header (see
sh/sqlite.sh) in the state trees and among the files running processes hold open, as one
DatabaseServer of engine ``sqlite`` whose ``version`` is the tool the host has for an online
backup (``sqlite3 3.40.1``, ``python3 3.40.1`` or ``copy``) and whose databases are the
files (name: the path; owner: ``user:group:mode``)."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, to_int
from evacuate.inventory.model import Database, DatabaseServer

ROOTS = ("/srv", "/var/www", "/home", "/root", "/opt", "/usr/local", "/var/mail", "/var/opt",
         "/var/local", "/var/spool", "/var/lib", "/var/backups")
"""The state trees (those of the data fact), searched whole."""
PRUNE = ("/var/lib/dpkg", "/var/lib/apt", "/var/lib/postgresql", "/var/lib/mysql",
         "/var/lib/docker", "/var/lib/containers", "/var/lib/systemd", "/var/spool/postfix")
"""Trees of other engines and of the system, where no SQLite database of an application is."""

SCRIPT = snippet("sqlite").replace("@ROOTS@", " ".join(ROOTS)).replace("@PRUNE@", " ".join(PRUNE))


def parse(text: str) -> tuple[DatabaseServer, ...]:
    """One DatabaseServer (engine ``sqlite``) holding every database found, or none."""
    tool = ""
    databases = []
    seen = set()
    for line in text.splitlines():
        fields = line.split("|", 5)
        if fields[0] == "tool" and len(fields) == 2:
            tool = fields[1].strip()
        elif fields[0] == "db" and len(fields) == 6 and fields[5].startswith("/"):
            _, size, user, group, mode, path = fields
            if path not in seen:
                seen.add(path)
                databases.append(Database(name=path, size_bytes=to_int(size),
                                          owner=f"{user}:{group}:{mode}"))
    if not databases:
        return ()
    return (DatabaseServer(engine="sqlite", version=tool or "copy", running=True,
                           databases=tuple(databases)),)


FACT = Fact(name="sqlite", script=SCRIPT, parse=parse, default=tuple, timeout=120)
