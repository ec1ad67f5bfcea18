"""SQLite: each database file the inventory found by its header (facts/sqlite.py), copied
with SQLite's online backup on the source (sh/sqlite_backup.sh: the sqlite3 CLI's
``.backup``, else python3's ``Connection.backup``, else the file itself when no transaction
is open on it: a weaker guarantee the plan names), restored atomically with its owner,
group and mode (sh/sqlite_restore.sh); verify compares the row count and a content
fingerprint of every table, the statements that made its tables, indexes, views and
triggers, its ``user_version`` and the file's owner and mode (sh/sqlite_inspect.py, by the
host's python3). The change marker is the md5 of the file and its -wal: an unchanged file
keeps its copy. A database's name is its path; the file and its -wal, -shm and -journal
are left out of the file tree (the copy carries them)."""

from __future__ import annotations

import glob
import shlex
from importlib import resources
from typing import Any

from evacuate.engines.base import DumpJob, Engine, Loader, require_loaded
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.transport.base import Transport

HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


def _program(name: str) -> str:
    return (resources.files("evacuate.engines") / "sh" / name).read_text(encoding="utf-8")


def _with_path(path: str, program: str, **values: str) -> str:
    assigned = "".join(f"evac_sqlite_{k}={shlex.quote(v)}\n" for k, v in values.items())
    return f"evac_sqlite_path={shlex.quote(path)}\n{assigned}{_program(program)}"


def _check_header(head: bytes, tail: bytes) -> str | None:
    return None if head.startswith(HEADER) else "not a SQLite database"


def _owner_mode(owner: str) -> tuple[str, str]:
    """``user:group:mode`` (the inventory's owner of a database file) → (user:group, mode)."""
    user_group, _, mode = owner.rpartition(":")
    if not user_group or not mode.isdigit():
        return "", ""
    return user_group, mode


class SQLite(Engine):
    name = "sqlite"
    handles = ("sqlite",)
    role = "sqlite"

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        return [DumpJob("sqlite", db.name, "sqlite", _with_path(db.name, "sqlite_backup.sh"),
                        counts_command=self.counts_command(server, db.name),
                        objects_command=self.objects_command(server, db.name),
                        marker_command=self.change_marker_command(server, db.name),
                        check=_check_header)
                for db in server.databases]

    def data_paths(self, server: DatabaseServer) -> tuple[str, ...]:
        return tuple(glob.escape(db.name) + side for db in server.databases
                     for side in ("", *SIDE_FILES))

    def plan_warnings(self, server: DatabaseServer) -> list[str]:
        names = ", ".join(db.name for db in server.databases)
        if server.version.startswith(("sqlite3", "python3")):
            return []
        return [f"SQLite {names}: the source has neither sqlite3 nor python3 for SQLite's "
                "online backup, so each file is copied when no transaction is open on it (no "
                "-journal or -wal with frames beside it), a weaker guarantee; its tables are "
                "counted and fingerprinted only where python3 is"]

    def counts_command(self, server: DatabaseServer, database: str) -> str:
        return self._inspect(database, "counts")

    def objects_command(self, server: DatabaseServer, database: str) -> str:
        return self._inspect(database, "objects")

    def change_marker_command(self, server: DatabaseServer, database: str) -> str:
        path = shlex.quote(database)
        return (f"[ -r {path} ] || exit 1; {{ cat {path} && if [ -f {path}-wal ]; then "
                f"cat {path}-wal; fi; }} | md5sum")

    def _inspect(self, database: str, mode: str) -> str:
        return _with_path(database, "sqlite_inspect.sh", mode=mode,
                          py=_program("sqlite_inspect.py"))

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        user_group, mode = _owner_mode(owner)
        script = _with_path(dump.database, "sqlite_restore.sh", owner=user_group, mode=mode)
        result = load(f"sh -c {shlex.quote(script)}")
        require_loaded(target, f"restoring the SQLite database {dump.database}", result)
        return "restored"

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        """Nothing to drop: a restore replaces the whole file, atomically."""

    def playbook_vars(self, dump_engine: str, database: str, owner: str) -> dict[str, Any]:
        """``file_owner`` (user:group) and ``file_mode`` of the file (the inventory's owner),
        "" when it did not say."""
        user_group, mode = _owner_mode(owner)
        return {**super().playbook_vars(dump_engine, database, owner),
                "file_owner": user_group, "file_mode": mode}

    def dump_file(self, dump_engine: str, database: str) -> str:
        return "sqlite-" + database.strip("/").replace("/", "_") + ".sqlite"
