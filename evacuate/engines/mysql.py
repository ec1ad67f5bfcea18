"""MySQL and MariaDB: the users with their grants (``SHOW CREATE USER`` / ``SHOW GRANTS``,
a secret: it carries password hashes), then one ``--single-transaction`` dump per database
with routines, triggers and events; exact row counts per table, and the object definitions,
grants and a checksum per table (evacuate/engines/sql/) for verify.

Each running multi-instance unit (``mariadb@NAME``: its option group ``[mariadbd.NAME]``
sets its own port, socket and data directory) is an instance of its own: it is dumped over
its socket, its dumps tagged ``mariadb@NAME:PORT``; the restore makes that instance on the
target from its configuration carried with /etc (its data directory created for the
unit's ``mariadb-install-db``, ``systemctl enable --now mariadb@NAME``) and loads over the
socket that configuration sets, never into the main server.

A database's quiet line (read before a dump's checks: the same line as the previous dump's
keeps that dump without reading a table) is the server's part (``sql/mysql_quiet.sql``)
followed by the schema's md5 (the change marker). How each change is seen:

- a write to an InnoDB table (INSERT, UPDATE, DELETE, LOAD DATA, TRUNCATE, an ALTER that
  touches InnoDB's dictionary or pages): InnoDB's log sequence number (``Innodb_lsn_current``) moves when the change is made, before it
  commits, whatever the binary log or ``innodb_flush_log_at_trx_commit`` say. It is the
  whole server's: a write in any database sends every one of them to the full check.
- a write to a MyISAM table: its size, rows and modification time (whole seconds, so no
  line while a MyISAM table was written in this second or the one before).
- any other engine's table (Aria, MEMORY, CSV, ARCHIVE, CONNECT, ...), whose writes move
  neither: no line.
- views, triggers (files beside the tables), routines and events (``mysql.proc``,
  ``mysql.event``: Aria tables), column defaults and comments changed in place: the
  schema's md5 (``mariadb-dump --no-data --routines --triggers --events``).
- a restart or another data directory: the server's start time (``UNIX_TIMESTAMP()`` less
  ``Uptime``, both of the statement's start: the same number every time), version and
  ``server_id``; with the binary log on, its GTID position too.
- MySQL (no ``Innodb_lsn_current``; its ``information_schema`` has no ``GLOBAL_STATUS``):
  no line, the full check decides.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from evacuate.engines.base import (
    DumpJob,
    Engine,
    Loader,
    count_total,
    instance_of,
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
# PUBLIC: MariaDB 10.11's built-in role (a row of mysql.user that SHOW CREATE USER refuses)
SYSTEM_USERS = ("root", "mysql", "mariadb.sys", "debian-sys-maint", "mysql.sys",
                "mysql.session", "mysql.infoschema", "PUBLIC", "")
# the option groups a server reads its socket and data directory from (the last one wins)
SERVER_GROUPS = "client-server mysqld server mariadb mariadbd"
USERS_END = b"-- evacuate users dump complete"
OBJECTS_SQL = sql_file("mysql_objects.sql")
CONTENT_SQL = sql_file("mysql_content.sql")
QUIET_SQL = sql_file("mysql_quiet.sql")


def sql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _socket_opt(server: DatabaseServer) -> str:
    """`` --socket=PATH`` of an instance beyond the main server ("" for the main one)."""
    return f" --socket={shlex.quote(server.socket)}" if server.cluster and server.socket else ""


def _instance_name(dump: DumpEntry) -> str:
    """``NAME`` of a dump tagged ``ENGINE@NAME:PORT`` ("" for the main server's)."""
    return _name_of(dump.engine)


def _name_of(engine: str) -> str:
    name = instance_of(engine).rpartition(":")[0]
    if name and not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"not a MariaDB/MySQL instance: {engine!r}")
    return name


def _option(name: str, option: str) -> str:
    """sh printing the ``--OPTION`` value instance ``name``'s option groups set."""
    return (f"my_print_defaults --defaults-group-suffix=.{name} {SERVER_GROUPS} "
            f"| sed -n 's/^--{option}=//p' | tail -n 1")


def _target_client(dump: DumpEntry) -> str:
    """The client on the target for ``dump``: over the socket of its instance's carried
    configuration, or the main server's."""
    name = _instance_name(dump)
    return f'{CLIENT} --socket="$({_option(name, "socket")})"' if name else CLIENT


def instance_command(engine: str, name: str) -> str:
    """sh making instance ``name`` on the target from its configuration carried with /etc
    (``[mariadbd.NAME]``): its data directory created for the mysql user when missing (the
    unit's ``mariadb-install-db`` initialises it), then ``systemctl enable --now`` of the
    unit (``mariadb@NAME``); fails when the configuration sets no socket of its own."""
    unit = shlex.quote(f"{'mysql' if engine == 'mysql' else 'mariadb'}@{name}.service")
    return (f"set -e; s=$({_option(name, 'socket')}); d=$({_option(name, 'datadir')}); "
            f"if [ -z \"$s\" ]; then echo 'instance {name}: its carried configuration sets "
            "no socket' >&2; exit 1; fi; "
            "if [ -n \"$d\" ] && [ ! -d \"$d\" ]; then "
            "install -d -o mysql -g mysql -m 0750 \"$d\"; fi; "
            f"systemctl enable --now {unit} >/dev/null 2>&1 || "
            f"{{ systemctl status --no-pager {unit} >&2; exit 1; }}")


class MySQL(Engine):
    name = "mysql"
    handles = ("mariadb", "mysql")
    units = ("mariadb", "mysql")
    accounts = USERS
    system_databases = frozenset({"information_schema", "performance_schema", "sys", "mysql"})
    release_bound_objects = frozenset({"view", "routine", "trigger", "event", "grants",
                                       "content"})  # CHECKSUM TABLE depends on the row format
    instances = True
    role = "mysql"

    def instance_tag(self, server: DatabaseServer) -> str:
        return f"{server.cluster}:{int(server.port)}" \
            if server.cluster and server.port and server.socket else ""

    def named_instance(self, server: DatabaseServer) -> bool:
        return bool(server.cluster)

    def unit_of(self, server: DatabaseServer) -> str | None:
        return f"{server.engine}@{server.cluster}.service" if server.cluster else None

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        client, dump = CLIENT + _socket_opt(server), DUMP + _socket_opt(server)
        excluded = ", ".join(f"'{u}'" for u in SYSTEM_USERS)
        users_sql = ("SELECT CONCAT('SHOW CREATE USER ', QUOTE(user), '@', QUOTE(host), "
                     "'; SHOW GRANTS FOR ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user "
                     f"WHERE user NOT IN ({excluded}) ORDER BY user, host")
        users = (f"q=$({client} -N -B -r -e {shlex.quote(users_sql)}) || exit 1; "
                 f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {client} -N -B -r "
                 f"| sed 's/$/;/' && echo '{USERS_END.decode()}'")
        jobs = [DumpJob(server.engine, USERS, "sql", users, secret=True,
                        check=sql_check(USERS_END))]
        for db in server.databases:
            if db.name in self.system_databases:
                continue
            jobs.append(DumpJob(server.engine, db.name, "sql",
                                f"{dump} --single-transaction --routines --triggers --events "
                                f"--hex-blob --databases {shlex.quote(db.name)}",
                                counts_command=self.counts_command(server, db.name),
                                objects_command=self.objects_command(server, db.name),
                                marker_command=self.change_marker_command(server, db.name),
                                quiet_command=self.quiet_command(server, db.name),
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
        client = CLIENT + _socket_opt(server)
        return (f"q=$({client} -N -B -r -e {shlex.quote(count_sql)}) || exit 1; "
                f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {client} -N -B -r")

    def objects_command(self, server: DatabaseServer, database: str) -> str:
        named = f"SET @db = {sql_str(database)};\n"
        client = CLIENT + _socket_opt(server)
        return (f"{client} -N -B -r -e {shlex.quote(named + OBJECTS_SQL)} || exit 1; "
                f"q=$({client} -N -B -r -e {shlex.quote(named + CONTENT_SQL)}) || exit 1; "
                f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {client} -N -B -r "
                "| sed 's/^/content /'")

    def quiet_command(self, server: DatabaseServer, database: str) -> str:
        # the server's part first (sql/mysql_quiet.sql), then the schema's md5 (the change
        # marker: views, routines, triggers and events live outside InnoDB); nothing when
        # the server's part is empty
        named = f"SET @db = {sql_str(database)};\n"
        return (f"l=$({CLIENT}{_socket_opt(server)} -N -B -r -e "
                f"{shlex.quote(named + QUIET_SQL)}) || exit 1; [ -n \"$l\" ] || exit 0; "
                f"m=$({self.change_marker_command(server, database)}) || exit 1; "
                "printf '%s %s\\n' \"$l\" \"${m%% *}\"")

    def change_marker_command(self, server: DatabaseServer, database: str) -> str:
        # the table definitions with their AUTO_INCREMENT, the routines, triggers and events
        return (f"s=$({DUMP}{_socket_opt(server)} --no-data --routines --triggers --events "
                f"--skip-dump-date --databases {shlex.quote(database)}) || exit 1; printf '%s' \"$s\" | md5sum")

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        name, client = _instance_name(dump), _target_client(dump)
        if name:
            target.run(instance_command(dump.engine.partition("@")[0], name), timeout=600,
                       check=True)
        if dump.database == USERS:
            # a user that exists already (a re-run) is kept: CREATE USER IF NOT EXISTS; every
            # statement runs (--force) and any error fails the step
            result = load(f"sed 's/^CREATE USER /CREATE USER IF NOT EXISTS /' | {client} --force")
            require_loaded(target, f"loading the {dump.engine} users and grants", result)
            return "users loaded"
        sql_name = dump.database.replace("'", "''")
        tables = count_total(target, f"{client} -N -B -e \"select count(*) from information_schema."
                             f"tables where table_schema = '{sql_name}'\"")
        if tables:
            return f"skipped: {dump.database} already has {tables} tables"
        require_loaded(target, f"restoring {dump.engine} {dump.database}", load(client),
                       error_line=re.compile(r"$^"))
        return "restored"

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        quoted = dump.database.replace("`", "``")
        drop = shlex.quote(f"DROP DATABASE IF EXISTS `{quoted}`")
        target.run(f"{_target_client(dump)} -e {drop}", timeout=300, check=True)

    def playbook_vars(self, dump_engine: str, database: str, owner: str) -> dict[str, Any]:
        """An instance beside the main server: ``instance`` (its name, unit and port), which
        the role starts from its carried configuration and loads into over its socket."""
        found = super().playbook_vars(dump_engine, database, owner)
        name, port = _name_of(dump_engine), instance_of(dump_engine).rpartition(":")[2]
        if found["role"] and name:
            engine = dump_engine.partition("@")[0]
            found["instance"] = {"name": name, "port": int(port),
                                 "unit": f"{'mysql' if engine == 'mysql' else 'mariadb'}"
                                         f"@{name}.service"}
        return found

    def query_command(self, database: str, query: str) -> str:
        return f"{CLIENT} -N -B -D {shlex.quote(database)} -e {shlex.quote(query)}"
