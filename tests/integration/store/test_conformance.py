"""The conformance suite every Store passes (memory, local directory, S3 on SeaweedFS),
after restic's backend test suite: the contract in evacuate.snapshot.store.base."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from evacuate.errors import StoreError
from evacuate.snapshot.store import ObjectMissing, Store

from .conftest import SMALL_PART

MiB = 1024 * 1024


class SourceFailed(Exception):
    """What a failing source stream raises (must reach the caller unchanged)."""


class GeneratedStream(io.RawIOBase):
    """``size`` pseudo-random bytes made on the fly; raises SourceFailed after
    ``fail_after`` bytes if given."""

    def __init__(self, size: int, *, seed: int = 0, fail_after: int | None = None) -> None:
        super().__init__()
        self.size, self.sent, self.fail_after = size, 0, fail_after
        self._block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB pattern

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise SourceFailed(f"source broke after {self.sent} bytes")
        count = min(len(buffer), self.size - self.sent, len(self._block))
        offset = self.sent % len(self._block)
        chunk = (self._block[offset:] + self._block[:offset])[:count]
        buffer[:count] = chunk
        self.sent += count
        return count


def digest_of(stream: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(MiB):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def expected(size: int, seed: int = 0) -> tuple[int, str]:
    return digest_of(io.BufferedReader(GeneratedStream(size, seed=seed)))


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 2 * SMALL_PART + 12345],
                         ids=["empty", "one-byte", "5MiB", "multipart"])
def test_put_get_roundtrip(store: Store, size: int) -> None:
    store.put("data/object", io.BufferedReader(GeneratedStream(size, seed=size)),
              size_hint=size)
    with store.get("data/object") as reader:
        assert digest_of(reader) == expected(size, seed=size)
    info = store.stat("data/object")
    assert info is not None and info.size == size and info.key == "data/object"


def test_put_from_seekable_file(store: Store, tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "source")
    with open(path, "wb") as out:
        out.write(os.urandom(3 * MiB))
    with open(path, "rb") as source:
        store.put("file", source)
    with open(path, "rb") as source:
        assert store.get_bytes("file") == source.read()


def test_put_bytes_get_bytes(store: Store) -> None:
    store.put_bytes("snapshots/2024-01-01T00:00:00Z.json", b'{"x": 1}')
    assert store.get_bytes("snapshots/2024-01-01T00:00:00Z.json") == b'{"x": 1}'
    assert store.exists("snapshots/2024-01-01T00:00:00Z.json")


@pytest.mark.parametrize("size,fail_after", [(3 * MiB, MiB), (3 * SMALL_PART, 2 * SMALL_PART)],
                         ids=["single", "multipart"])
def test_failed_source_leaves_nothing(store: Store, size: int, fail_after: int) -> None:
    with pytest.raises(SourceFailed):
        store.put("broken", io.BufferedReader(GeneratedStream(size, fail_after=fail_after)))
    assert store.stat("broken") is None
    assert sorted(store.list()) == []


def test_failed_source_keeps_previous_object(store: Store) -> None:
    store.put_bytes("obj", b"old")
    with pytest.raises(SourceFailed):
        store.put("obj", io.BufferedReader(GeneratedStream(2 * MiB, fail_after=MiB)))
    assert store.get_bytes("obj") == b"old"
    assert sorted(store.list()) == ["obj"]


def test_overwrite(store: Store) -> None:
    store.put_bytes("obj", b"first version")
    store.put_bytes("obj", b"second")
    assert store.get_bytes("obj") == b"second"
    info = store.stat("obj")
    assert info is not None and info.size == len(b"second")


def test_stat(store: Store) -> None:
    before = time.time()
    store.put_bytes("a/b/c", b"12345")
    info = store.stat("a/b/c")
    assert info is not None
    assert info.size == 5
    assert before - 5 <= info.mtime <= time.time() + 5
    assert store.stat("a/b") is None
    assert store.stat("missing") is None
    assert not store.exists("missing")


def test_get_missing_raises(store: Store) -> None:
    with pytest.raises(ObjectMissing) as caught:
        store.get("nothing/here")
    message = str(caught.value)
    assert "nothing/here" in message and "\n" not in message
    assert isinstance(caught.value, StoreError)


def test_delete_is_idempotent(store: Store) -> None:
    store.put_bytes("gone", b"x")
    store.delete("gone")
    assert store.stat("gone") is None
    store.delete("gone")
    store.delete("never/was")
    with pytest.raises(ObjectMissing):
        store.get("gone")


def test_list_with_prefix(store: Store) -> None:
    keys = ["blobs/00/00aa", "blobs/00/00bb", "blobs/ab/abcd", "blobs-x", "snapshots/1.json",
            "snapshots/2.json", "a-b", "a/b", "a.b"]
    for key in keys:
        store.put_bytes(key, key.encode())
    assert sorted(store.list()) == sorted(keys)
    assert sorted(store.list("blobs/")) == ["blobs/00/00aa", "blobs/00/00bb", "blobs/ab/abcd"]
    assert sorted(store.list("blobs")) == ["blobs-x", "blobs/00/00aa", "blobs/00/00bb",
                                         "blobs/ab/abcd"]
    assert sorted(store.list("blobs/00/00a")) == ["blobs/00/00aa"]
    assert sorted(store.list("snapshots/")) == ["snapshots/1.json", "snapshots/2.json"]
    assert sorted(store.list("nothing/")) == []


def test_list_paginates(store: Store) -> None:
    # The S3 fixture lists 50 keys a page: 130 keys take three pages.
    keys = sorted(f"many/{number:04d}" for number in range(130))
    for key in keys:
        store.put_bytes(key, b"")
    store.put_bytes("other", b"")
    assert sorted(store.list("many/")) == keys


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "../x", ".hidden", "a/.tmp-x",
                                 "sp ace", "back\\slash", "a/"])
def test_invalid_keys_are_refused(store: Store, key: str) -> None:
    with pytest.raises(StoreError):
        store.put_bytes(key, b"x")
    with pytest.raises(StoreError):
        store.stat(key)


def test_errors_are_one_line_and_name_the_store(store: Store) -> None:
    with pytest.raises(StoreError) as caught:
        store.get("missing")
    assert store.describe() in str(caught.value)


@pytest.fixture
def many_small_objects(store: Store) -> Iterator[Store]:
    for number in range(20):
        store.put_bytes(f"x/{number}", str(number).encode())
    yield store


def test_concurrent_readers_see_whole_objects(many_small_objects: Store) -> None:
    readers = [many_small_objects.get(f"x/{number}") for number in range(20)]
    try:
        assert [reader.read() for reader in readers] == [str(n).encode() for n in range(20)]
    finally:
        for reader in readers:
            reader.close()
