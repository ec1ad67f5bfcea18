"""PostgreSQL: the roles (``pg_dumpall --globals-only``, a secret: it carries password
hashes), then one custom-format ``pg_dump`` per database, restored into a database created
with its catalog owner; exact row counts per table, and the owners, grants, object
definitions and a content fingerprint per table (evacuate/engines/sql/) for verify. Everything runs as the
``postgres`` OS user over the local socket.

Each running cluster (Debian's ``pg_lsclusters``) is an instance of its own: a cluster beyond
the first is dumped on its port, its dumps tagged ``postgresql@VERSION-NAME:PORT``; the
restore makes that cluster on the target (``pg_createcluster VERSION NAME --port PORT``, the
source's carried /etc/postgresql/VERSION/NAME put back over the new one's) and starts
``postgresql@VERSION-NAME`` before loading into it.

A server in a container (evacuate.engines.in_containers) runs the same commands behind the
container CLI's ``exec`` (as ``postgres``), its dumps tagged ``postgresql@CLI:CONTAINER``; the
restore waits until the target's container answers, then loads into it.

The quiet line (``sql/postgresql_quiet.sql``, read before a dump's checks: the same line as
the previous dump's keeps that dump without reading a table) is the database's own when the
server's statistics can vouch for it, so that a write in one database does not send every
other database of the cluster to the full check. How each change is seen:

- INSERT, UPDATE, DELETE, COPY, MERGE: the relation's ``n_tup_ins/upd/del`` counters
  (``pg_stat_all_tables``), which only grow, and ``n_live_tup``; an aborted write counts
  too (a needless full check, never a missed change).
- DDL, GRANT, COMMENT, ALTER ... OWNER, large objects (``pg_largeobject`` and its metadata):
  rows of this database's system catalogs, counted the same way; ALTER DATABASE (a shared
  catalog, and so counted in every database): the database's ``pg_database`` row itself.
- TRUNCATE (of an empty table too), VACUUM FULL, CLUSTER, a table rewrite: a new file node
  (``pg_class.relfilenode``), read from the catalog, not from the statistics.
- ``nextval``/``setval``: no counter moves, so the line carries every sequence's value.
- Unlogged tables: their writes are counted like any other; a crash (which empties them)
  changes the postmaster's start time, which the line carries (with the system identifier:
  a new cluster, a restore).
- A statistics reset (``pg_stat_reset``, one table's counters): the database's
  ``stats_reset`` moves.
- Counters not flushed yet: a backend publishes its counts at exit, within 10 s of going
  idle and at the latest 60 s after it counted them, so a session that is running, in a
  transaction, or idle for less than 75 s may hold writes that the statistics do not show
  yet: then the database's line is not used.
- ``track_counts`` off (in the configuration, or set by any role, database or function):
  nothing is counted, no database line. A superuser's own ``SET track_counts = off`` in a
  session that writes and disconnects cannot be seen by another session: this is the one
  change the database line misses, and it needs a superuser hiding writes on purpose.
- Before PostgreSQL 15 the statistics collector may drop messages: no database line.
- A standby: no line at all (the full check decides).

When the database line is not used, the cluster's line is (system identifier, WAL position,
sequences: every logged change anywhere moves it), and none when an unlogged relation
exists. Any doubt gives another line or none, so the previous dump is never kept wrongly;
at worst the full check runs (schema, counts, fingerprints) and decides.
"""

from __future__ import annotations

import re
import shlex
from importlib import resources
from itertools import pairwise
from typing import Any

from evacuate.engines.base import (
    DumpJob,
    Engine,
    Loader,
    RestoreFailed,
    container_of,
    container_tag,
    count_total,
    exec_prefix,
    instance_of,
    require_loaded,
    sql_check,
    sql_file,
)
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.transport.base import Transport

AS_PG = "runuser -u postgres --"
DEFAULT_PGDATA = "/var/lib/postgresql/data"
"""The data directory of the official postgres image (and the lab's, made like it)."""
LIST_SQL = ("select current_setting('server_version'), datname, pg_get_userbyid(datdba) "
            "from pg_database where datallowconn order by datname")
READY_WAIT = 60
"""Seconds a container's server may take to answer after its container started (its
entrypoint makes the cluster first on an empty volume)."""


def _pg(server: DatabaseServer, stdin: bool = False) -> str:
    """Run a client program as ``postgres`` where ``server`` runs (its container, if any;
    ``stdin``: the program reads its standard input)."""
    return exec_prefix(server, user="postgres", stdin=stdin)


def _pg_of(dump: DumpEntry, stdin: bool = False) -> str:
    return exec_prefix(None, dump.engine, user="postgres", stdin=stdin)
GLOBALS = "*globals*"
COUNT_SQL = ("select string_agg(format('select %L, count(*) from %I.%I', "
             "schemaname || '.' || relname, schemaname, relname), ' union all ' "
             "order by schemaname, relname) from pg_stat_user_tables")
OBJECTS_SQL = sql_file("postgresql_objects.sql")
CONTENT_SQL = sql_file("postgresql_content.sql")
QUIET_SQL = sql_file("postgresql_quiet.sql")
HARMLESS = re.compile(r'ERROR:\s+42710: role "[^"]+" already exists$')
"""The one error a roles load may give: a role that exists already (postgres itself, or
every role on a re-run). Matched by SQLSTATE and exact message; any other error fails."""


def _port(server: DatabaseServer) -> str:
    return f"-p {int(server.port)}" if server.port else ""


def _target_port(dump: DumpEntry) -> str:
    """``-p PORT`` of the cluster a tagged dump goes to ("" for the first cluster's)."""
    port = instance_of(dump.engine).rpartition(":")[2]
    return f"-p {int(port)} " if port.isdigit() else ""


CLUSTER_PROGRAM = (resources.files("evacuate.engines") / "sh" / "postgresql_cluster.sh").read_text(
    encoding="utf-8")


def cluster_command(tag: str, conf_root: str = "/etc/postgresql") -> str:
    """sh making the cluster of ``tag`` (``VERSION-NAME:PORT``) on the target unless its
    data directory is there, then starting it (``sh/postgresql_cluster.sh``: the source's
    configuration of the cluster, carried with the files into /etc/postgresql/VERSION/NAME,
    goes back over the new cluster's)."""
    cluster, _, port = tag.rpartition(":")
    version, _, name = cluster.partition("-")
    if not (version.isdigit() and name and port.isdigit()):
        raise ValueError(f"not a PostgreSQL cluster: {tag!r}")
    args = (f"{conf_root}/{version}/{name}", version, name, port)
    return f"sh -c {shlex.quote(CLUSTER_PROGRAM)} postgresql_cluster " + " ".join(
        shlex.quote(a) for a in args)


def _check_custom(head: bytes, tail: bytes) -> str | None:
    return None if head.startswith(b"PGDMP") else "not a PostgreSQL custom-format dump"


def _wait_ready(target: Transport, pg: str, where: str) -> None:
    """Wait until the server in a container answers (RestoreFailed naming it otherwise)."""
    probe = (f"i=0; until {pg} pg_isready -q; do i=$((i+1)); "
             f"[ $i -lt {READY_WAIT} ] || exit 1; sleep 1; done")
    result = target.run(probe, timeout=READY_WAIT + 60)
    if not result.ok:
        raise RestoreFailed(f"{target.name}: PostgreSQL in {where} does not answer: "
                            + ((result.error_text.strip().splitlines() or ["no message"])[-1])[:300],
                            exit_status=result.exit_status or 1)


class PostgreSQL(Engine):
    name = "postgresql"
    handles = ("postgresql",)
    accounts = GLOBALS
    system_databases = frozenset({"template0", "template1"})
    default_owner = "postgres"
    release_bound_objects = frozenset({"view", "routine", "trigger", "extension"})
    units = ("postgresql",)
    instances = True
    role = "postgresql"

    container_programs = ("postgres",)

    def container_data_dir(self, env: dict[str, str], command: tuple[str, ...]) -> str:
        for flag, value in pairwise(command):
            if flag == "-D":
                return value
        return env.get("PGDATA") or DEFAULT_PGDATA

    def discover_command(self, server: DatabaseServer) -> str:
        return f"{_pg(server)} psql -XAt -F '	' -d postgres -v ON_ERROR_STOP=1 -c {shlex.quote(LIST_SQL)}"

    def instance_tag(self, server: DatabaseServer) -> str:
        if server.container:
            return container_tag(server)
        major = server.version.split(".")[0]
        return f"{major}-{server.cluster}:{int(server.port)}" \
            if major and server.cluster and server.port else ""

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        port = _port(server)
        jobs = [DumpJob("postgresql", GLOBALS, "sql",
                        f"{_pg(server)} pg_dumpall {port} --globals-only --quote-all-identifiers",
                        secret=True,
                        check=sql_check(b"PostgreSQL database cluster dump complete"))]
        for db in server.databases:
            if db.name in self.system_databases:
                continue
            jobs.append(DumpJob("postgresql", db.name, "custom",
                                f"{_pg(server)} pg_dump {port} -Fc -d {shlex.quote(db.name)}",
                                counts_command=self.counts_command(server, db.name),
                                objects_command=self.objects_command(server, db.name),
                                marker_command=self.change_marker_command(server, db.name),
                                quiet_command=self.quiet_command(server, db.name),
                                check=_check_custom))
        return jobs

    def unit_of(self, server: DatabaseServer) -> str | None:
        major = server.version.split(".")[0]
        return f"postgresql@{major}-{server.cluster}.service" if server.cluster and major \
            else None

    def counts_command(self, server: DatabaseServer, database: str) -> str:
        port, name = _port(server), shlex.quote(database)
        return (f"q=$({_pg(server)} psql -XAt {port} -d {name} -v ON_ERROR_STOP=1 -c "
                f"{shlex.quote(COUNT_SQL)}) || exit 1; [ -z \"$q\" ] && exit 0; "
                f"printf '%s\\n' \"$q\" | {_pg(server, stdin=True)} psql -XAt -F '\t' {port} -d {name} "
                "-v ON_ERROR_STOP=1")

    def objects_command(self, server: DatabaseServer, database: str) -> str:
        args = f"psql -XAt -F '\t' {_port(server)} -d {shlex.quote(database)} -v ON_ERROR_STOP=1"
        psql, piped = f"{_pg(server)} {args}", f"{_pg(server, stdin=True)} {args}"
        return (f"{psql} -c {shlex.quote(OBJECTS_SQL)} || exit 1; "
                f"q=$({psql} -c {shlex.quote(CONTENT_SQL)}) || exit 1; "
                f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {piped}")

    def quiet_command(self, server: DatabaseServer, database: str) -> str:
        return (f"{_pg(server)} psql -XAt {_port(server)} -d {shlex.quote(database)} "
                f"-v ON_ERROR_STOP=1 -c {shlex.quote(QUIET_SQL)}")

    def change_marker_command(self, server: DatabaseServer, database: str) -> str:
        # pg_dump since 15.14 / 16.10 / 17.6 wraps its script in \restrict KEY ...
        # \unrestrict KEY with a KEY drawn anew on every run: not part of the schema
        return (f"s=$({_pg(server)} pg_dump {_port(server)} --schema-only -d "
                f"{shlex.quote(database)}) || exit 1; printf '%s' \"$s\" | "
                "sed -e '/^\\\\restrict /d' -e '/^\\\\unrestrict /d' | md5sum")

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        tag, port, pg = instance_of(dump.engine), _target_port(dump), _pg_of(dump)
        cli, container = container_of(dump.engine)
        if container:  # its container runs on the target (the containers step started it)
            _wait_ready(target, pg, f"{cli} container {container}")
        elif tag:
            target.run(cluster_command(tag), timeout=300, check=True)
        if dump.database == GLOBALS:
            # every statement runs (a role that exists is no reason to skip the others);
            # errors are read, not discarded: only HARMLESS ones pass
            result = load(f"{_pg_of(dump, stdin=True)} psql {port}-Xq -v ON_ERROR_STOP=0 -v VERBOSITY=verbose "
                          "-d postgres")
            require_loaded(target, "loading the PostgreSQL roles", result, HARMLESS)
            return "roles loaded"
        name = shlex.quote(dump.database)
        sql_name = dump.database.replace("'", "''")
        exists = count_total(target, f"{pg} psql {port}-XAt -d postgres -c \"select count(*) "
                             f"from pg_database where datname = '{sql_name}'\"")
        if not exists:
            owner_opt = f"-O {shlex.quote(owner)} " if owner and owner != "postgres" else ""
            target.run(f"{pg} createdb {port}{owner_opt}{name}", timeout=120, check=True)
        tables = count_total(target, f"{pg} psql {port}-XAt -d {name} -c \"select count(*) from "
                             "pg_tables where schemaname not in ('pg_catalog', "
                             "'information_schema')\"")
        if tables:
            return f"skipped: {dump.database} already has {tables} tables"
        if not dump.tables:
            return "skipped: no tables in the dump"
        result = load(f"{_pg_of(dump, stdin=True)} pg_restore {port}-d {name} --exit-on-error")
        require_loaded(target, f"restoring {dump.engine} {dump.database}", result,
                       error_line=re.compile(r"$^"))
        return "restored"

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        pg = _pg_of(dump)
        target.run(f"{pg} dropdb {_target_port(dump)}--if-exists --force {shlex.quote(dump.database)}",
                   timeout=300, check=True)

    def query_command(self, database: str, query: str) -> str:
        return (f"{AS_PG} psql -XAt -v ON_ERROR_STOP=1 -d {shlex.quote(database)} "
                f"-c {shlex.quote(query)}")

    def playbook_vars(self, dump_engine: str, database: str, owner: str) -> dict[str, Any]:
        """A cluster beyond the first: ``cluster`` (version, name, port), which the role
        makes with sh/postgresql_cluster.sh and loads into on its port."""
        found = super().playbook_vars(dump_engine, database, owner)
        tag = instance_of(dump_engine)
        if found["role"] and tag:
            cluster, _, port = tag.rpartition(":")
            version, _, name = cluster.partition("-")
            found["cluster"] = {"version": version, "name": name, "port": int(port)}
        return found

    def dump_file(self, dump_engine: str, database: str) -> str:
        return (f"{dump_engine}-globals.sql" if database == GLOBALS
                else f"{dump_engine}-{database}.dump")
