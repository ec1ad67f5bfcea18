"""sqlite.sh run for real (sh, find, head, od, awk of this machine) on a tree of its own:
which files it reports as SQLite databases, by their header, among many that are not."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from evacuate.inventory.facts import FACTS_BY_NAME
from evacuate.inventory.facts.base import Fact
from evacuate.inventory.facts.sqlite import ROOTS
from evacuate.inventory.model import DatabaseServer
from evacuate.inventory.script import build_script, split_sections

FACT = FACTS_BY_NAME["sqlite"]


def _run(root: Path) -> tuple[DatabaseServer, ...]:
    roots = " ".join(ROOTS)
    assert roots in FACT.script
    fact = Fact(name=FACT.name, script=FACT.script.replace(roots, str(root)), parse=FACT.parse,
                default=FACT.default, timeout=60)
    out = subprocess.run(["sh", "-s"], input=build_script([fact]).encode(),
                         capture_output=True, check=True, timeout=60).stdout.decode()
    return FACT.parse(split_sections(out)[FACT.name].text)


def _database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
        db.execute("insert into t values (1)")
    db.close()
    path.chmod(0o640)


def test_databases_are_told_by_their_header_among_many_files(tmp_path: Path) -> None:
    root = tmp_path / "srv"
    (root / "app").mkdir(parents=True)
    expected = set()
    for i in range(40):  # page-sized files that are not databases, around the databases
        (root / "app" / f"f{i:02}.bin").write_bytes(bytes([i]) * 1024)
        if i % 13 == 5:
            _database(root / "app" / f"f{i:02}.db")
            expected.add(str(root / "app" / f"f{i:02}.db"))
    # "SQLite format 3" without the NUL, and a real header on a file of no whole page
    (root / "app" / "notes.txt").write_bytes(b"SQLite format 3\n" + b"x" * 496)
    (root / "app" / "cut.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 1000)
    (root / "app" / "spaced name.sqlite").write_bytes((root / "app" / "f05.db").read_bytes())
    (root / "app" / "spaced name.sqlite").chmod(0o640)
    expected.add(str(root / "app" / "spaced name.sqlite"))
    found = _run(root)
    assert len(found) == 1
    assert {d.name for d in found[0].databases} == expected
    assert all(d.owner.endswith(":640") for d in found[0].databases)


def test_a_tree_without_databases_finds_none(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "page.bin").write_bytes(b"\x00" * 4096)
    found = _run(tmp_path / "srv")
    assert all(not d.name.startswith(str(tmp_path)) for s in found for d in s.databases)
