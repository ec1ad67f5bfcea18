"""A restore's archive staged on the host ahead of its extraction (while the target's
packages install) extracts to the same tree as the direct stream, and is gone afterwards;
a staging told to stop leaves nothing behind. Real tar, on the controller as the host
(LocalTransport), as tests/integration/test_sparse_restore.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evacuate.snapshot.files import snapshot_tree
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.restore import StagingStopped, restore_tree, stage_tree
from evacuate.snapshot.store import LocalStore
from evacuate.snapshot.store.blobs import BlobStore
from evacuate.transport.local import LocalTransport


def _tree(root: Path) -> dict[str, tuple[int, bytes | str]]:
    found: dict[str, tuple[int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        body: bytes | str = (os.readlink(path) if path.is_symlink() else
                             path.read_bytes() if path.is_file() else "")
        found[str(path.relative_to(root))] = (info.st_mode, body)
    return found


@pytest.fixture
def snapshot(tmp_path: Path) -> tuple[Path, SnapshotManifest, BlobStore]:
    source = tmp_path / "source"
    (source / "etc" / "app").mkdir(parents=True)
    (source / "srv" / "data").mkdir(parents=True)
    for i in range(300):
        (source / "srv" / "data" / f"note-{i}.txt").write_text(f"note {i}\n")
    (source / "srv" / "data" / "big.bin").write_bytes(os.urandom(3 << 20))
    (source / "etc" / "app" / "secret.conf").write_text("token = canary\n")
    (source / "etc" / "app" / "secret.conf").chmod(0o600)
    (source / "etc" / "app" / "current").symlink_to("secret.conf")
    blobs = BlobStore(LocalStore(tmp_path / "store"), None)
    tree = snapshot_tree(LocalTransport(), blobs, [str(source)], ())
    manifest = SnapshotManifest(
        id="staged", host="controller", created="2026-01-01T00:00:00Z", tool_version="test",
        roots=(str(source),), excludes=(), files=tuple(tree.entries), dumps=(), inventory={},
        totals=Totals(files=len(tree.entries)))
    return source, manifest, blobs


def test_a_staged_archive_restores_what_the_stream_restores_and_is_removed(
        tmp_path: Path, snapshot: tuple[Path, SnapshotManifest, BlobStore]) -> None:
    source, manifest, blobs = snapshot
    local = LocalTransport()
    streamed, staged_into = tmp_path / "streamed", tmp_path / "staged"
    direct = restore_tree(manifest, blobs, local, str(streamed))
    archive = tmp_path / "state" / "staged-files.tar"
    staged = stage_tree(manifest, blobs, local, str(archive))
    assert archive.exists() and oct(archive.stat().st_mode & 0o777) == "0o600"
    assert staged.result.files == direct.files == 302
    from_staged = restore_tree(manifest, blobs, local, str(staged_into), staged=staged)
    assert (from_staged.files, from_staged.bytes) == (direct.files, direct.bytes)
    assert _tree(staged_into) == _tree(streamed)
    assert _tree(staged_into / source.relative_to("/")) == _tree(source)
    assert not archive.exists() and not archive.with_name("staged-files.tar.part").exists()


def test_a_staging_told_to_stop_leaves_nothing(
        tmp_path: Path, snapshot: tuple[Path, SnapshotManifest, BlobStore]) -> None:
    _source, manifest, blobs = snapshot
    archive = tmp_path / "state" / "staged-files.tar"
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 20  # well into the stream

    with pytest.raises(StagingStopped):
        stage_tree(manifest, blobs, LocalTransport(), str(archive), stop=stop)
    assert len(asked) == 21
    assert not archive.exists() and not archive.with_name("staged-files.tar.part").exists()
