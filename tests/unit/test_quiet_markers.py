"""The dump step's decision on quiet lines the lab's real servers printed (captured in
fixtures/quiet/lab_source.json between the changes its keys name): the same line as the
previous dump's keeps that dump without one table read (the checks here would fail); any
other line, or none, sends the database to the full check. The lab tests
(tests/lab/test_quiet_lab.py) run the same on the live servers."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

from evacuate.cli.snapshot_cmds import _kept_dumps
from evacuate.engines.base import DumpJob
from evacuate.snapshot.databases import DumpFailed, run_dump
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.transport.local import LocalTransport

LINES: dict[str, str] = json.loads(
    (Path(__file__).parent / "fixtures" / "quiet" / "lab_source.json").read_text())


def _previous(engine: str, database: str, quiet: str) -> DumpEntry:
    return DumpEntry(engine, database, "custom", BlobRef("a" * 64, 10, 10),
                     tables={"public.entries": 300}, objects={"content public.entries": "x"},
                     marker="0" * 32, quiet=quiet)


def _decide(engine: str, database: str, before: str, now: str) -> DumpEntry:
    """run_dump with the previous dump's line ``before`` and the server printing ``now``;
    the schema, counts and fingerprint commands fail, so reaching them raises."""
    job = DumpJob(engine, database, "custom", "exit 3", counts_command="exit 3",
                  objects_command="exit 3", marker_command="exit 3",
                  quiet_command=f"printf '%s\\n' {shlex.quote(now)}")
    return run_dump(LocalTransport(), BlobStore(MemoryStore(), None), job,
                    previous=_previous(engine, database, before), previous_id="S1")


def test_a_write_in_shop_keeps_ledgers_dump_by_its_own_line() -> None:
    """shop's insert moved the cluster's WAL; ledger's own line stayed as it was."""
    assert LINES["pg_ledger_first"].startswith("db ")
    kept = _decide("postgresql", "ledger", LINES["pg_ledger_first"],
                   LINES["pg_ledger_after_shop_write"])
    assert kept.kept == "quiet" and kept.unchanged_since == "S1" and kept.blob.size == 10
    with pytest.raises(DumpFailed, match="counting rows failed"):
        _decide("postgresql", "shop", LINES["pg_shop_first"], LINES["pg_shop_after_shop_write"])


@pytest.mark.parametrize(("before", "after"), [
    ("pg_ledger_after_shop_write", "pg_ledger_after_truncate"),
    ("pg_ledger_after_truncate", "pg_ledger_after_ddl"),
    ("pg_ledger_after_ddl", "pg_ledger_after_nextval"),
    ("pg_ledger_after_nextval", "pg_ledger_session_open"),  # "wal": the cluster's line
    ("pg_ledger_session_open", "pg_ledger_session_open_unlogged"),  # none
    ("my_again", "my_after_insert"),
    ("my_after_insert", "my_with_myisam"),
    ("my_with_myisam", "my_myisam_just_written"),  # none: written this second
    ("my_with_myisam", "my_myisam_written"),  # InnoDB's LSN did not move, the MyISAM part did
    ("my_myisam_written", "my_with_aria"),  # none: an Aria table
])
def test_every_change_the_servers_showed_sends_the_database_to_the_full_check(
        before: str, after: str) -> None:
    assert LINES[before] != LINES[after]
    with pytest.raises(DumpFailed, match="counting rows failed"):
        _decide("postgresql", "ledger", LINES[before], LINES[after])


def test_an_unchanged_mariadb_server_keeps_the_dump_and_no_line_never_matches() -> None:
    assert LINES["my_first"] == LINES["my_again"] and LINES["my_first"].startswith("mariadb ")
    assert _decide("mariadb", "blog", LINES["my_first"], LINES["my_again"]).kept == "quiet"
    # two empty lines are no evidence: the previous dump recorded none, the server says none
    with pytest.raises(DumpFailed, match="counting rows failed"):
        _decide("mariadb", "blog", LINES["my_with_aria"], LINES["my_with_aria"])


def test_the_snapshot_summary_names_the_dumps_the_quiet_marker_kept() -> None:
    ref = BlobRef("a" * 64, 1, 1)
    dumps = (DumpEntry("postgresql", "shop", "custom", ref, unchanged_since="S1", kept="quiet"),
             DumpEntry("postgresql", "ledger", "custom", ref, unchanged_since="S1",
                       kept="checked"),
             DumpEntry("mariadb", "blog", "sql", ref))
    said = _kept_dumps(SimpleNamespace(dumps=dumps))  # type: ignore[arg-type]
    assert said == (", 2 databases unchanged (their dumps kept; 1 told by the server's quiet "
                    "marker, no table read)")
