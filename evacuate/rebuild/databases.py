"""Restore database dumps from the store onto the target, streamed (no copy on disk).

Roles/users first (their dumps carry password hashes and are never written anywhere), then
each database, but only into a database that has no tables yet: a re-run or a resumed run
never loads data twice or over newer data.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from evacuate.errors import RemoteCommandError
from evacuate.snapshot.manifest import DumpEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

AS_PG = "runuser -u postgres --"
MYSQL = "$(command -v mariadb || command -v mysql)"


def _stream(target: Transport, blobs: BlobStore, dump: DumpEntry, command: str,
            progress: Callable[[int], None] | None) -> None:
    with target.open_process(command) as proc, blobs.open_blob(dump.blob) as blob:
        try:
            while chunk := blob.read(1 << 20):
                proc.stdin.write(chunk)
                if progress:
                    progress(len(chunk))
            proc.stdin.close()
        except OSError:
            pass  # the command stopped reading: its status says why
        status = proc.wait(timeout=3600)
        errors = proc.stderr_text().strip().splitlines()
    if status != 0:
        raise RemoteCommandError(f"{target.name}: restoring {dump.engine} {dump.database} failed "
                                 f"(exit {status}): {errors[-1] if errors else 'no message'}",
                                 exit_status=status)


def _count(target: Transport, command: str) -> int:
    text = target.run(command, timeout=120, check=True).text.strip()
    return int(text) if text.isdigit() else 0


def drop_database(target: Transport, dump: DumpEntry) -> None:
    """Drop the target's copy of a database (cutover: the final dump replaces it)."""
    if dump.database.startswith("*"):
        return
    if dump.engine == "postgresql":
        target.run(f"{AS_PG} dropdb --if-exists --force {shlex.quote(dump.database)}",
                   timeout=300, check=True)
    elif dump.engine in ("mariadb", "mysql"):
        quoted = dump.database.replace("`", "``")
        target.run(f"{MYSQL} -e {shlex.quote(f'DROP DATABASE IF EXISTS `{quoted}`')}",
                   timeout=300, check=True)


def restore_dump(target: Transport, blobs: BlobStore, dump: DumpEntry, owner: str = "",
                 progress: Callable[[int], None] | None = None) -> str:
    """Restore one dump; return what was done (restored / skipped: reason)."""
    name = shlex.quote(dump.database)
    if dump.engine == "postgresql":
        if dump.database == "*globals*":
            _stream(target, blobs, dump, f"{AS_PG} psql -Xq -v ON_ERROR_STOP=0 -d postgres "
                    "2>/dev/null", progress)
            return "roles loaded"
        sql_name = dump.database.replace("'", "''")
        exists = _count(target, f"{AS_PG} psql -XAt -d postgres -c \"select count(*) from "
                        f"pg_database where datname = '{sql_name}'\"")
        if not exists:
            owner_opt = f"-O {shlex.quote(owner)} " if owner and owner != "postgres" else ""
            target.run(f"{AS_PG} createdb {owner_opt}{name}", timeout=120, check=True)
        tables = _count(target, f"{AS_PG} psql -XAt -d {name} -c \"select count(*) from "
                        "pg_tables where schemaname not in ('pg_catalog', 'information_schema')\"")
        if tables:
            return f"skipped: {dump.database} already has {tables} tables"
        if not dump.tables:
            return "skipped: no tables in the dump"
        _stream(target, blobs, dump, f"{AS_PG} pg_restore -d {name} --exit-on-error", progress)
        return "restored"
    if dump.engine in ("mariadb", "mysql"):
        if dump.database == "*users*":
            _stream(target, blobs, dump, f"{MYSQL} --force 2>/dev/null; true", progress)
            return "users loaded"
        sql_name = dump.database.replace("'", "''")
        tables = _count(target, f"{MYSQL} -N -B -e \"select count(*) from information_schema."
                        f"tables where table_schema = '{sql_name}'\"")
        if tables:
            return f"skipped: {dump.database} already has {tables} tables"
        _stream(target, blobs, dump, MYSQL, progress)
        return "restored"
    return f"skipped: unknown engine {dump.engine}"


def restore_databases(target: Transport, blobs: BlobStore, manifest: SnapshotManifest,
                      owners: dict[str, str],
                      progress: Callable[[int], None] | None = None, *,
                      replace: bool = False, interrupted: str | None = None,
                      mark: Callable[[str | None], None] | None = None) -> dict[str, str]:
    """Restore every dump of ``manifest`` (roles/users first); return database → outcome.
    ``replace``: drop each database first (the cutover's final dump supersedes it).
    ``mark`` is told which database is being restored (None once all are), so that a run
    killed in the middle can say; ``interrupted`` is that database after such a kill: it
    is half restored, so it is dropped and restored again."""
    ordered = sorted(manifest.dumps, key=lambda d: (d.engine, not d.database.startswith("*")))
    if replace:
        for dump in ordered:
            if dump.tables:
                drop_database(target, dump)
    outcomes = {}
    for dump in ordered:
        key = f"{dump.engine}:{dump.database}"
        if key == interrupted and dump.tables and not replace:
            drop_database(target, dump)
        if mark is not None:
            mark(key)
        outcomes[key] = restore_dump(target, blobs, dump, owners.get(dump.database, ""),
                                     progress)
    if mark is not None:
        mark(None)
    return outcomes
