"""verify reads the target's data trees alongside its inventory, not after it. This machine
stands in for the target (LocalTransport), checked against its own inventory; forced: the
inventory's script waits until the data trees' read has begun, so one after the other
fails."""

from __future__ import annotations

import threading

import pytest

from evacuate.inventory import HostInventory, collect_inventory, to_json
from evacuate.snapshot.manifest import DumpEntry, SnapshotManifest, Totals
from evacuate.snapshot.store import BlobRef
from evacuate.transport.base import Command, CommandResult
from evacuate.transport.local import LocalTransport
from evacuate.verify.databases import MARK, CountResult
from evacuate.verify.engine import verify_against_snapshot


class MeetingTransport(LocalTransport):
    """The inventory's scripts wait (up to 10 s) for the data trees' read to start."""

    def __init__(self) -> None:
        super().__init__(name="target")
        self.files_read = threading.Event()
        self.inventory_waited = False

    def run(self, command: Command, *, input: bytes | None = None,
            timeout: float | None = None, check: bool = False) -> CommandResult:
        script = input.decode(errors="replace") if input else ""
        if command == "sh -s" and "@@EVAC-BEGIN" in script:
            assert self.files_read.wait(10), "the inventory ran before the data trees' read"
            self.inventory_waited = True
        elif isinstance(command, list) and any("--evacuate-verify-" in c for c in command):
            self.files_read.set()
        return super().run(command, input=input, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def inventory() -> HostInventory:
    return collect_inventory(LocalTransport(), host="here")


def test_the_data_trees_are_read_alongside_the_targets_inventory(
        inventory: HostInventory) -> None:
    manifest = SnapshotManifest(id="20261203T180000Z-abcd", host="here", created="",
                                tool_version="t", roots=(), excludes=(), files=(), dumps=(),
                                inventory=to_json(inventory), totals=Totals())
    target = MeetingTransport()
    report = verify_against_snapshot(manifest, target, target_address="127.0.0.1")
    assert target.inventory_waited and target.files_read.is_set()
    assert report.checks and {"inventory", "files"} <= set(report.timings)


class CountingTransport(LocalTransport):
    """Answers the databases' counts scripts itself (one table, 3 rows) and records them."""

    def __init__(self) -> None:
        super().__init__(name="target")
        self.counted: list[str] = []

    def run(self, command: Command, *, input: bytes | None = None,
            timeout: float | None = None, check: bool = False) -> CommandResult:
        script = input.decode(errors="replace") if input else ""
        if command == "sh -s" and MARK in script:
            names = [line.split("'")[3].split(" ", 2)[2] for line in script.splitlines()
                     if line.startswith(f"printf '%s\\n' '{MARK} ")]
            self.counted += names
            out = "".join(f"{MARK} postgresql {n}\npublic.t\t3\n@@rc 0\n" for n in names)
            return CommandResult(self.name, "sh -s", 0, out.encode(), b"", 0.0)
        return super().run(command, input=input, timeout=timeout, check=check)


def test_the_databases_the_caller_just_read_are_not_read_again(
        inventory: HostInventory) -> None:
    """The cutover's intact check read the databases it did not reload moments before its
    verify: verify takes those results (``counted``) and reads only the others."""
    dumps = tuple(DumpEntry("postgresql", name, "custom", BlobRef(c * 64, 1, 1),
                            tables={"public.t": 3}) for name, c in (("shop", "a"), ("blog", "b")))
    manifest = SnapshotManifest(id="20261206T180000Z-abcd", host="here", created="",
                                tool_version="t", roots=(), excludes=(), files=(), dumps=dumps,
                                inventory=to_json(inventory), totals=Totals())
    target = CountingTransport()
    report = verify_against_snapshot(manifest, target, target_address="127.0.0.1", counted=[
        CountResult("postgresql", "blog", {"public.t": 3})])
    assert target.counted == ["shop"]
    tables = {c.name: c.status.value for c in report.checks if c.name.endswith("public.t")}
    assert tables == {"shop: public.t": "pass", "blog: public.t": "pass"}, tables
