"""Fact family ``mysql``: the MySQL/MariaDB server's version, data directory, port,
schemas with their sizes (information_schema) and accounts as ``'user'@'host'``
names (never password hashes).

Runs ``mysql -N -B`` as root over the unix socket (Debian's MariaDB authenticates
root by socket); when that is refused, the section prints the error and the
server is reported without databases.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, split_parts, to_int
from evacuate.inventory.model import Database, DatabaseServer

QUERY = (
    "SELECT 'version', VERSION(), '' "
    "UNION ALL SELECT 'datadir', @@datadir, '' "
    "UNION ALL SELECT 'port', @@port, '' "
    "UNION ALL SELECT 'database', s.SCHEMA_NAME, "
    "COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) "
    "FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t "
    "ON t.TABLE_SCHEMA = s.SCHEMA_NAME GROUP BY s.SCHEMA_NAME "
    "UNION ALL SELECT 'user', CONCAT(QUOTE(User), '@', QUOTE(Host)), '' FROM mysql.user"
)

SCRIPT = rf"""
evac_client=
for c in mariadb mysql; do
  if evac_has "$c"; then evac_client=$c; break; fi
done
[ -n "$evac_client" ] || exit 0
evac_server=
for d in mariadbd mysqld; do
  if evac_has "$d" || [ -x "/usr/sbin/$d" ]; then evac_server=$d; break; fi
done
[ -n "$evac_server" ] || exit 0
evac_part server "$evac_server"
evac_part query
"$evac_client" --connect-timeout=10 -N -B -u root -e "{QUERY}" </dev/null 2>&1
:
"""

# Schemas every server has; kept in the inventory but flagged by the planner.
SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "mysql", "sys"})


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


FACT = Fact(name="mysql", script=SCRIPT, parse=parse, default=tuple, timeout=60)
