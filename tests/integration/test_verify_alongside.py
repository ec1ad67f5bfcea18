"""verify reads the target's data trees alongside its inventory, not after it. This machine
stands in for the target (LocalTransport), checked against its own inventory; forced: the
inventory's script waits until the data trees' read has begun, so one after the other
fails."""

from __future__ import annotations

import threading

from evacuate.inventory import collect_inventory, to_json
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.transport.base import Command, CommandResult
from evacuate.transport.local import LocalTransport
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


def test_the_data_trees_are_read_alongside_the_targets_inventory() -> None:
    inventory = collect_inventory(LocalTransport(), host="here")
    manifest = SnapshotManifest(id="20261203T180000Z-abcd", host="here", created="",
                                tool_version="t", roots=(), excludes=(), files=(), dumps=(),
                                inventory=to_json(inventory), totals=Totals())
    target = MeetingTransport()
    report = verify_against_snapshot(manifest, target, target_address="127.0.0.1")
    assert target.inventory_waited and target.files_read.is_set()
    assert report.checks and {"inventory", "files"} <= set(report.timings)
