"""Verify counts (and fingerprints) each database on a channel of its own, side by side:
a transport whose scripts must all be in flight together (a barrier) answers only then,
so counting them one after another fails the test instead of slowing it."""

from __future__ import annotations

import threading

import pytest

from evacuate.inventory.model import DatabaseServer, HostInventory
from evacuate.snapshot.manifest import DumpEntry
from evacuate.snapshot.store import BlobRef
from evacuate.transport.base import CommandResult
from evacuate.transport.local import LocalTransport
from evacuate.verify.databases import MARK, count_rows


class Together(LocalTransport):
    """Answers each counts script once ``parties`` of them are in flight at once."""

    def __init__(self, parties: int) -> None:
        super().__init__(name="root@target:22")
        self.barrier = threading.Barrier(parties, timeout=10)
        self.scripts: list[str] = []

    def run_script(self, script: str, *, timeout: float | None = None,
                   check: bool = False) -> CommandResult:
        self.scripts.append(script)
        self.barrier.wait()  # BrokenBarrierError when the scripts run one after another
        out = "".join(f"{line.split(chr(39))[3]}\nitems\t{len(self.scripts)}\n@@rc 0\n"
                      for line in script.splitlines() if line.startswith(f"printf '%s\\n' '{MARK}"))
        return CommandResult(self.name, "sh -s", 0, out.encode(), b"", 0.0)


def _dump(engine: str, database: str, size: int) -> DumpEntry:
    return DumpEntry(engine, database, "custom", BlobRef("0" * 64, size, size),
                     tables={"items": 1})


def test_each_database_is_counted_on_a_channel_of_its_own_in_the_dumps_order() -> None:
    source = HostInventory(host="h", collected_at="now", databases=(
        DatabaseServer("postgresql", "15"), DatabaseServer("mysql", "10.11")))
    dumps = [_dump("postgresql", "small", 10), _dump("mysql", "shop", 300),
             _dump("postgresql", "big", 200)]
    transport = Together(parties=3)
    found = count_rows(transport, source, dumps)
    assert [(r.engine, r.database) for r in found] == [
        ("postgresql", "small"), ("mysql", "shop"), ("postgresql", "big")]
    assert all(len(s.split(MARK)) == 2 for s in transport.scripts)  # one database each
    assert all(r.counts == {"items": r.counts["items"]} and not r.error for r in found)


def test_one_channel_counts_them_in_one_script() -> None:
    source = HostInventory(host="h", collected_at="now",
                           databases=(DatabaseServer("postgresql", "15"),))
    transport = Together(parties=1)
    found = count_rows(transport, source, [_dump("postgresql", "a", 1),
                                           _dump("postgresql", "b", 1)], parallel=1)
    assert [r.database for r in found] == ["a", "b"] and len(transport.scripts) == 1


def test_counting_one_after_another_would_fail_here() -> None:
    """The barrier is what makes the first test able to fail."""
    transport = Together(parties=2)
    transport.barrier = threading.Barrier(2, timeout=0.2)
    with pytest.raises(threading.BrokenBarrierError):
        transport.run_script(f"printf '%s\\n' '{MARK} postgresql a'\n")
