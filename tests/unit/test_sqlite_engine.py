"""The SQLite engine's programs (evacuate/engines/sh/sqlite_*), run for real on this
machine against a database made by the sqlite3 CLI (WAL mode, an index, a view, a trigger,
a user_version, text with a tab, a blob): the online backup by sqlite3, by python3 and the
guarded copy without either, the counts and objects that verify compares, the change
marker, the atomic restore with owner and mode; and the engine's place in the protocol."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evacuate.engines import engine_for, plan_warnings, selected_servers
from evacuate.engines.base import parse_objects
from evacuate.engines.sqlite import SQLite
from evacuate.inventory.model import Database, DatabaseServer, HostInventory
from evacuate.snapshot.databases import parse_counts, unchanged
from evacuate.snapshot.exclusion import Exclusion
from evacuate.snapshot.manifest import DumpEntry
from evacuate.snapshot.store import BlobRef
from evacuate.verify.databases import CountResult, compare_databases

SQLITE3 = shutil.which("sqlite3")
# a python3 binary itself (a pyenv shim is a bash script, which the PATH below lacks)
PYTHON3 = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else os.path.realpath(
    sys.executable)
needs_sqlite3 = pytest.mark.skipif(SQLITE3 is None, reason="sqlite3 CLI not installed")
SCHEMA = '''PRAGMA journal_mode=WAL;
PRAGMA user_version=7;
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, avatar BLOB);
CREATE INDEX users_name ON users(name);
CREATE TABLE log (at TEXT, what TEXT);
CREATE VIEW names AS SELECT name FROM users;
CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO log VALUES ('now', NEW.name); END;
INSERT INTO users (name, avatar) VALUES ('anna', x'00ff'), ('ben	tab', NULL), ('carl', x'');
CREATE TABLE "odd ""name""" (v REAL);
INSERT INTO "odd ""name""" VALUES (1.5), (0.1);
'''
ENGINE = SQLite()


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "app.db"
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.close()
    path.chmod(0o640)
    return path


def _server(path: Path, tool: str = "sqlite3 3.40.1") -> DatabaseServer:
    return DatabaseServer("sqlite", version=tool, databases=(Database(str(path)),))


def _bin(tmp_path: Path, *tools: str) -> str:
    """A PATH with only ``tools`` (and what the programs use besides) from this machine."""
    where = tmp_path / "bin"
    where.mkdir(exist_ok=True)
    for tool in ("sh", "cat", "mktemp", "rm", "od", "tr", "sed", "dirname", "chown", "chmod",
                 "mv", "md5sum", "sleep", *tools):
        found = PYTHON3 if tool == "python3" else shutil.which(tool)
        assert found is not None, tool
        if not (where / tool).exists():
            (where / tool).symlink_to(found)
    return str(where)


def _sh(command: str, path: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", command], input=stdin, capture_output=True,
                          check=False, env={"PATH": path, "TMPDIR": os.environ.get("TMPDIR", "/tmp")})


def _job_output(path: Path, what: str, tools: str, before: str = ""
                ) -> subprocess.CompletedProcess[bytes]:
    job = ENGINE.dump_jobs(_server(path))[0]
    command = {"dump": job.command, "counts": job.counts_command,
               "objects": job.objects_command, "marker": job.marker_command}[what]
    assert command is not None
    return _sh(before + command, tools)


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    found = {n: sorted(con.execute(f'SELECT * FROM "{n.replace(chr(34), chr(34) * 2)}"'),
                       key=repr) for n in names}
    con.close()
    return found


@needs_sqlite3
@pytest.mark.parametrize("tools", [("sqlite3",), ("python3",)], ids=["sqlite3", "python3"])
def test_the_online_backup_holds_every_row(tmp_path: Path, tools: tuple[str, ...]) -> None:
    path = _db(tmp_path)
    writer = sqlite3.connect(path)  # an open connection with WAL frames not checkpointed
    writer.execute("INSERT INTO users (name) VALUES ('dora')")
    writer.commit()
    assert (path.parent / "app.db-wal").stat().st_size > 0
    before = sorted(p.name for p in path.parent.iterdir())
    done = _job_output(path, "dump", _bin(tmp_path, *tools))
    after = sorted(p.name for p in path.parent.iterdir())
    writer.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"SQLite format 3\x00")
    copy = tmp_path / "copy.db"
    copy.write_bytes(done.stdout)
    assert _tables(copy) == _tables(path) and len(_tables(copy)["users"]) == 4
    assert before == ["app.db", "app.db-shm", "app.db-wal"]
    assert after == before
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("evacuate-sqlite.*"))


def test_without_sqlite3_or_python3_a_file_being_written_is_refused(tmp_path: Path) -> None:
    path = _db(tmp_path)
    tools = _bin(tmp_path)
    done = _job_output(path, "dump", tools)
    assert done.returncode == 0 and done.stdout == path.read_bytes()  # no -wal: copied
    (path.parent / "app.db-wal").write_bytes(b"frames")
    refused = _job_output(path, "dump", tools, "evac_sqlite_tries=1\n")
    assert refused.returncode == 1 and b"is being written" in refused.stderr


@needs_sqlite3
def test_counts_by_python3_and_by_the_sqlite3_cli_agree(tmp_path: Path) -> None:
    path = _db(tmp_path)
    by_python = _job_output(path, "counts", _bin(tmp_path, "python3"))
    other = tmp_path / "other"
    other.mkdir()
    by_cli = _job_output(path, "counts", _bin(other, "sqlite3"))
    assert by_python.returncode == 0 and by_cli.returncode == 0, by_cli.stderr
    expected = {"users": 3, "log": 3, 'odd "name"': 2}
    assert parse_counts(by_python.stdout.decode()) == expected
    assert parse_counts(by_cli.stdout.decode()) == expected


@needs_sqlite3
def test_the_objects_of_a_copy_are_the_sources_and_a_changed_row_shows(tmp_path: Path
                                                                       ) -> None:
    path = _db(tmp_path)
    tools = _bin(tmp_path, "python3")
    objects = parse_objects(_job_output(path, "objects", tools).stdout.decode())
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    assert objects["file owner"] == f"{user}:{group}:640"
    assert objects["pragma user_version"] == "7"
    assert {k.split(" ", 1)[0] for k in objects} == {
        "content", "relation", "index", "view", "trigger", "pragma", "file"}
    assert {k for k in objects if k.startswith("content ")} == {
        "content users", "content log", 'content odd "name"'}
    backup = _job_output(path, "dump", _bin(tmp_path, "sqlite3")).stdout
    copy = tmp_path / "copy" / "app.db"
    copy.parent.mkdir()
    copy.write_bytes(backup)
    copy.chmod(0o640)
    copied = parse_objects(_job_output(copy, "objects", tools).stdout.decode())
    assert copied == objects
    con = sqlite3.connect(copy)
    con.execute("UPDATE users SET name = 'anne' WHERE name = 'anna'")  # the same count
    con.commit()
    con.close()
    changed = parse_objects(_job_output(copy, "objects", tools).stdout.decode())
    assert [k for k in objects if changed[k] != objects[k]] == ["content users"]


@needs_sqlite3
def test_the_marker_moves_with_a_write_only(tmp_path: Path) -> None:
    path = _db(tmp_path)
    tools = _bin(tmp_path)
    first = _job_output(path, "marker", tools).stdout.split()[0]
    assert len(first) == 32 and _job_output(path, "marker", tools).stdout.split()[0] == first
    subprocess.run([SQLITE3 or "sqlite3", str(path), "UPDATE log SET what = 'x'"], check=True)
    assert _job_output(path, "marker", tools).stdout.split()[0] != first
    path.unlink()
    gone = _job_output(path, "marker", tools)
    assert gone.returncode != 0 and gone.stdout == b""  # no md5 of nothing


def test_the_restore_replaces_the_file_atomically_with_owner_and_mode(tmp_path: Path) -> None:
    source = _db(tmp_path)
    target = tmp_path / "target" / "app.db"
    target.parent.mkdir()
    target.write_bytes(b"SQLite format 3\x00an older database")
    for side in ("-wal", "-shm", "-journal"):  # the older file's: SQLite would apply them
        (target.parent / f"app.db{side}").write_bytes(b"stale")
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    loaded: list[str] = []

    def load(command: str):  # type: ignore[no-untyped-def]
        from evacuate.engines.base import LoadResult
        loaded.append(command)
        done = _sh(command, _bin(tmp_path), source.read_bytes())
        return LoadResult(done.returncode, tuple(done.stderr.decode().splitlines()))

    dump = DumpEntry("sqlite", str(target), "sqlite", BlobRef("0" * 64, 1, 1), False, {"users": 3})
    assert ENGINE.restore(None, load, dump, f"{user}:{group}:600") == "restored"  # type: ignore[arg-type]
    assert target.read_bytes() == source.read_bytes()
    assert oct(target.stat().st_mode & 0o7777) == "0o600"
    assert sorted(p.name for p in target.parent.iterdir()) == ["app.db"]


def test_a_restore_of_something_else_fails_and_leaves_the_file(tmp_path: Path) -> None:
    from evacuate.engines.base import LoadResult, RestoreFailed
    target = tmp_path / "app.db"
    target.write_bytes(b"SQLite format 3\x00kept")

    def load(command: str) -> LoadResult:
        done = _sh(command, _bin(tmp_path), b"<html>not a database</html>")
        return LoadResult(done.returncode, tuple(done.stderr.decode().splitlines()))

    dump = DumpEntry("sqlite", str(target), "sqlite", BlobRef("0" * 64, 1, 1), False, {})

    class Named:
        name = "target"

    with pytest.raises(RestoreFailed, match="not a SQLite database"):
        ENGINE.restore(Named(), load, dump, "")  # type: ignore[arg-type]
    assert target.read_bytes() == b"SQLite format 3\x00kept"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_engine_is_found_by_name_and_leaves_its_files_out_of_the_tree() -> None:
    server = DatabaseServer("sqlite", version="sqlite3 3.40.1", databases=(
        Database("/var/lib/app/data.db", owner="www-data:www-data:660"),
        Database("/srv/odd [1]/x.sqlite")))
    assert engine_for("sqlite") is ENGINE.__class__() or isinstance(engine_for("sqlite"), SQLite)
    exclusion = Exclusion(database_dirs=ENGINE.data_paths(server))
    for path in ("/var/lib/app/data.db", "/var/lib/app/data.db-wal", "/var/lib/app/data.db-shm",
                 "/var/lib/app/data.db-journal", "/srv/odd [1]/x.sqlite"):
        assert not exclusion.classify(path, None, "file").carried, path
    for path in ("/var/lib/app/data.db.bak", "/var/lib/app/other.db", "/srv/odd 1/x.sqlite"):
        assert exclusion.classify(path, None, "file").carried, path
    assert [j.database for j in ENGINE.dump_jobs(server)] == [
        "/var/lib/app/data.db", "/srv/odd [1]/x.sqlite"]
    assert ENGINE.dump_file("sqlite", "/var/lib/app/data.db") == "sqlite-var_lib_app_data.db.sqlite"


def test_the_setting_turns_it_off_and_the_plan_names_a_weaker_copy() -> None:
    copy = DatabaseServer("sqlite", version="copy", databases=(Database("/srv/a.db"),))
    assert selected_servers([copy], {"sqlite": False}).as_files == (copy,)
    assert selected_servers([copy], {}).dumped == (copy,)
    source = HostInventory(host="h", collected_at="", databases=(copy,))  # type: ignore[call-arg]
    warned = plan_warnings(source, [("sqlite", "/srv/a.db")])
    assert len(warned) == 1 and "/srv/a.db" in warned[0] and "weaker" in warned[0]
    assert plan_warnings(source, []) == []  # not dumped: nothing said of its copy
    online = DatabaseServer("sqlite", version="python3 3.40.1", databases=(Database("/srv/a.db"),))
    assert plan_warnings(HostInventory(host="h", collected_at="", databases=(online,)),  # type: ignore[call-arg]
                         [("sqlite", "/srv/a.db")]) == []


def test_verify_fails_a_changed_table_and_a_changed_owner() -> None:
    dump = DumpEntry("sqlite", "/srv/a.db", "sqlite", BlobRef("0" * 64, 1, 1), False,
                     {"users": 3}, objects={"content users": "a" * 32, "relation users": "b" * 32,
                                            "file owner": "www-data:www-data:660"})
    found = CountResult("sqlite", "/srv/a.db", {"users": 3},
                        objects={"content users": "c" * 32, "relation users": "b" * 32,
                                 "file owner": "root:root:644"})
    checks = {c.name: c for c in compare_databases([dump], [found])}
    assert checks["/srv/a.db: users"].status.name == "FAIL"
    assert "content differs" in checks["/srv/a.db: users"].detail
    assert checks["/srv/a.db: file"].status.name == "FAIL"
    assert checks["/srv/a.db: relation"].status.name == "PASS"
    assert all(c.area == "databases" for c in checks.values())


def test_an_unchanged_database_keeps_its_copy() -> None:
    objects = {"content users": "a" * 32, "relation users": "b" * 32}
    before = DumpEntry("sqlite", "/srv/a.db", "sqlite", BlobRef("0" * 64, 1, 1), False,
                       {"users": 3}, objects=objects, marker="d" * 32)
    assert unchanged(before, "d" * 32, {"users": 3}, dict(objects))
    assert not unchanged(before, "e" * 32, {"users": 3}, dict(objects))


@needs_sqlite3
@pytest.mark.parametrize("tools", [("sqlite3",), ("python3",)], ids=["sqlite3", "python3"])
def test_reading_a_closed_wal_database_leaves_no_wal_or_shm_beside_it(
        tmp_path: Path, tools: tuple[str, ...]) -> None:
    path = _db(tmp_path)  # in WAL mode, every connection closed: the -wal and -shm removed
    assert sorted(p.name for p in path.parent.iterdir()) == ["app.db"]
    content = path.read_bytes()
    for what in ("dump", "counts", *(("objects",) if "python3" in tools else ())):
        done = _job_output(path, what, _bin(tmp_path, *tools))
        assert done.returncode == 0, (what, done.stderr)
        assert sorted(p.name for p in path.parent.iterdir()) == ["app.db"], what
    assert path.read_bytes() == content
