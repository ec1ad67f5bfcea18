"""Open the snapshot store a command should use, with its encryption key.

The store is ``--store URL``, else the config's ``store.url``, else ``<state>/store``.
The key is the config's ``store.key_env``/``store.key_file``, else ``<state>/keys/store.key``,
which is created when something is first written to the store (with a warning to keep a copy
elsewhere: without the key, the snapshots cannot be read); a command that fails before it
writes (a plan whose source cannot be reached) leaves no key behind. Data is always
encrypted, locally too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from evacuate.config import Config
from evacuate.errors import ConfigError
from evacuate.snapshot.crypto import Cipher, generate_key_file, load_key
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.store import BlobStore, Store, open_store
from evacuate.snapshot.store.url import StoreURL
from evacuate.state import StateDir


@dataclass(frozen=True)
class StoreChoice:
    location: StoreURL
    endpoint_url: str | None
    region: str | None
    key_file: Path | None
    key_env: str | None


def choose_store(config: Config | None, state: StateDir, url: str | None) -> StoreChoice:
    store = config.store if config is not None else None
    given = StoreURL.parse(url) if url is not None else None
    chosen = given or (store.location if store else StoreURL(path=state.root / "store"))
    same = store is not None and (given is None or given == store.location)
    return StoreChoice(
        location=chosen,
        endpoint_url=store.endpoint_url if store and same else None,
        region=store.region if store and same else None,
        key_file=store.key_file if store else None,
        key_env=store.key_env if store else None,
    )


def load_cipher(choice: StoreChoice, state: StateDir,
                warn: Callable[[str], None] = lambda _m: None) -> Cipher:
    if choice.key_env or choice.key_file:
        return Cipher(load_key(key_file=choice.key_file, key_env=choice.key_env))
    default = state.root / "keys" / "store.key"
    if default.exists():
        return Cipher(load_key(key_file=default, key_env=None))
    return KeyOnFirstWrite(default, warn)


class KeyOnFirstWrite(Cipher):
    """The default key, created the first time something is sealed for the store (a blob or
    a manifest). Reading (or naming a blob) before that needs the key the data was written
    with: ConfigError, no new key."""

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:  # no key yet
        self._path, self._warn = path, warn
        self._cipher: Cipher | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyOnFirstWrite({self._path})"

    def _writing(self) -> Cipher:
        with self._lock:
            if self._cipher is None:
                if not self._path.exists():
                    generate_key_file(self._path)
                    self._warn(f"created the store encryption key {self._path}: copy it "
                               "somewhere safe (not on the source); without it the snapshots "
                               "cannot be read")
                self._cipher = Cipher(load_key(key_file=self._path, key_env=None))
            return self._cipher

    def _reading(self) -> Cipher:
        if self._cipher is None and not self._path.exists():
            raise ConfigError(f"no store encryption key: {self._path} does not exist",
                              hint="the store holds data written with another key: configure "
                                   "it (store.key_file or store.key_env)")
        return self._writing()

    def __getattr__(self, name: str) -> Any:  # key_id and the rest: the key is needed now
        if name.startswith("__") or name in ("_path", "_warn", "_cipher", "_lock"):
            raise AttributeError(name)
        return getattr(self._reading(), name)

    def object_name(self, digest_hex: str) -> str:  # a write has sealed its data first
        return self._reading().object_name(digest_hex)

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, context: bytes = b"") -> int:
        return self._writing().encrypt_stream(src, dst, context=context)

    def seal(self, data: bytes, *, context: bytes = b"") -> bytes:
        return self._writing().seal(data, context=context)

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, context: bytes = b"",
                       name: str = "stream") -> int:
        return self._reading().decrypt_stream(src, dst, context=context, name=name)

    def open_sealed(self, src: BinaryIO, *, context: bytes = b"", name: str = "stream") -> BinaryIO:
        return self._reading().open_sealed(src, context=context, name=name)

    def unseal(self, data: bytes, *, context: bytes = b"", name: str = "object") -> bytes:
        return self._reading().unseal(data, context=context, name=name)


def open_repository(config: Config | None, state: StateDir, url: str | None = None, *,
                    create: bool = False,
                    warn: Callable[[str], None] = lambda _m: None) -> SnapshotRepository:
    """The snapshot repository to use, opened (and created when ``create``)."""
    choice = choose_store(config, state, url)
    store: Store = open_store(choice.location, endpoint_url=choice.endpoint_url, region=choice.region)
    store.init(create=create)
    return SnapshotRepository(BlobStore(store, load_cipher(choice, state, warn),
                                        spool_dir=state.sub("spool")))
