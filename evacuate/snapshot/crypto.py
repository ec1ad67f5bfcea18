"""Client-side authenticated encryption of snapshot data (AES-256-GCM, chunked, streaming).

Format of one sealed stream (version 1)::

    header  = b"EVAC1" | version (1 byte) | key id (8 bytes) | salt (32 random bytes)
    chunk i = AES-256-GCM(subkey, nonce=i as 12-byte big-endian, plaintext <= 1 MiB,
                          aad=header | i (8 bytes) | final flag (1 byte) | context)

``subkey = HKDF-SHA256(master key, salt, "evacuate v1 data")`` is fresh for every stream,
so a counter nonce never repeats under one key (no birthday bound on random nonces).
Every chunk but the last holds exactly 1 MiB of plaintext; the last one (possibly empty)
carries the final flag, so truncation at a chunk boundary, reordering, dropping and
appending chunks all fail authentication. ``context`` (e.g. the object name) is bound
into every chunk, so a sealed object cannot be passed off as another one.

The key id (HKDF of the master key) tells "wrong key" from "corrupt data" in messages.
The master key comes from the controller (a key file or an environment variable); it
never goes to the source host or into the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from evacuate.cryptolib import AESGCM, InvalidTag, hkdf_sha256
from evacuate.errors import ConfigError, StoreError

MAGIC = b"EVAC1"
VERSION = 1
KEY_SIZE = 32
KEY_ID_SIZE = 8
SALT_SIZE = 32
HEADER_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE + SALT_SIZE
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE


def _hkdf(key: bytes, info: bytes, *, salt: bytes | None = None, length: int = 32) -> bytes:
    return hkdf_sha256(key, info, salt=salt, length=length)


def read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes from ``stream``, fewer only at end of stream."""
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        part = stream.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


class Cipher:
    """AES-256-GCM sealing of streams and names with one 32-byte master key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ConfigError(f"an encryption key must be {KEY_SIZE} bytes, got {len(key)}")
        self._key = bytes(key)
        self.key_id = _hkdf(self._key, b"evacuate v1 key id", length=KEY_ID_SIZE)
        self._name_key = _hkdf(self._key, b"evacuate v1 blob names")

    def __repr__(self) -> str:  # never show the key
        return f"Cipher(key_id={self.key_id.hex()})"

    @staticmethod
    def sealed_size(plain_size: int) -> int:
        """Return how many bytes a sealed stream of ``plain_size`` plaintext bytes takes."""
        chunks = max(1, -(-plain_size // CHUNK_SIZE))
        return HEADER_SIZE + plain_size + chunks * TAG_SIZE

    def object_name(self, digest_hex: str) -> str:
        """Return the store name of a blob: HMAC-SHA256 of its plaintext digest, so the
        store cannot learn (or confirm guesses of) what a blob contains."""
        return hmac.new(self._name_key, digest_hex.encode("ascii"), hashlib.sha256).hexdigest()

    def _data_key(self, salt: bytes) -> AESGCM:
        return AESGCM(_hkdf(self._key, b"evacuate v1 data", salt=salt))

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, context: bytes = b"") -> int:
        """Read ``src`` to its end and write it sealed to ``dst``; return bytes written.
        Memory use is about two chunks, whatever the stream's size."""
        salt = os.urandom(SALT_SIZE)
        header = MAGIC + bytes([VERSION]) + self.key_id + salt
        aead = self._data_key(salt)
        dst.write(header)
        written = len(header)
        chunk = read_exactly(src, CHUNK_SIZE)
        index = 0
        while True:
            following = read_exactly(src, CHUNK_SIZE) if len(chunk) == CHUNK_SIZE else b""
            final = not following
            sealed = aead.encrypt(_nonce(index), chunk, _aad(header, index, final, context))
            dst.write(sealed)
            written += len(sealed)
            if final:
                return written
            chunk = following
            index += 1

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, context: bytes = b"",
                       name: str = "stream") -> int:
        """Write the plaintext of the sealed ``src`` to ``dst``; return its size.
        Raise StoreError naming ``name`` when the key is wrong or the data corrupt,
        truncated or extended (``dst`` may then hold a verified prefix)."""
        reader = DecryptingReader(self, src, context=context, name=name)
        total = 0
        while chunk := reader.read(CHUNK_SIZE):
            dst.write(chunk)
            total += len(chunk)
        return total

    def open_sealed(self, src: BinaryIO, *, context: bytes = b"", name: str = "stream") -> BinaryIO:
        """Return a buffered reader of the plaintext of ``src`` (closing it closes ``src``)."""
        return io.BufferedReader(DecryptingReader(self, src, context=context, name=name),
                                 buffer_size=CHUNK_SIZE)

    def seal(self, data: bytes, *, context: bytes = b"") -> bytes:
        """Return ``data`` sealed (for small objects: manifests, secrets)."""
        out = io.BytesIO()
        self.encrypt_stream(io.BytesIO(data), out, context=context)
        return out.getvalue()

    def unseal(self, data: bytes, *, context: bytes = b"", name: str = "object") -> bytes:
        """Return the plaintext of a sealed ``data``; raise StoreError as decrypt_stream."""
        out = io.BytesIO()
        self.decrypt_stream(io.BytesIO(data), out, context=context, name=name)
        return out.getvalue()


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _aad(header: bytes, index: int, final: bool, context: bytes) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00") + context


class DecryptingReader(io.RawIOBase):
    """A raw reader of the plaintext of a sealed stream, verified chunk by chunk.
    Reading raises StoreError on a wrong key, corruption, truncation or extension."""

    def __init__(self, cipher: Cipher, src: BinaryIO, *, context: bytes = b"",
                 name: str = "stream") -> None:
        super().__init__()
        self._src = src
        self._context = context
        self._name = name
        self._buffer = memoryview(b"")
        self._index = 0
        self._done = False
        header = read_exactly(src, HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise StoreError(f"cannot decrypt {name}: not an evacuate encrypted object "
                             "(wrong encryption key or corrupt blob)")
        if header[len(MAGIC)] != VERSION:
            raise StoreError(f"cannot decrypt {name}: unknown format version "
                             f"{header[len(MAGIC)]}")
        key_id = header[len(MAGIC) + 1:len(MAGIC) + 1 + KEY_ID_SIZE]
        if key_id != cipher.key_id:
            raise StoreError(f"cannot decrypt {name}: wrong encryption key or corrupt blob "
                             f"(sealed with key id {key_id.hex()}, ours is "
                             f"{cipher.key_id.hex()})")
        self._header = header
        self._aead = cipher._data_key(header[-SALT_SIZE:])
        self._pending = read_exactly(src, SEALED_CHUNK_SIZE)

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        sealed = self._pending
        if len(sealed) < TAG_SIZE:
            raise StoreError(f"cannot decrypt {self._name}: truncated "
                             "(wrong encryption key or corrupt blob)")
        following = read_exactly(self._src, SEALED_CHUNK_SIZE) \
            if len(sealed) == SEALED_CHUNK_SIZE else b""
        final = not following
        try:
            plain = self._aead.decrypt(_nonce(self._index), sealed,
                                       _aad(self._header, self._index, final, self._context))
        except InvalidTag:
            raise StoreError(f"cannot decrypt {self._name}: chunk {self._index} fails "
                             "authentication (wrong encryption key or corrupt blob)") from None
        self._pending = following
        self._index += 1
        self._done = final
        return plain

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            if self._done:
                return 0
            self._buffer = memoryview(self._next_chunk())
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._src.close()
        super().close()


def _decode_key_text(text: str, origin: str) -> bytes:
    text = text.strip()
    if len(text) == 2 * KEY_SIZE:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise ConfigError(f"{origin} does not hold a {KEY_SIZE}-byte key "
                          "(raw bytes, 64 hex digits or base64)")
    return key


def load_key(*, key_file: Path | None, key_env: str | None) -> bytes:
    """Return the 32-byte master key from the environment variable named ``key_env``
    (if set) or else from ``key_file`` (32 raw bytes, or hex/base64 text).
    Raise ConfigError (one line) when there is no key, it is malformed, or the key file
    is readable or writable by group or others."""
    if key_env and os.environ.get(key_env):
        return _decode_key_text(os.environ[key_env], f"environment variable {key_env}")
    if key_file is None:
        where = f"environment variable {key_env} is not set" if key_env else "none configured"
        raise ConfigError(f"no encryption key: {where} and no key file given",
                          hint="create one with `evacuate key generate` or set a key file")
    try:
        info = key_file.stat()
        if info.st_mode & 0o077:
            raise ConfigError(
                f"key file {key_file} is accessible by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {key_file}")
        raw = key_file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"key file {key_file} does not exist") from None
    except OSError as err:
        raise ConfigError(f"cannot read key file {key_file}: {err.strerror}") from None
    if len(raw) == KEY_SIZE:
        return raw
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"key file {key_file} does not hold a {KEY_SIZE}-byte key") from None
    return _decode_key_text(text, f"key file {key_file}")


def generate_key_file(path: Path) -> bytes:
    """Write a new random key to ``path`` (base64 text, mode 0600; parent directories
    are created 0700) and return it. Raise ConfigError if ``path`` already exists."""
    key = os.urandom(KEY_SIZE)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as err:
        raise ConfigError(f"cannot create key file {path}: {err.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(base64.b64encode(key) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return key
