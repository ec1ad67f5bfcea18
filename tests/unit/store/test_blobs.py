"""The blob layer over the in-memory store (the quick part; the full suite runs against
every store in tests/integration/store/test_blobs.py)."""

from __future__ import annotations

import hashlib
import os

import pytest

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.crypto import Cipher
from evacuate.snapshot.store import BlobRef, BlobStore, MemoryStore


class FarAwayStore(MemoryStore):
    on_controller = False


def test_plain_blobs_are_named_by_their_sha256() -> None:
    blobs = BlobStore(MemoryStore(), None)
    ref = blobs.put_bytes(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert ref == BlobRef(digest, 5, 5)
    assert blobs.key_for(digest) == f"blobs/{digest[:2]}/{digest}"
    assert blobs.store.get_bytes(blobs.key_for(digest)) == b"hello"


def test_corrupt_plain_blob_fails_its_sha256() -> None:
    blobs = BlobStore(MemoryStore(), None)
    ref = blobs.put_bytes(b"hello")
    blobs.store.put_bytes(blobs.key_for(ref.sha256), b"jello")
    assert blobs.check(ref) is None
    problem = blobs.check(ref, read_data=True)
    assert problem is not None and "SHA-256" in problem and ref.short in problem
    with pytest.raises(StoreError, match="corrupt"), blobs.open_blob(ref) as reader:
        reader.read()


def test_longer_plain_blob_is_reported() -> None:
    blobs = BlobStore(MemoryStore(), None)
    ref = blobs.put_bytes(b"hello")
    blobs.store.put_bytes(blobs.key_for(ref.sha256), b"hello!")
    assert "6 bytes" in (blobs.check(ref) or "")
    assert "longer" in (blobs.check(BlobRef(ref.sha256, 5, 6), read_data=True) or "")


def test_off_controller_store_requires_a_key() -> None:
    with pytest.raises(ConfigError, match="must be encrypted"):
        BlobStore(FarAwayStore(), None)
    BlobStore(FarAwayStore(), Cipher(os.urandom(32)))


def test_secrets_require_a_key_even_locally() -> None:
    with pytest.raises(ConfigError, match="encryption key"):
        BlobStore(MemoryStore(), None).put_bytes(b"pw", secret="the MySQL root password")
    with pytest.raises(ConfigError, match="encryption key"):
        BlobStore(MemoryStore(), None).put_document("secrets/db", b"pw", secret="db password")
    encrypted = BlobStore(MemoryStore(), Cipher(os.urandom(32)))
    ref = encrypted.put_bytes(b"pw", secret="the MySQL root password")
    assert encrypted.read_blob(ref) == b"pw"


def test_stats_count_new_and_reused_blobs() -> None:
    blobs = BlobStore(MemoryStore(), Cipher(os.urandom(32)))
    for data in (b"a", b"b", b"a", b"a"):
        blobs.put_bytes(data)
    assert (blobs.stats.added, blobs.stats.reused, blobs.stats.reused_bytes) == (2, 2, 2)
    assert blobs.stats.added_bytes == 2 * Cipher.sealed_size(1)


def test_delete_and_list() -> None:
    blobs = BlobStore(MemoryStore(), Cipher(os.urandom(32)))
    ref = blobs.put_bytes(b"a")
    assert list(blobs.list_keys()) == [blobs.key_for(ref.sha256)]
    blobs.delete(ref)
    assert not blobs.has(ref)
    blobs.put_bytes(b"a")  # deleted, so stored again
    assert blobs.has(ref)
