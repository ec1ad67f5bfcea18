"""The store seam: where snapshot objects live (a local directory, S3, memory for tests).

A store maps opaque keys (``"blobs/ab/abcdef..."``, ``"snapshots/<id>.json"``) to byte
objects. It knows nothing about blobs, snapshots or encryption (see
:mod:`evacuate.snapshot.store.blobs`); every implementation passes the same conformance
suite (``tests/integration/store/test_conformance.py``).

Contract for every implementation:

* ``put`` is atomic: a reader sees the old object, the complete new one, or nothing;
  never a partial object. Exceptions raised by the source stream propagate unchanged
  and leave no object behind.
* Data moves as streams; no implementation holds a whole large object in memory
  (except :class:`MemoryStore`, which exists for tests).
* Every failure of the backend is a :class:`StoreError` with a one-line message
  naming the store (no library tracebacks, no credentials).
"""

from __future__ import annotations

import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from evacuate.errors import StoreError

_KEY_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:=+@,-]*$")


class ObjectMissing(StoreError):
    """The key names no object in the store."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one object without reading it."""

    key: str
    size: int
    mtime: float  # seconds since the epoch


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid store key, else raise StoreError.

    A key is one or more ``/``-separated parts of letters, digits and ``_.:=+@,-``,
    none starting with a dot (stores use dot names for their temporary files)."""
    parts = key.split("/")
    if not key or not all(_KEY_PART.match(part) for part in parts):
        raise StoreError(f"invalid store key {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it may start store keys ('' or a key, possibly ending in /)."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class Store(ABC):
    """A flat namespace of immutable-once-written byte objects, addressed by key."""

    #: True when the objects stay on the controller's own disk (or memory); anything
    #: else must be given encrypted data only (BlobStore enforces it).
    on_controller: bool = True

    @abstractmethod
    def describe(self) -> str:
        """Return where the store is, for messages (never a credential)."""

    def init(self, *, create: bool = False) -> None:
        """Check that the store is usable; with ``create``, create what is missing
        (directory, bucket). Raise StoreError when it is not usable."""
        return None

    @abstractmethod
    def put(self, key: str, stream: BinaryIO, *, size_hint: int | None = None) -> None:
        """Store everything ``stream`` yields under ``key``, atomically, replacing any
        object there. ``size_hint`` (expected size) may select an upload strategy."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (see put)."""
        self.put(key, io.BytesIO(data), size_hint=len(data))

    @abstractmethod
    def get(self, key: str) -> BinaryIO:
        """Return a reader of the object (use it as a context manager to close it).
        Raise ObjectMissing when there is none, StoreError on other failures (also
        while reading)."""

    def get_bytes(self, key: str) -> bytes:
        """Return the whole object (for small objects: manifests, markers)."""
        with self.get(key) as reader:
            return reader.read()

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's size and mtime, or None when there is no object."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield every key starting with ``prefix`` (a string prefix, not only a
        directory), each once, in no guaranteed order (S3-compatible servers differ)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    def remove_leftovers(self, older_than: float) -> int:
        """Remove what interrupted writes left behind before ``older_than`` (epoch seconds):
        hidden temporary files, unfinished multipart uploads. Return how many."""
        return 0

    def defer_durability(self) -> None:
        """Let puts skip their own flush to stable storage until :meth:`make_durable`
        (a snapshot writes thousands of blobs, then one manifest). Objects stay atomic."""
        return None

    def make_durable(self) -> None:
        """Make every object put so far durable (before a manifest refers to them)."""
        return None

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        return None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
