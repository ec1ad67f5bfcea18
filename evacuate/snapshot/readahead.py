"""Read blobs ahead of a consumer that takes them one after another (the restore's tar
stream): small blobs are fetched, decrypted and verified whole by a few threads while the
consumer writes the ones before them, so that a store with a round trip per object (S3)
costs one round trip per file no longer. Blobs larger than :data:`SMALL_BLOB` are opened in
their turn and streamed as before; what is held ahead stays under :data:`AHEAD_BYTES`.

    with ReadAhead(blobs, refs) as ahead:      # refs: in the order they will be taken
        for ref in refs:
            with ahead.take(ref) as content:
                ...

An error reading a blob (missing, damaged) is raised by the ``take`` of that blob, as
``open_blob`` would raise it; blobs not taken yet when the block ends are not read.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import BinaryIO

from evacuate.snapshot.store.blobs import BlobRef, BlobStore

SMALL_BLOB = 1 << 20
"""Blobs up to this size (plaintext) are read ahead whole; larger ones stream in turn."""
AHEAD_BYTES = 32 << 20
"""At most this many plaintext bytes are held (or being read) ahead of the consumer."""
AHEAD_BLOBS = 256
"""At most this many blobs are queued ahead (reading or read)."""
WORKERS = 8
"""Threads reading ahead (S3's client keeps ten connections)."""


class ReadAhead:
    """The blobs of ``refs``, taken in that order (see the module's docstring)."""

    def __init__(self, blobs: BlobStore, refs: Sequence[BlobRef], *,
                 workers: int = WORKERS, budget: int = AHEAD_BYTES,
                 small: int = SMALL_BLOB) -> None:
        self.blobs = blobs
        self._refs = deque(refs)
        self._queued: deque[tuple[BlobRef, Future[bytes] | None]] = deque()
        self._held = 0  # plaintext bytes of the small blobs queued
        self._budget, self._small = budget, small
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="read-ahead")

    def __enter__(self) -> ReadAhead:
        self._fill()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._queued.clear()
        self._refs.clear()

    def take(self, ref: BlobRef) -> BinaryIO:
        """A reader of ``ref``'s verified plaintext: the next blob of the sequence (read
        ahead when small), or, for a blob out of the sequence, opened now."""
        if not self._queued or self._queued[0][0] != ref:
            return self.blobs.open_blob(ref)
        _ref, reading = self._queued.popleft()
        if reading is None:
            self._fill()
            return self.blobs.open_blob(ref)
        try:
            data = reading.result()
        finally:
            self._held -= ref.size
            self._fill()
        return io.BytesIO(data)

    def _fill(self) -> None:
        while self._refs and len(self._queued) < AHEAD_BLOBS:
            ref = self._refs[0]
            if ref.size > self._small:
                self._queued.append((self._refs.popleft(), None))
                continue
            if self._held and self._held + ref.size > self._budget:
                return
            self._refs.popleft()
            self._held += ref.size
            self._queued.append((ref, self._pool.submit(self.blobs.read_blob, ref)))
