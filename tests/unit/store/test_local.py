"""What only the local directory store promises: permissions, no temp files left behind."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.errors import StoreError
from evacuate.snapshot.store import LocalStore


class Broken(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        raise ConnectionResetError("source went away")


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, int]:
    return {str(path.relative_to(root)): path.stat().st_mode & 0o777
            for path in [root, *root.rglob("*")]}


def test_directories_0700_files_0600_whatever_the_umask(tmp_path: Path, umask_zero: None) -> None:
    store = LocalStore(tmp_path / "store")
    store.init(create=True)
    store.put_bytes("blobs/ab/abcdef", b"x")
    store.put_bytes("snapshots/one.json", b"{}")
    found = modes(tmp_path / "store")
    assert found == {".": 0o700, "blobs": 0o700, "blobs/ab": 0o700, "blobs/ab/abcdef": 0o600,
                     "snapshots": 0o700, "snapshots/one.json": 0o600}


def test_failed_source_leaves_no_temp_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.put("a/b", io.BufferedReader(Broken()))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_list_ignores_leftover_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/real", b"x")
    (tmp_path / "a" / ".tmp-real.123456").write_bytes(b"partial")
    assert list(store.list()) == ["a/real"]


def test_leftover_temp_files_older_than_the_horizon_are_removed(tmp_path: Path) -> None:
    """What a SIGKILLed put leaves (a hidden temporary file) goes once it is old enough;
    a younger one may be a put in progress and stays, and so do the objects."""
    store = LocalStore(tmp_path)
    store.put_bytes("blobs/ab/real", b"x")
    old = tmp_path / "blobs" / "ab" / ".tmp-cd.123456"
    old.write_bytes(b"partial")
    os.utime(old, (1_000_000, 1_000_000))
    young = tmp_path / "blobs" / ".tmp-ef.654321"
    young.write_bytes(b"partial")
    assert store.remove_leftovers(older_than=2_000_000) == 1
    assert not old.exists() and young.exists() and list(store.list()) == ["blobs/ab/real"]


def test_init(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store directory"):
        LocalStore(tmp_path / "missing").init()
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="not a directory"):
        LocalStore(tmp_path / "file").init(create=True)
    LocalStore(tmp_path / "new" / "store").init(create=True)
    assert (tmp_path / "new" / "store").is_dir()


def test_write_failure_is_a_one_line_store_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a", b"file where a directory is needed")
    with pytest.raises(StoreError) as caught:
        store.put_bytes("a/b", b"x")
    assert str(tmp_path) in str(caught.value) and "\n" not in str(caught.value)


def test_list_is_in_key_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    keys = ["a-b", "a/b", "a.b", "a0", "b/c/d", "b+"]
    for key in keys:
        store.put_bytes(key, b"")
    assert list(store.list()) == sorted(keys)
