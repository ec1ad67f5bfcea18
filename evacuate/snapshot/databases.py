"""Database dumps, streamed from the host into blobs with no temporary file on the host.

Each engine turns the inventory's view of a running server into dump jobs: the roles or
users with their grants (a secret: it carries password hashes), one native dump per
database (PostgreSQL custom format; MariaDB/MySQL --single-transaction with routines,
triggers and events), and exact row counts per table for verification. A dump whose
command fails, or whose stream does not look complete, fails the snapshot.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from evacuate.errors import EvacuateError
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.streams import CountingReader
from evacuate.transport.base import Transport

PG_SKIP = {"template0", "template1"}
MYSQL_SKIP = {"information_schema", "performance_schema", "sys", "mysql"}
MYSQL_SYSTEM_USERS = ("root", "mysql", "mariadb.sys", "debian-sys-maint", "mysql.sys",
                      "mysql.session", "mysql.infoschema", "")


class DumpFailed(EvacuateError):
    """A database dump failed or came out incomplete: the snapshot must not be committed."""


@dataclass(frozen=True)
class DumpJob:
    engine: str
    database: str
    format: str
    command: str
    secret: bool = False
    counts_command: str | None = None
    check: Callable[[bytes, bytes], str | None] = lambda head, tail: None


class _Edges:
    """Pass a stream through, keeping its first and last bytes for a completeness check."""

    def __init__(self, source: object, keep: int = 256) -> None:
        self.source, self.keep = source, keep
        self.head, self.tail = b"", b""

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.source.read(size)  # type: ignore[attr-defined]
        if data:
            if len(self.head) < self.keep:
                self.head += data[: self.keep - len(self.head)]
            self.tail = (self.tail + data)[-self.keep:]
        return data


def _pg_check(head: bytes, tail: bytes) -> str | None:
    return None if head.startswith(b"PGDMP") else "not a PostgreSQL custom-format dump"


def _sql_check(marker: bytes) -> Callable[[bytes, bytes], str | None]:
    def check(head: bytes, tail: bytes) -> str | None:
        return None if marker in tail else f"the dump does not end with '{marker.decode()}'"
    return check


def postgresql_jobs(server: DatabaseServer) -> list[DumpJob]:
    port = f"-p {int(server.port)}" if server.port else ""
    as_pg = "runuser -u postgres --"
    count_sql = ("select string_agg(format('select %L, count(*) from %I.%I', "
                 "schemaname || '.' || relname, schemaname, relname), ' union all ' "
                 "order by schemaname, relname) from pg_stat_user_tables")
    jobs = [DumpJob("postgresql", "*globals*", "sql",
                    f"{as_pg} pg_dumpall {port} --globals-only --quote-all-identifiers",
                    secret=True, check=_sql_check(b"PostgreSQL database cluster dump complete"))]
    for db in server.databases:
        if db.name in PG_SKIP:
            continue
        name = shlex.quote(db.name)
        counts = (f"q=$({as_pg} psql -XAt {port} -d {name} -v ON_ERROR_STOP=1 -c "
                  f"{shlex.quote(count_sql)}) || exit 1; [ -z \"$q\" ] && exit 0; "
                  f"printf '%s\\n' \"$q\" | {as_pg} psql -XAt -F '\t' {port} -d {name} "
                  "-v ON_ERROR_STOP=1")
        jobs.append(DumpJob("postgresql", db.name, "custom",
                            f"{as_pg} pg_dump {port} -Fc -d {name}",
                            counts_command=counts, check=_pg_check))
    return jobs


def mysql_jobs(server: DatabaseServer) -> list[DumpJob]:
    client = "$(command -v mariadb || command -v mysql)"
    dump = "$(command -v mariadb-dump || command -v mysqldump)"
    excluded = ", ".join(f"'{u}'" for u in MYSQL_SYSTEM_USERS)
    users_sql = ("SELECT CONCAT('SHOW CREATE USER ', QUOTE(user), '@', QUOTE(host), "
                 "'; SHOW GRANTS FOR ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user "
                 f"WHERE user NOT IN ({excluded}) ORDER BY user, host")
    users = (f"q=$({client} -N -B -r -e {shlex.quote(users_sql)}) || exit 1; "
             f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {client} -N -B -r "
             "| sed 's/$/;/' && echo '-- evacuate users dump complete'")
    jobs = [DumpJob(server.engine, "*users*", "sql", users, secret=True,
                    check=_sql_check(b"-- evacuate users dump complete"))]
    for db in server.databases:
        if db.name in MYSQL_SKIP:
            continue
        count_sql = ("SELECT CONCAT('SELECT ', QUOTE(CONCAT(table_schema, '.', table_name)), "
                     "', COUNT(*) FROM `', REPLACE(table_schema, '`', '``'), '`.`', "
                     "REPLACE(table_name, '`', '``'), '`;') FROM information_schema.tables "
                     f"WHERE table_type = 'BASE TABLE' AND table_schema = {_sql_str(db.name)} "
                     "ORDER BY table_name")
        counts = (f"q=$({client} -N -B -r -e {shlex.quote(count_sql)}) || exit 1; "
                  f"[ -z \"$q\" ] && exit 0; printf '%s\\n' \"$q\" | {client} -N -B -r")
        jobs.append(DumpJob(server.engine, db.name, "sql",
                            f"{dump} --single-transaction --routines --triggers --events "
                            f"--hex-blob --databases {shlex.quote(db.name)}",
                            counts_command=counts, check=_sql_check(b"-- Dump completed")))
    return jobs


def _sql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def jobs_for(server: DatabaseServer) -> list[DumpJob]:
    if server.engine == "postgresql":
        return postgresql_jobs(server)
    if server.engine in ("mariadb", "mysql"):
        return mysql_jobs(server)
    return []


def parse_counts(text: str) -> dict[str, int]:
    """Parse ``table<TAB>count`` lines."""
    counts = {}
    for line in text.splitlines():
        table, sep, count = line.rpartition("\t")
        if sep and count.strip().isdigit():
            counts[table] = int(count)
    return counts


def run_dump(transport: Transport, blobs: BlobStore, job: DumpJob,
             progress: Callable[[int], None] | None = None) -> DumpEntry:
    """Stream one dump into a blob; raise DumpFailed if it fails or looks incomplete."""
    what = f"{transport.name}: {job.engine} dump of {job.database}"
    counts: dict[str, int] = {}
    if job.counts_command:
        result = transport.run(job.counts_command, timeout=900)
        if not result.ok:
            raise DumpFailed(f"{what}: counting rows failed: "
                             f"{(result.error_text.strip().splitlines() or ['?'])[-1]}")
        counts = parse_counts(result.text)
    with transport.open_process(job.command) as proc:
        edges = _Edges(CountingReader(proc.stdout, progress))
        ref = blobs.put_stream(edges, secret=f"the {job.database} dump" if job.secret else "")  # type: ignore[arg-type]
        status = proc.wait(timeout=120)
        errors = proc.stderr_text().strip().splitlines()
    if status != 0:
        raise DumpFailed(f"{what} failed (exit {status}): {errors[-1] if errors else 'no message'}")
    problem = job.check(edges.head, edges.tail)
    if problem:
        raise DumpFailed(f"{what} is incomplete: {problem}")
    return DumpEntry(job.engine, job.database, job.format, ref, job.secret, counts)
