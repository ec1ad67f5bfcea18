"""Content-addressed blobs on top of any Store: unchanged data costs nothing twice.

A blob is a byte stream named by the SHA-256 of its plaintext. Its object key is
``blobs/<n[:2]>/<n>`` where ``n`` is that digest, or, when the blob store encrypts,
an HMAC of the digest under a key derived from the encryption key (the store must
not learn, or be able to confirm guesses of, what a blob contains).

``put_stream`` hashes (and encrypts) the data in 1 MiB chunks into a temporary spool
file, then uploads the spool only if the store does not hold the blob yet. Readers
(``open_blob``) decrypt and verify as they stream and raise StoreError naming the
blob on any mismatch. Memory use does not grow with the data.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.crypto import CHUNK_SIZE, Cipher
from evacuate.snapshot.store.base import ObjectMissing, Store

BLOB_PREFIX = "blobs/"
SPOOL_IN_MEMORY = CHUNK_SIZE  # blobs up to this size are spooled in memory
# Blobs are sealed before their name is known (it depends on the plaintext hash), so
# they are bound to their kind only; the SHA-256 check catches a blob swapped for another.
BLOB_CONTEXT = b"evacuate blob"


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: the SHA-256 (hex) and size of its plaintext, and its stored size."""

    sha256: str
    size: int
    stored_size: int

    @property
    def short(self) -> str:
        return self.sha256[:12]


@dataclass
class BlobStats:
    """What a BlobStore did (for progress and the snapshot report)."""

    added: int = 0
    added_bytes: int = 0  # stored (possibly encrypted) bytes uploaded
    reused: int = 0
    reused_bytes: int = 0  # plaintext bytes not uploaded because the blob existed


class _HashingReader(io.RawIOBase):
    """Pass a stream through while counting and hashing it."""

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self._source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        if not data:
            return 0
        buffer[:len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class _VerifyingReader(io.RawIOBase):
    """Pass a blob's plaintext through; at its end, raise StoreError unless its size and
    SHA-256 are the expected ones."""

    def __init__(self, source: BinaryIO, ref: BlobRef, name: str) -> None:
        super().__init__()
        self._source, self._ref, self._name = source, ref, name
        self._digest = hashlib.sha256()
        self._size = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        if data:
            self._size += len(data)
            if self._size > self._ref.size:
                raise StoreError(f"{self._name} is corrupt: longer than {self._ref.size} bytes")
            self._digest.update(data)
            buffer[:len(data)] = data
            return len(data)
        if not self._verified:
            if self._size != self._ref.size:
                raise StoreError(f"{self._name} is corrupt: {self._size} bytes instead of "
                                 f"{self._ref.size}")
            if self._digest.hexdigest() != self._ref.sha256:
                raise StoreError(f"{self._name} is corrupt: its content does not match "
                                 "its SHA-256")
            self._verified = True
        return 0

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


@dataclass
class BlobStore:
    """Content-addressed, optionally encrypted blobs in ``store``.

    ``cipher`` is required when the store is not on the controller (S3): a ConfigError
    says so. ``spool_dir`` is where temporary spool files go (default: the system's)."""

    store: Store
    cipher: Cipher | None
    spool_dir: Path | None = None
    stats: BlobStats = field(default_factory=BlobStats)
    _known: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.cipher is None and not self.store.on_controller:
            raise ConfigError(f"{self.store.describe()} is not on this machine: "
                              "data stored there must be encrypted, and no encryption key "
                              "is configured")

    def key_for(self, sha256: str) -> str:
        """Return the store key of the blob whose plaintext has this SHA-256 (hex)."""
        name = self.cipher.object_name(sha256) if self.cipher else sha256
        return f"{BLOB_PREFIX}{name[:2]}/{name}"

    def stored_size(self, size: int) -> int:
        """Return how many bytes a blob of ``size`` plaintext bytes takes in the store."""
        return self.cipher.sealed_size(size) if self.cipher else size

    def _label(self, ref: BlobRef) -> str:
        return f"blob {ref.short} ({self.key_for(ref.sha256)} in {self.store.describe()})"

    def _require_cipher(self, what: str) -> Cipher | None:
        if self.cipher is None and what:
            raise ConfigError(f"storing {what} needs an encryption key, and none is configured",
                              hint="secrets are always stored encrypted, also locally")
        return self.cipher

    def put_stream(self, stream: BinaryIO, *, secret: str = "") -> BlobRef:
        """Store what ``stream`` yields as a blob unless the store has it; return its ref.
        ``secret`` names what the data is when it must be encrypted (ConfigError if
        there is no key). Source exceptions propagate; store failures are StoreErrors."""
        self._require_cipher(secret)
        source = _HashingReader(stream)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY,
                                         dir=_str(self.spool_dir)) as spool:
            if self.cipher is not None:
                self.cipher.encrypt_stream(source, spool,  # type: ignore[arg-type]
                                           context=BLOB_CONTEXT)
            else:
                while chunk := source.read(CHUNK_SIZE):
                    spool.write(chunk)
            sha256 = source.digest.hexdigest()
            ref = BlobRef(sha256, source.size, self.stored_size(source.size))
            key = self.key_for(sha256)
            if key in self._known or self._holds(key, ref):
                with self._lock:
                    self.stats.reused += 1
                    self.stats.reused_bytes += ref.size
                return ref
            spool.seek(0)
            self.store.put(key, spool, size_hint=ref.stored_size)  # type: ignore[arg-type]
        with self._lock:  # a snapshot puts from two threads (dumps and files)
            self._known.add(key)
            self.stats.added += 1
            self.stats.added_bytes += ref.stored_size
        return ref

    def put_bytes(self, data: bytes, *, secret: str = "") -> BlobRef:
        """Store ``data`` as a blob (see put_stream)."""
        return self.put_stream(io.BytesIO(data), secret=secret)

    def _holds(self, key: str, ref: BlobRef) -> bool:
        info = self.store.stat(key)
        # A blob of the wrong size is damaged: store it again rather than reuse it.
        return info is not None and info.size == ref.stored_size

    def has(self, ref: BlobRef) -> bool:
        """Return whether the store holds the blob (with the expected stored size)."""
        return self._holds(self.key_for(ref.sha256), ref)

    def open_blob(self, ref: BlobRef) -> BinaryIO:
        """Return a reader of the blob's plaintext, decrypted and verified as it streams.
        Raise StoreError naming the blob when it is missing, cannot be decrypted, or its
        size or SHA-256 differ (at the latest when the end is read)."""
        key, label = self.key_for(ref.sha256), self._label(ref)
        try:
            raw = self.store.get(key)
        except ObjectMissing:
            raise ObjectMissing(f"{label} is missing") from None
        try:
            plain = self.cipher.open_sealed(raw, context=BLOB_CONTEXT, name=label) \
                if self.cipher else raw
        except BaseException:
            raw.close()
            raise
        return io.BufferedReader(_VerifyingReader(plain, ref, label), buffer_size=CHUNK_SIZE)

    def read_blob(self, ref: BlobRef) -> bytes:
        """Return a small blob's verified plaintext."""
        with self.open_blob(ref) as reader:
            return reader.read()

    def check(self, ref: BlobRef, *, read_data: bool = False) -> str | None:
        """Return a one-line problem with the blob (missing, wrong size, and with
        ``read_data`` also undecryptable or not matching its SHA-256), or None if sound."""
        label = self._label(ref)
        try:
            info = self.store.stat(self.key_for(ref.sha256))
            if info is None:
                return f"{label} is missing"
            if info.size != ref.stored_size:
                return f"{label} has {info.size} bytes, expected {ref.stored_size}"
            if read_data:
                with self.open_blob(ref) as reader:
                    while reader.read(CHUNK_SIZE):
                        pass
        except StoreError as err:
            return str(err)
        return None

    def delete(self, ref: BlobRef) -> None:
        """Remove the blob (for pruning); removing a missing blob is not an error."""
        key = self.key_for(ref.sha256)
        self.store.delete(key)
        self._known.discard(key)

    def list_keys(self) -> Iterator[str]:
        """Yield the store keys of every blob (for pruning: compare with key_for)."""
        yield from self.store.list(BLOB_PREFIX)

    def put_document(self, key: str, data: bytes, *, secret: str = "") -> None:
        """Store a small named object (a manifest, a secret), sealed when the blob store
        encrypts (bound to ``key``, so it cannot be swapped for another document)."""
        cipher = self._require_cipher(secret)
        self.store.put_bytes(key, cipher.seal(data, context=_document_context(key)) if cipher else data)

    def get_document(self, key: str) -> bytes:
        """Return a named object stored by put_document; StoreError if it cannot be read."""
        data = self.store.get_bytes(key)
        if self.cipher is None:
            return data
        return self.cipher.unseal(data, context=_document_context(key),
                                  name=f"{key} in {self.store.describe()}")


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _document_context(key: str) -> bytes:
    return b"evacuate document " + key.encode()
