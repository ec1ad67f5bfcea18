"""Fact family ``postgresql``: clusters (Debian's ``pg_lsclusters``, or the one
default server elsewhere) with version, data directory, port, databases with their
sizes and owners (``pg_database.datdba``) and role names (never passwords).

Queries run as the ``postgres`` OS user over the local socket (peer
authentication), read-only: ``psql -X`` ignores ~/.psqlrc and the session is set
``default_transaction_read_only``.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, split_parts, to_int
from evacuate.inventory.model import Database, DatabaseServer


def _parse_cluster(args: str, text: str) -> DatabaseServer:
    head = (args.split() + ["-"] * 5)[:5]
    version, cluster, port, status, data_dir = (v if v != "-" else "" for v in head)
    databases: list[Database] = []
    roles: list[str] = []
    settings: dict[str, str] = {}
    answered = False
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) == 3:  # an inventory script without owners
            fields.append("")
        if len(fields) != 4:
            continue
        kind, name, extra, owner = fields
        answered = True
        if kind == "database":
            databases.append(Database(name=name, size_bytes=to_int(extra), owner=owner))
        elif kind == "role":
            roles.append(name)
        else:
            settings[kind] = name
    return DatabaseServer(
        engine="postgresql",
        version=settings.get("version", version),
        data_dir=settings.get("data_directory", data_dir),
        port=to_int(settings.get("port", port)),
        cluster=cluster,
        running=answered or status.startswith("online"),
        databases=tuple(sorted(databases, key=lambda d: d.name)),
        roles=tuple(sorted(roles)),
    )


def parse(text: str) -> tuple[DatabaseServer, ...]:
    """Parse the ``postgresql`` section: one DatabaseServer per cluster."""
    return tuple(_parse_cluster(p.args, p.text) for p in split_parts(text) if p.kind == "cluster")


FACT = Fact(name="postgresql", script=snippet("postgresql"), parse=parse, default=tuple, timeout=60)
