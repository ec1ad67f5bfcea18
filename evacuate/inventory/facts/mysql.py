"""Fact family ``mysql``: the MySQL/MariaDB server's version, data directory, port,
schemas with their sizes (information_schema) and accounts as ``'user'@'host'``
names (never password hashes).

Runs ``mysql -N -B`` as root over the unix socket (Debian's MariaDB authenticates
root by socket); when that is refused, the section prints the error and the
server is reported without databases.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts, to_int
from evacuate.inventory.model import Database, DatabaseServer


def parse(text: str) -> tuple[DatabaseServer, ...]:
    """Parse the ``mysql`` section; empty when no server is installed."""
    parts = split_parts(text)
    if not any(p.kind == "server" for p in parts):
        return ()
    settings: dict[str, str] = {}
    databases: list[Database] = []
    users: list[str] = []
    for line in first_part(parts, "query").splitlines():
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        kind, value, extra = fields
        if kind == "database":
            databases.append(Database(name=value, size_bytes=to_int(extra.split(".")[0])))
        elif kind == "user":
            users.append(value)
        else:
            settings[kind] = value
    version = settings.get("version", "")
    engine = "mariadb" if "mariadb" in version.lower() else "mysql"
    if not version:
        server = next((p.args for p in parts if p.kind == "server"), "")
        engine = "mariadb" if server.startswith("mariadb") else "mysql"
    return (DatabaseServer(
        engine=engine, version=version, data_dir=settings.get("datadir", "").rstrip("/"),
        port=to_int(settings.get("port")), running=bool(version),
        databases=tuple(sorted(databases, key=lambda d: d.name)), roles=tuple(sorted(users)),
    ),)


FACT = Fact(name="mysql", script=snippet("mysql"), parse=parse, default=tuple, timeout=60)
