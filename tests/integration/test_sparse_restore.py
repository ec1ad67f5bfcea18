"""Sparse files come back sparse: a snapshot of a real tree on the controller (as a host,
LocalTransport) records which files have holes, and a restore digs them again, with the
same bytes and mtime. The lab test (tests/lab/test_snapshot_lab.py) checks the same across
two hosts; this one needs no lab."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evacuate.snapshot.files import snapshot_tree
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.restore import restore_tree
from evacuate.snapshot.store import LocalStore
from evacuate.snapshot.store.blobs import BlobStore
from evacuate.transport.local import LocalTransport

MiB = 2**20


def _allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def _seed(root: Path) -> Path:
    """A 16 MiB file with 8 KiB of data at 1 MiB and at its end, holes elsewhere."""
    (root / "data").mkdir(parents=True)
    sparse = root / "data" / "sparse.img"
    with sparse.open("wb") as f:
        f.truncate(16 * MiB)
        f.seek(MiB)
        f.write(b"x" * 8192)
        f.seek(16 * MiB - 4096)
        f.write(b"y" * 4096)
    (root / "data" / "dense.bin").write_bytes(os.urandom(64 * 1024))
    os.utime(sparse, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    if _allocated(sparse) >= MiB:
        pytest.fail(f"{root}: this filesystem does not keep holes; the test cannot tell")
    return sparse


def test_sparse_file_is_recorded_and_restored_sparse(tmp_path: Path) -> None:
    source, dest = tmp_path / "source", tmp_path / "restored"
    sparse = _seed(source)
    blobs = BlobStore(LocalStore(tmp_path / "store"), None)
    local = LocalTransport()
    tree = snapshot_tree(local, blobs, [str(source)], ())
    by_name = {e.path: e for e in tree.entries}
    assert by_name[str(sparse)].sparse, "the snapshot records the holes"
    assert not by_name[str(source / "data" / "dense.bin")].sparse
    manifest = SnapshotManifest(
        id="sparse", host="controller", created="2026-01-01T00:00:00Z", tool_version="test",
        roots=(str(source),), excludes=(), files=tuple(tree.entries), dumps=(), inventory={},
        totals=Totals(files=len(tree.entries)))

    restore_tree(manifest, blobs, local, str(dest))

    restored = dest / sparse.relative_to("/")
    assert restored.read_bytes() == sparse.read_bytes()
    assert restored.stat().st_size == 16 * MiB
    assert _allocated(restored) < MiB, f"restored dense: {_allocated(restored)} bytes allocated"
    assert restored.stat().st_mtime_ns == sparse.stat().st_mtime_ns
