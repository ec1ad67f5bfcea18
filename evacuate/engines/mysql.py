"""MySQL and MariaDB: the users with their grants (``SHOW CREATE USER`` / ``SHOW GRANTS``,
a secret: it carries password hashes), then one ``--single-transaction`` dump per database
with routines, triggers and events; exact row counts per table, and the object definitions,
grants and a checksum per table (evacuate/engines/sql/) for verify."""

from __future__ import annotations

import re
import shlex

from evacuate.engines.base import (
    DumpJob,
    Engine,
    Loader,
    count_total,
    require_loaded,
    sql_check,
    sql_file,
)
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.transport.base import Transport

CLIENT = "$(command -v mariadb || command -v mysql)"
DUMP = "$(command -v mariadb-dump || command -v mysqldump)"
USERS = "*users*"
SYSTEM_USERS = ("root", "mysql", "mariadb.sys", "debian-sys-maint", "mysql.sys",
                "mysql.session", "mysql.infoschema", "")
USERS_END = b"-- evacuate users dump complete"
OBJECTS_SQL = sql_file("mysql_objects.sql")
CONTENT_SQL = sql_file("mysql_content.sql")


def sql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class MySQL(Engine):
    name = "mysql"
    handles = ("mariadb", "mysql")
    units = ("mariadb", "mysql")
    accounts = USERS
    system_databases = frozenset({"information_schema", "performance_schema", "sys", "mysql"})
    release_bound_objects = frozenset({"view", "routine", "trigger", "event", "grants",
                                       "content"})  # CHECKSUM TABLE depends on the row format

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        excluded = ", ".join(f"'{u}'" for u in SYSTEM_USERS)
        users_sql = ("SELECT CONCAT('SHOW CREATE USER ', QUOTE(user), '@', QUOTE(host), "
                     "'; SHOW GRANTS FOR ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user "
                     f"WHERE user NOT IN ({excluded}) ORDER BY user, host")
        users = (f"q=$({CLIENT} -N -B -r -e {shlex.quote(users_sql)}) || exit 1; "
                 f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {CLIENT} -N -B -r "
                 f"| sed 's/$/;/' && echo '{USERS_END.decode()}'")
        jobs = [DumpJob(server.engine, USERS, "sql", users, secret=True,
                        check=sql_check(USERS_END))]
        for db in server.databases:
            if db.name in self.system_databases:
                continue
            jobs.append(DumpJob(server.engine, db.name, "sql",
                                f"{DUMP} --single-transaction --routines --triggers --events "
                                f"--hex-blob --databases {shlex.quote(db.name)}",
                                counts_command=self.counts_command(server, db.name),
                                objects_command=self.objects_command(server, db.name),
                                marker_command=self.change_marker_command(server, db.name),
                                check=sql_check(b"-- Dump completed")))
        return jobs

    def carried_roles(self, server: DatabaseServer) -> set[str]:
        """'user'@'host' accounts but the server's own system users (its packages make
        them anew)."""
        return {r for r in server.roles if r.partition("@")[0].strip("'`") not in SYSTEM_USERS}

    def counts_command(self, server: DatabaseServer, database: str) -> str:
        count_sql = ("SELECT CONCAT('SELECT ', QUOTE(CONCAT(table_schema, '.', table_name)), "
                     "', COUNT(*) FROM `', REPLACE(table_schema, '`', '``'), '`.`', "
                     "REPLACE(table_name, '`', '``'), '`;') FROM information_schema.tables "
                     f"WHERE table_type = 'BASE TABLE' AND table_schema = {sql_str(database)} "
                     "ORDER BY table_name")
        return (f"q=$({CLIENT} -N -B -r -e {shlex.quote(count_sql)}) || exit 1; "
                f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {CLIENT} -N -B -r")

    def objects_command(self, server: DatabaseServer, database: str) -> str:
        named = f"SET @db = {sql_str(database)};\n"
        return (f"{CLIENT} -N -B -r -e {shlex.quote(named + OBJECTS_SQL)} || exit 1; "
                f"q=$({CLIENT} -N -B -r -e {shlex.quote(named + CONTENT_SQL)}) || exit 1; "
                f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {CLIENT} -N -B -r "
                "| sed 's/^/content /'")

    def change_marker_command(self, server: DatabaseServer, database: str) -> str:
        # the table definitions with their AUTO_INCREMENT, the routines, triggers and events
        return (f"s=$({DUMP} --no-data --routines --triggers --events --skip-dump-date "
                f"--databases {shlex.quote(database)}) || exit 1; printf '%s' \"$s\" | md5sum")

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        if dump.database == USERS:
            # a user that exists already (a re-run) is kept: CREATE USER IF NOT EXISTS; every
            # statement runs (--force) and any error fails the step
            result = load(f"sed 's/^CREATE USER /CREATE USER IF NOT EXISTS /' | {CLIENT} --force")
            require_loaded(target, f"loading the {dump.engine} users and grants", result)
            return "users loaded"
        sql_name = dump.database.replace("'", "''")
        tables = count_total(target, f"{CLIENT} -N -B -e \"select count(*) from information_schema."
                             f"tables where table_schema = '{sql_name}'\"")
        if tables:
            return f"skipped: {dump.database} already has {tables} tables"
        require_loaded(target, f"restoring {dump.engine} {dump.database}", load(CLIENT),
                       error_line=re.compile(r"$^"))
        return "restored"

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        quoted = dump.database.replace("`", "``")
        target.run(f"{CLIENT} -e {shlex.quote(f'DROP DATABASE IF EXISTS `{quoted}`')}",
                   timeout=300, check=True)

    def query_command(self, database: str, query: str) -> str:
        return f"{CLIENT} -N -B -D {shlex.quote(database)} -e {shlex.quote(query)}"
