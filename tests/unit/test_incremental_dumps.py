"""A database that did not change since the previous snapshot keeps its dump: its schema's
md5, its row counts and its objects (a fingerprint of every table's rows) are read first,
and when all are as the previous dump recorded them, that dump is referred to, not taken
again. Real commands on this machine stand in for the database's (LocalTransport)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.engines.base import DumpJob
from evacuate.snapshot.databases import run_dump, unchanged
from evacuate.snapshot.manifest import OBJECTS_UNREAD
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.transport.local import LocalTransport

MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A 'database': files holding its schema, counts, objects and dump."""
    for name, text in (("schema", "create table t (id int);\n"), ("counts", "public.t\t2\n"),
                       ("objects", "owner\tshop\ncontent public.t\tabc\n"),
                       ("dump", "PGDMP rows 1 2\n")):
        (tmp_path / name).write_text(text)
    return tmp_path


def job(db: Path) -> DumpJob:
    return DumpJob("postgresql", "shop", "custom", f"cat {db}/dump",
                   counts_command=f"cat {db}/counts", objects_command=f"cat {db}/objects",
                   marker_command=f"md5sum < {db}/schema")


def test_an_unchanged_database_keeps_its_dump_and_a_change_takes_it_anew(db: Path) -> None:
    blobs, local = BlobStore(MemoryStore(), None), LocalTransport()
    first = run_dump(local, blobs, job(db))
    assert first.marker and first.objects["content public.t"] == "abc" and not first.unchanged_since
    added = blobs.stats.added
    (db / "dump").write_text("PGDMP a dump that would differ\n")  # were it taken again
    kept = run_dump(local, blobs, job(db), previous=first, previous_id="S1")
    assert kept.blob == first.blob and kept.unchanged_since == "S1"
    assert blobs.stats.added == added  # nothing read, nothing stored
    again = run_dump(local, blobs, job(db), previous=kept, previous_id="S2")
    assert again.unchanged_since == "S1"  # where the dump was taken
    for name, text in (("objects", "owner\tshop\ncontent public.t\tabd\n"),  # a row changed
                       ("counts", "public.t\t3\n"),
                       ("schema", "create table t (id int, x int);\n")):
        before = (db / name).read_text()
        (db / name).write_text(text)
        taken = run_dump(local, blobs, job(db), previous=first, previous_id="S1")
        assert taken.blob != first.blob and not taken.unchanged_since, name
        (db / name).write_text(before)



def test_a_quiet_server_keeps_the_dump_without_reading_its_tables(db: Path) -> None:
    """The quiet line (the server's own: WAL position, sequences) is read before the
    checks: the same line as the previous dump's keeps that dump without running the schema,
    counts or fingerprint commands (here they would fail); another line, or none, runs the
    full check, which decides as before and records the new line."""
    blobs, local = BlobStore(MemoryStore(), None), LocalTransport()
    (db / "quiet").write_text("7211 0/1A2B3C shop.s=5\n")
    quiet = replace(job(db), quiet_command=f"cat {db}/quiet")
    first = run_dump(local, blobs, quiet)
    assert first.quiet == "7211 0/1A2B3C shop.s=5" and first.marker
    failing = replace(quiet, counts_command="exit 3", objects_command="exit 3",
                      marker_command="exit 3")
    kept = run_dump(local, blobs, failing, previous=first, previous_id="S1")
    assert kept.blob == first.blob and kept.unchanged_since == "S1" and kept.kept == "quiet"
    (db / "quiet").write_text("7211 0/1A2B40 shop.s=5\n")  # the WAL moved (autovacuum)
    with pytest.raises(Exception, match="counting rows failed"):
        run_dump(local, blobs, failing, previous=first, previous_id="S1")
    rechecked = run_dump(local, blobs, quiet, previous=first, previous_id="S1")
    assert rechecked.unchanged_since == "S1" and rechecked.quiet == "7211 0/1A2B40 shop.s=5"
    assert rechecked.kept == "checked"
    (db / "quiet").write_text("")  # unlogged tables, or a standby: no line
    (db / "counts").write_text("public.t\t3\n")
    taken = run_dump(local, blobs, quiet, previous=rechecked, previous_id="S2")
    assert not taken.unchanged_since and taken.quiet == "" and not taken.kept


def test_without_a_full_fingerprint_every_dump_is_taken() -> None:
    from evacuate.snapshot.manifest import BlobRef, DumpEntry

    previous = DumpEntry("postgresql", "shop", "custom", BlobRef("0" * 64, 1, 1),
                         tables={"public.t": 2}, objects={"content public.t": "abc"},
                         marker=MD5)
    assert unchanged(previous, MD5, {"public.t": 2}, {"content public.t": "abc"})
    assert not unchanged(None, MD5, {"public.t": 2}, {"content public.t": "abc"})
    assert not unchanged(previous, "", {"public.t": 2}, {"content public.t": "abc"})
    assert not unchanged(replace(previous, marker=""), MD5, previous.tables, previous.objects)
    # a table the listing did not fingerprint, or a listing that failed
    assert not unchanged(replace(previous, objects={}), MD5, {"public.t": 2}, {})
    assert not unchanged(previous, MD5, {"public.t": 2}, {OBJECTS_UNREAD: "no"})


def test_pg_dumps_random_restrict_key_does_not_make_a_schema_look_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_dump since 15.14 wraps its script in ``\\restrict KEY`` / ``\\unrestrict KEY``
    with a new random KEY each run (lab-source's 15.14 does): the PostgreSQL marker is the
    same for the same schema and differs for another. runuser and pg_dump are stand-ins on
    PATH (the real ones need a PostgreSQL server); the marker's own sh, sed and md5sum run."""
    import secrets

    from evacuate.engines import engine_for
    from evacuate.inventory.model import DatabaseServer

    (tmp_path / "runuser").write_text('#!/bin/sh\nshift 3\nexec "$@"\n')
    (tmp_path / "pg_dump").write_text(
        "#!/bin/sh\nprintf '\\\\restrict %s\\n' \"$(cat key)\"\ncat schema\n"
        "printf '\\\\unrestrict %s\\n' \"$(cat key)\"\n")
    for name in ("runuser", "pg_dump"):
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    engine = engine_for("postgresql")
    assert engine is not None
    command = engine.change_marker_command(DatabaseServer(engine="postgresql"), "shop")

    def marker(schema: str) -> str:
        (tmp_path / "key").write_text(secrets.token_hex(16))
        (tmp_path / "schema").write_text(schema)
        result = LocalTransport().run(command, check=True)
        dumped = LocalTransport().run("pg_dump", check=True).text
        assert "\\restrict " in dumped and "create table" in dumped
        return result.text.split()[0]

    first = marker("create table t (id int);\n")
    assert marker("create table t (id int);\n") == first
    assert marker("create table t (id bigint);\n") != first


def test_a_first_dump_streams_alongside_its_checks(db: Path) -> None:
    """Without a previous dump nothing can be kept: the checks and the stream run at the
    same time. Forced: each of the two commands waits (up to 10 s) until the other has
    begun, so one run after the other fails the counts."""
    wait = ("i=0; while [ ! -f {f} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
            "[ -f {f} ] || exit 9; ")
    meeting = replace(
        job(db),
        command=f"touch {db}/streaming; " + wait.format(f=f"{db}/counting") + f"cat {db}/dump",
        counts_command=f"touch {db}/counting; " + wait.format(f=f"{db}/streaming")
        + f"cat {db}/counts")
    blobs = BlobStore(MemoryStore(), None)
    taken = run_dump(LocalTransport(), blobs, meeting)
    assert taken.tables == {"public.t": 2} and taken.marker
    assert blobs.read_blob(taken.blob) == b"PGDMP rows 1 2\n"
    # with a previous dump, the checks come first and decide: nothing streams when kept
    (db / "streaming").unlink()
    kept = run_dump(LocalTransport(), blobs, replace(job(db), command=f"touch {db}/streaming"),
                    previous=taken, previous_id="S1")
    assert kept.unchanged_since == "S1" and not (db / "streaming").exists()
