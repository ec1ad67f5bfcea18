"""An in-memory store, for tests of the layers above (like restic's mem backend).

It passes the same conformance suite as the real stores, but holds every object in
memory: never use it for real data.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

from evacuate.snapshot.store.base import ObjectInfo, ObjectMissing, Store, check_key, check_prefix


class MemoryStore(Store):
    """A dict of key → (bytes, mtime), safe to share between threads."""

    def __init__(self, name: str = "memory") -> None:
        self._name = name
        self._objects: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"mem://{self._name}"

    def put(self, key: str, stream: BinaryIO, *, size_hint: int | None = None) -> None:
        check_key(key)
        buffer = io.BytesIO()
        while chunk := stream.read(1024 * 1024):
            buffer.write(chunk)
        with self._lock:
            self._objects[key] = (buffer.getvalue(), time.time())

    def get(self, key: str) -> BinaryIO:
        check_key(key)
        with self._lock:
            entry = self._objects.get(key)
        if entry is None:
            raise ObjectMissing(f"{self.describe()}: no object {key}")
        return io.BytesIO(entry[0])

    def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with self._lock:
            entry = self._objects.get(key)
        return None if entry is None else ObjectInfo(key, len(entry[0]), entry[1])

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        with self._lock:
            keys = sorted(key for key in self._objects if key.startswith(prefix))
        yield from keys

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

