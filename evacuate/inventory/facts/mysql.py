"""Fact family ``mysql``: each MySQL/MariaDB server's version, data directory, port,
socket, schemas with their sizes (information_schema) and accounts as ``'user'@'host'``
names (never password hashes): the main server, then every running multi-instance unit
(``mariadb@NAME``, its option group ``[mariadbd.NAME]``), a server of its own named by
the unit's instance (``DatabaseServer.cluster``).

Runs ``mysql -N -B`` as root over the unix socket (Debian's MariaDB authenticates
root by socket), an instance's over the socket its option groups set; when that is
refused, the section prints the error and the server is reported without databases.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, Part, snippet, split_parts, to_int
from evacuate.inventory.model import Database, DatabaseServer


def _server(text: str, engine: str, name: str = "") -> DatabaseServer:
    settings: dict[str, str] = {}
    databases: list[Database] = []
    users: list[str] = []
    for line in text.splitlines():
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
    if version:
        engine = "mariadb" if "mariadb" in version.lower() else "mysql"
    return DatabaseServer(
        engine=engine, version=version, data_dir=settings.get("datadir", "").rstrip("/"),
        port=to_int(settings.get("port")), cluster=name, running=bool(version),
        databases=tuple(sorted(databases, key=lambda d: d.name)), roles=tuple(sorted(users)),
        socket=settings.get("socket", ""),
    )


def _instance(part: Part, engine: str) -> DatabaseServer:
    name, _, unit = part.args.partition(" ")
    # the unit's template names the engine when the server did not answer
    engine = "mysql" if unit.startswith("mysql") and engine != "mariadb" else engine
    return _server(part.text, engine, name)


def parse(text: str) -> tuple[DatabaseServer, ...]:
    """Parse the ``mysql`` section: the main server, then one DatabaseServer per running
    instance; empty when no server is installed."""
    parts = split_parts(text)
    server = next((p.args for p in parts if p.kind == "server"), None)
    if server is None:
        return ()
    engine = "mariadb" if server.startswith("mariadb") else "mysql"
    main = _server(next((p.text for p in parts if p.kind == "query"), ""), engine)
    return (main, *(_instance(p, main.engine) for p in parts if p.kind == "instance"))


FACT = Fact(name="mysql", script=snippet("mysql"), parse=parse, default=tuple, timeout=60)
