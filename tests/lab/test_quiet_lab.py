"""The quiet markers on lab-source's real servers (evacuate/engines/sql/postgresql_quiet.sql,
mysql_quiet.sql): the dump step (run_dump, as a snapshot runs it) keeps a database's dump
without reading its tables when the server says nothing in it changed, and takes it anew
after every kind of change the marker must see. ``kept == "quiet"`` is the dump step's own
record that the quiet line decided; for PostgreSQL the tables' scan counters prove that
no table of the kept database was read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from evacuate.engines import engine_for
from evacuate.engines.base import DumpJob
from evacuate.inventory.model import Database, DatabaseServer
from evacuate.lab.lab import Lab
from evacuate.snapshot.databases import run_dump
from evacuate.snapshot.manifest import DumpEntry
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.transport.base import Transport

PSQL = "runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d {db} -c "
LEDGER = ("create table entries (id serial primary key, note text); "
          "insert into entries (note) select 'entry ' || g from generate_series(1, 300) g")


@pytest.fixture
def source(lab: Lab) -> Iterator[Transport]:
    lab.reset("lab-source")
    try:
        with lab.open("lab-source") as transport:
            yield transport
    finally:
        lab.reset("lab-source")


def _jobs(engine: str, *databases: str) -> dict[str, DumpJob]:
    found = engine_for(engine)
    assert found is not None
    server = DatabaseServer(engine=engine, databases=tuple(Database(d) for d in databases))
    return {j.database: j for j in found.dump_jobs(server) if j.database in databases}


def _settled(source: Transport, job: DumpJob, kind: str) -> str:
    """The quiet line once it is of ``kind`` and the same twice in a row (a server that just
    booted or loaded data still vacuums, analyzes and purges for a while)."""
    assert job.quiet_command is not None
    deadline, last = time.monotonic() + 150, None
    while time.monotonic() < deadline:
        line = source.run(job.quiet_command, timeout=60, check=True).text.strip()
        if line.startswith(kind + " ") and line == last:
            return line
        last = line
        time.sleep(2)
    raise AssertionError(f"the quiet line of {job.database} did not settle: {last!r}")


def _scans(source: Transport, db: str) -> int:
    """How often this database's user tables were read (sequential and index scans)."""
    sql = "select coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) from pg_stat_user_tables"
    return int(source.run(PSQL.format(db=db) + f"'{sql}'", timeout=60, check=True).text)


def test_a_write_in_one_postgresql_database_keeps_the_others_dump_unread(
        source: Transport) -> None:
    """(a) an insert in shop moves the cluster's WAL, yet ledger, which nobody wrote to,
    keeps its dump by its own quiet line: its tables are not read at all; shop is dumped
    anew. (b) then each of TRUNCATE, DDL and a nextval alone in ledger has ledger dumped
    anew (its quiet line moved), and ledger left alone is kept again."""
    source.run(PSQL.format(db="postgres") + "'create database ledger'", check=True)
    source.run(PSQL.format(db="ledger") + f"\"{LEDGER}\"", check=True)
    jobs = _jobs("postgresql", "shop", "ledger")
    blobs = BlobStore(MemoryStore(), None)
    for db in jobs:
        _settled(source, jobs[db], "db")
    first = {db: run_dump(source, blobs, job) for db, job in jobs.items()}
    assert all(e.quiet.startswith("db ") and not e.kept for e in first.values())
    source.run(PSQL.format(db="shop")
               + "\"insert into customers (name, email) values ('Q', 'q@x.invalid')\"",
               check=True)
    scans = _scans(source, "ledger")
    time.sleep(1)  # that session gone from pg_stat_activity
    second = {db: run_dump(source, blobs, job, previous=first[db], previous_id="S1")
              for db, job in jobs.items()}
    assert second["ledger"].kept == "quiet" and second["ledger"].unchanged_since == "S1"
    assert second["ledger"].blob == first["ledger"].blob
    assert _scans(source, "ledger") == scans  # not one table of ledger was read
    assert not second["shop"].unchanged_since and second["shop"].blob != first["shop"].blob
    assert second["shop"].tables["public.customers"] == first["shop"].tables["public.customers"] + 1

    previous = second["ledger"]
    for change in ("truncate entries", "alter table entries add column extra int",
                   "select nextval('entries_id_seq')"):
        source.run(PSQL.format(db="ledger") + f"\"{change}\"", check=True)
        taken = run_dump(source, blobs, jobs["ledger"], previous=previous, previous_id="S2")
        assert taken.quiet != previous.quiet, change
        assert not taken.unchanged_since and not taken.kept, change  # dumped anew
        previous = taken
    _settled(source, jobs["ledger"], "db")
    again = run_dump(source, blobs, jobs["ledger"], previous=previous, previous_id="S3")
    assert again.kept in ("quiet", "checked") and again.unchanged_since == "S3"


def test_the_postgresql_quiet_line_names_what_vouches_for_it(source: Transport) -> None:
    """On the real server: the database's own line ("db") while no other session is in the
    database; with a session in it (counts it may not have published yet) the cluster's line
    ("wal"); with that session and an unlogged table, none. An unlogged table alone keeps
    the database's line, and a write into it moves it."""
    job = _jobs("postgresql", "shop")["shop"]
    assert job.quiet_command is not None

    def line() -> str:
        return source.run(job.quiet_command, timeout=60, check=True).text.strip()

    source.run(PSQL.format(db="shop") + "'create unlogged table scratch (x int)'", check=True)
    before = _settled(source, job, "db")
    source.run(PSQL.format(db="shop") + "'insert into scratch values (1)'", check=True)
    assert line().startswith("db ") and line() != before
    with source.open_process(PSQL.format(db="shop") + "'select pg_sleep(20)'") as proc:
        time.sleep(2)
        assert line() == ""  # a session in shop, and an unlogged table: no cluster line
        source.run(PSQL.format(db="shop") + "'drop table scratch'", check=True)
        cluster = line()
        assert cluster.startswith("wal ") and len(cluster.split()) == 4
        proc.wait(timeout=60)


def _mariadb(source: Transport, sql: str) -> None:
    source.run(f"mariadb -D blog -e \"{sql}\"", timeout=60, check=True)


def test_an_unchanged_mariadb_database_keeps_its_dump_by_the_quiet_line(
        source: Transport) -> None:
    """(c) blog unchanged: its dump kept by the quiet line (InnoDB's LSN, the server's
    start, the schema's md5); an InnoDB insert, a view, a MyISAM write each have it dumped
    anew; an Aria table gives no line (the full check decides)."""
    job = _jobs("mariadb", "blog")["blog"]
    blobs = BlobStore(MemoryStore(), None)
    _settled(source, job, "mariadb")
    first = run_dump(source, blobs, job)
    assert first.quiet.startswith("mariadb ") and first.marker
    kept = run_dump(source, blobs, job, previous=first, previous_id="S1")
    assert kept.kept == "quiet" and kept.blob == first.blob

    def after(change: Callable[[], None], previous: DumpEntry) -> DumpEntry:
        change()
        time.sleep(2.2)  # past the MyISAM modification time's second
        taken = run_dump(source, blobs, job, previous=previous, previous_id="S2")
        # dumped anew: neither kept by a quiet line nor by the full check; its line differs
        # from the previous one, or there is none (a MyISAM table's update time too close to
        # now on a loaded machine: then the full check decides, as it did here)
        assert taken.kept == "" and not taken.unchanged_since, taken
        assert not (taken.quiet and taken.quiet == previous.quiet), taken.quiet
        return taken

    taken = after(lambda: _mariadb(source, "insert into posts (title) values ('quiet')"), kept)
    taken = after(lambda: _mariadb(source, "create view titles as select title from posts"),
                  taken)
    taken = after(lambda: _mariadb(source, "create table notes (x int) engine=MyISAM"), taken)
    taken = after(lambda: _mariadb(source, "insert into notes values (1)"), taken)
    _settled(source, job, "mariadb")
    checked = run_dump(source, blobs, job, previous=taken, previous_id="S3")
    assert run_dump(source, blobs, job, previous=checked, previous_id="S4").kept == "quiet"
    _mariadb(source, "create table scratch (x int) engine=Aria")
    assert job.quiet_command is not None
    assert source.run(job.quiet_command, timeout=60, check=True).text.strip() == ""
