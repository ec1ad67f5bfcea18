"""The content-addressed, encrypted blob layer over every store (memory, local, S3)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.crypto import CHUNK_SIZE, Cipher
from evacuate.snapshot.store import BlobStore, ObjectInfo, Store

MiB = 1024 * 1024
MARKER = b"PLAINTEXT-MARKER-0123456789"


class CountingStore(Store):
    """A store that delegates to another and counts puts (restic-style decorator)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.puts = inner, 0
        self.on_controller = inner.on_controller

    def describe(self) -> str:
        return self.inner.describe()

    def put(self, key: str, stream: BinaryIO, *, size_hint: int | None = None) -> None:
        self.puts += 1
        self.inner.put(key, stream, size_hint=size_hint)

    def get(self, key: str) -> BinaryIO:
        return self.inner.get(key)

    def stat(self, key: str) -> ObjectInfo | None:
        return self.inner.stat(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(os.urandom(32))


@pytest.fixture
def blobs(store: Store, cipher: Cipher) -> BlobStore:
    return BlobStore(CountingStore(store), cipher)


def content(size: int) -> bytes:
    return (MARKER + os.urandom(64)) * (size // (len(MARKER) + 64)) + MARKER


def stored_bytes(blobs: BlobStore, sha256: str) -> bytes:
    return blobs.store.get_bytes(blobs.key_for(sha256))


def test_roundtrip_and_ref(blobs: BlobStore) -> None:
    data = content(3 * MiB)
    ref = blobs.put_bytes(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert ref.stored_size == blobs.stored_size(len(data)) > len(data)
    assert blobs.read_blob(ref) == data
    assert blobs.has(ref)
    assert blobs.check(ref, read_data=True) is None


def test_dedup_uploads_only_new_blobs(blobs: BlobStore) -> None:
    counting = blobs.store
    assert isinstance(counting, CountingStore)
    first = blobs.put_bytes(b"same content" * 1000)
    second = blobs.put_stream(io.BytesIO(b"same content" * 1000))
    assert first == second
    assert counting.puts == 1
    blobs.put_bytes(b"other content")
    assert counting.puts == 2
    assert (blobs.stats.added, blobs.stats.reused) == (2, 1)
    # A fresh BlobStore on the same store (a later snapshot) does not upload either.
    later = BlobStore(counting, blobs.cipher)
    later.put_bytes(b"same content" * 1000)
    assert counting.puts == 2


def test_encrypted_blob_hides_content_and_hash(blobs: BlobStore) -> None:
    data = content(2 * MiB)
    ref = blobs.put_bytes(data)
    raw = stored_bytes(blobs, ref.sha256)
    assert MARKER not in raw
    assert ref.sha256 not in blobs.key_for(ref.sha256)
    assert all(ref.sha256 not in key for key in blobs.store.list(""))


def test_wrong_key_is_a_clear_error(blobs: BlobStore) -> None:
    ref = blobs.put_bytes(b"secret data")
    other = BlobStore(blobs.store, Cipher(os.urandom(32)))
    # The object name is keyed too: with another key the blob is not even found...
    assert other.check(ref) is not None
    # ... and its bytes, if found, cannot be decrypted.
    raw = stored_bytes(blobs, ref.sha256)
    blobs.store.put_bytes(other.key_for(ref.sha256), raw)
    with pytest.raises(StoreError, match="wrong encryption key") as caught:
        other.read_blob(ref)
    assert "\n" not in str(caught.value) and ref.short in str(caught.value)


@pytest.mark.parametrize("offset", [0, 10, 100, -1], ids=["magic", "header", "body", "tag"])
def test_flipped_byte_is_detected(blobs: BlobStore, offset: int) -> None:
    ref = blobs.put_bytes(content(CHUNK_SIZE + 5000))
    key = blobs.key_for(ref.sha256)
    raw = bytearray(blobs.store.get_bytes(key))
    raw[offset] ^= 0x01
    blobs.store.put_bytes(key, bytes(raw))
    assert blobs.check(ref) is None  # same size: only reading the data finds it
    problem = blobs.check(ref, read_data=True)
    assert problem is not None and ref.short in problem and "\n" not in problem
    with pytest.raises(StoreError), blobs.open_blob(ref) as reader:
        reader.read()


def test_deleted_blob_is_detected(blobs: BlobStore) -> None:
    ref = blobs.put_bytes(b"will vanish")
    blobs.store.delete(blobs.key_for(ref.sha256))
    problem = blobs.check(ref)
    assert problem is not None and "missing" in problem and ref.short in problem
    with pytest.raises(StoreError, match="missing"):
        blobs.open_blob(ref)


@pytest.mark.parametrize("cut", [1, 16, CHUNK_SIZE + 16])
def test_truncated_ciphertext_is_detected(blobs: BlobStore, cut: int) -> None:
    data = content(2 * CHUNK_SIZE)  # exactly two full chunks
    ref = blobs.put_bytes(data)
    key = blobs.key_for(ref.sha256)
    blobs.store.put_bytes(key, blobs.store.get_bytes(key)[:-cut])
    assert blobs.check(ref) is not None  # the size tells already
    with pytest.raises(StoreError), blobs.open_blob(ref) as reader:
        reader.read()


def test_damaged_blob_is_replaced_on_next_put(blobs: BlobStore) -> None:
    data = b"repair me" * 100
    ref = blobs.put_bytes(data)
    key = blobs.key_for(ref.sha256)
    blobs.store.put_bytes(key, b"garbage")
    BlobStore(blobs.store, blobs.cipher).put_bytes(data)
    assert blobs.check(ref, read_data=True) is None


def test_documents_are_sealed_and_bound_to_their_key(blobs: BlobStore) -> None:
    blobs.put_document("snapshots/one.json", b'{"marker": "' + MARKER + b'"}')
    assert MARKER not in blobs.store.get_bytes("snapshots/one.json")
    assert blobs.get_document("snapshots/one.json").endswith(MARKER + b'"}')
    blobs.store.put_bytes("snapshots/two.json", blobs.store.get_bytes("snapshots/one.json"))
    with pytest.raises(StoreError, match=r"two\.json"):
        blobs.get_document("snapshots/two.json")


def test_unencrypted_blobs_only_on_the_controller(store: Store) -> None:
    if not store.on_controller:
        with pytest.raises(ConfigError, match="encrypt"):
            BlobStore(store, None)
        return
    plain = BlobStore(store, None)
    ref = plain.put_bytes(b"plain")
    assert plain.key_for(ref.sha256).endswith(ref.sha256)
    assert plain.read_blob(ref) == b"plain"
    with pytest.raises(ConfigError, match="encryption key"):
        plain.put_bytes(b"password=hunter2", secret="the database password")
