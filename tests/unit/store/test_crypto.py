"""The chunked AES-256-GCM format and key handling of evacuate.snapshot.crypto."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    Cipher,
    generate_key_file,
    load_key,
)

KEY = bytes(range(32))
CIPHER = Cipher(KEY)


def seal(data: bytes, cipher: Cipher = CIPHER, context: bytes = b"") -> bytes:
    out = io.BytesIO()
    written = cipher.encrypt_stream(io.BytesIO(data), out, context=context)
    assert written == len(out.getvalue())
    return out.getvalue()


def unseal(data: bytes, cipher: Cipher = CIPHER, context: bytes = b"") -> bytes:
    out = io.BytesIO()
    cipher.decrypt_stream(io.BytesIO(data), out, context=context, name="blob abc")
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1,
                                  2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 7])
def test_roundtrip_and_sealed_size(size: int) -> None:
    data = os.urandom(size)
    sealed = seal(data)
    assert len(sealed) == Cipher.sealed_size(size)
    assert unseal(sealed) == data


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=4096), st.binary(max_size=32))
def test_roundtrip_any_data_and_context(data: bytes, context: bytes) -> None:
    assert unseal(seal(data, context=context), context=context) == data


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.data())
def test_any_flipped_bit_is_detected(data: bytes, choice: st.DataObject) -> None:
    sealed = bytearray(seal(data))
    position = choice.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= 1 << choice.draw(st.integers(0, 7))
    with pytest.raises(StoreError) as caught:
        unseal(bytes(sealed))
    assert "\n" not in str(caught.value) and "blob abc" in str(caught.value)


def chunks_of(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    return sealed[:HEADER_SIZE], [body[i:i + SEALED_CHUNK_SIZE]
                                  for i in range(0, len(body), SEALED_CHUNK_SIZE)]


def test_reordered_chunks_are_detected() -> None:
    header, chunks = chunks_of(seal(os.urandom(2 * CHUNK_SIZE + 10)))
    assert len(chunks) == 3
    with pytest.raises(StoreError, match="chunk 0"):
        unseal(header + chunks[1] + chunks[0] + chunks[2])


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_truncation_at_a_chunk_boundary_is_detected(keep: int) -> None:
    header, chunks = chunks_of(seal(os.urandom(3 * CHUNK_SIZE)))
    with pytest.raises(StoreError):
        unseal(header + b"".join(chunks[:keep]))


def test_appended_data_is_detected() -> None:
    with pytest.raises(StoreError):
        unseal(seal(b"short") + b"more")
    sealed = seal(os.urandom(CHUNK_SIZE))
    _, chunks = chunks_of(sealed)
    with pytest.raises(StoreError):
        unseal(sealed + chunks[0])


def test_wrong_key_is_named_as_such() -> None:
    other = Cipher(os.urandom(32))
    with pytest.raises(StoreError, match="wrong encryption key") as caught:
        unseal(seal(b"data"), cipher=other)
    assert CIPHER.key_id.hex() in str(caught.value)
    assert other.key_id.hex() in str(caught.value)


def test_context_is_bound() -> None:
    with pytest.raises(StoreError):
        unseal(seal(b"data", context=b"snapshots/a.json"), context=b"snapshots/b.json")


def test_not_an_encrypted_object() -> None:
    for garbage in (b"", b"EVAC", b"hello world" * 10):
        with pytest.raises(StoreError, match="blob abc"):
            unseal(garbage)


def test_same_plaintext_seals_differently() -> None:
    assert seal(b"same") != seal(b"same")
    assert CIPHER.seal(b"x") != CIPHER.seal(b"x")
    assert CIPHER.unseal(CIPHER.seal(b"x", context=b"c"), context=b"c") == b"x"


def test_plaintext_does_not_appear() -> None:
    marker = b"VERY-RECOGNISABLE-PLAINTEXT" * 100
    assert b"RECOGNISABLE" not in seal(marker)


def test_streaming_reader_in_small_reads() -> None:
    data = os.urandom(CHUNK_SIZE + 12345)
    with CIPHER.open_sealed(io.BytesIO(seal(data)), name="x") as reader:
        parts = []
        while part := reader.read(1000):
            parts.append(part)
    assert b"".join(parts) == data


def test_object_names_are_keyed() -> None:
    digest = "ab" * 32
    name = CIPHER.object_name(digest)
    assert len(name) == 64 and name != digest
    assert name == Cipher(KEY).object_name(digest)
    assert name != Cipher(os.urandom(32)).object_name(digest)


def test_key_is_never_shown() -> None:
    assert KEY.hex() not in repr(CIPHER)
    with pytest.raises(ConfigError):
        Cipher(b"short")


# --- key loading --------------------------------------------------------------------


def key_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("content", [KEY, KEY.hex().encode() + b"\n",
                                     base64.b64encode(KEY) + b"\n"],
                         ids=["raw", "hex", "base64"])
def test_load_key_from_file(tmp_path: Path, content: bytes) -> None:
    assert load_key(key_file=key_file(tmp_path, content), key_env=None) == KEY


@pytest.mark.parametrize("text", [KEY.hex(), base64.b64encode(KEY).decode()])
def test_load_key_from_environment(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("EVACUATE_KEY", text)
    assert load_key(key_file=None, key_env="EVACUATE_KEY") == KEY


def test_environment_wins_over_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVACUATE_KEY", KEY.hex())
    path = key_file(tmp_path, os.urandom(32))
    assert load_key(key_file=path, key_env="EVACUATE_KEY") == KEY
    monkeypatch.delenv("EVACUATE_KEY")
    assert load_key(key_file=path, key_env="EVACUATE_KEY") == path.read_bytes()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_group_or_world_readable_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, KEY, mode)
    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load_key(key_file=path, key_env=None)
    assert "\n" not in str(caught.value) and KEY.hex() not in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"too short", b"zz" * 32, bytes(range(31)) + b"\xff\xfe"])
def test_malformed_keys_are_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ConfigError, match="32-byte key"):
        load_key(key_file=key_file(tmp_path, content), key_env=None)


def test_missing_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EVACUATE_KEY", raising=False)
    with pytest.raises(ConfigError, match="EVACUATE_KEY"):
        load_key(key_file=None, key_env="EVACUATE_KEY")
    with pytest.raises(ConfigError, match="no encryption key"):
        load_key(key_file=None, key_env=None)
    with pytest.raises(ConfigError, match="does not exist"):
        load_key(key_file=tmp_path / "nope", key_env=None)


def test_generate_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "evacuate.key"
    old_umask = os.umask(0)
    try:
        key = generate_key_file(path)
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_key(key_file=path, key_env=None) == key
    with pytest.raises(ConfigError, match="already exists"):
        generate_key_file(path)
    assert load_key(key_file=path, key_env=None) == key
