"""Snapshot freshness for `evacuate status`, on an in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from evacuate.actions.restore import cron_schedule, snapshot_status
from evacuate.snapshot.crypto import Cipher
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.store import BlobStore, MemoryStore
from evacuate.state import StateDir


def _manifest(host: str, snapshot_id: str) -> SnapshotManifest:
    return SnapshotManifest(id=snapshot_id, host=host, created="", tool_version="t", roots=(),
                            excludes=(), files=(), dumps=(), inventory={}, totals=Totals())


def test_age_beyond_max_age_is_stale(tmp_path: Path) -> None:
    repo = SnapshotRepository(BlobStore(MemoryStore(), Cipher(b"k" * 32)))
    repo.commit(_manifest("web1", "20261123T100000Z-aaaa"))
    repo.commit(_manifest("db1", "20261123T114500Z-bbbb"))
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    rows = {r.host: r for r in snapshot_status(repo, StateDir(tmp_path), ["web1", "db1", "new"],
                                                timedelta(minutes=30), now)}
    assert rows["web1"].stale and rows["web1"].age == timedelta(hours=2)
    assert not rows["db1"].stale
    assert rows["new"].stale and rows["new"].last_snapshot is None


def test_cron_schedules() -> None:
    assert cron_schedule("15m") == "*/15 * * * *"
    assert cron_schedule("1h") == "0 * * * *"
    assert cron_schedule("6h") == "0 */6 * * *"
    assert cron_schedule("1d") == "0 3 * * *"
