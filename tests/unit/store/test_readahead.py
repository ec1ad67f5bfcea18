"""The restore reads small blobs ahead, several at once, in a bounded window, and gives
them back in order; an error is raised by the take of the blob it belongs to."""

from __future__ import annotations

import threading
from typing import BinaryIO

import pytest

from evacuate.errors import StoreError
from evacuate.snapshot.readahead import ReadAhead
from evacuate.snapshot.store import BlobRef, BlobStore, MemoryStore


class CountingStore(MemoryStore):
    """A store that counts the gets at once and can make the first ones meet."""

    def __init__(self, meet: int = 0) -> None:
        super().__init__()
        self.meet = threading.Barrier(meet, timeout=10) if meet else None
        self.lock = threading.Lock()
        self.now = self.most = self.gets = 0

    def get(self, key: str) -> BinaryIO:
        with self.lock:
            self.now += 1
            self.gets += 1
            self.most = max(self.most, self.now)
            first = self.gets <= (self.meet.parties if self.meet else 0)
        try:
            if first and self.meet is not None:
                self.meet.wait()  # a sequential reader never gets past the first one
            return super().get(key)
        finally:
            with self.lock:
                self.now -= 1


def _blobs(store: MemoryStore, *contents: bytes) -> tuple[BlobStore, list[BlobRef]]:
    blobs = BlobStore(store, None)
    return blobs, [blobs.put_bytes(content) for content in contents]


def test_small_blobs_are_read_several_at_once_ahead_of_the_one_taken() -> None:
    store = CountingStore(meet=4)
    blobs, refs = _blobs(store, *(f"file {i}\n".encode() for i in range(20)))
    with ReadAhead(blobs, refs, workers=4) as ahead:
        taken = [ahead.take(ref).read() for ref in refs]
    assert taken == [f"file {i}\n".encode() for i in range(20)]
    assert store.most == 4 and store.gets == 20


def test_large_blobs_stream_in_their_turn_and_the_window_stays_bounded() -> None:
    store = CountingStore()
    contents = [b"a" * 100, b"L" * 5000, b"b" * 100, b"c" * 100, b"d" * 100, b"e" * 100]
    blobs, refs = _blobs(store, *contents)
    with ReadAhead(blobs, refs, workers=8, budget=250, small=1000) as ahead:
        # two small blobs fit the budget: the large one is not read ahead, the rest wait
        assert ahead._held == 200 and len(ahead._queued) == 3
        out = []
        for ref in refs:
            with ahead.take(ref) as content:
                out.append(content.read())
            assert ahead._held <= 250
    assert out == contents


def test_a_missing_blob_fails_its_own_take_and_not_the_ones_before() -> None:
    store = CountingStore()
    blobs, refs = _blobs(store, b"one", b"two", b"three")
    store.delete(blobs.key_for(refs[1].sha256))
    with ReadAhead(blobs, refs) as ahead:
        assert ahead.take(refs[0]).read() == b"one"
        with pytest.raises(StoreError, match=refs[1].short):
            ahead.take(refs[1])
        assert ahead.take(refs[2]).read() == b"three"


def test_a_blob_out_of_sequence_is_opened_directly() -> None:
    blobs, refs = _blobs(CountingStore(), b"one", b"two")
    with ReadAhead(blobs, refs[:1]) as ahead:
        assert ahead.take(refs[1]).read() == b"two"
        assert ahead.take(refs[0]).read() == b"one"
