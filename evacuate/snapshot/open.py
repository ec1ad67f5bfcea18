"""Open the snapshot store a command should use, with its encryption key.

The store is ``--store URL``, else the config's ``store.url``, else ``<state>/store``.
The key is the config's ``store.key_env``/``store.key_file``, else ``<state>/keys/store.key``,
which is created on first use (with a warning to keep a copy elsewhere: without the key,
the snapshots cannot be read). Data is always encrypted, locally too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evacuate.config import Config
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
    if not default.exists():
        generate_key_file(default)
        warn(f"created the store encryption key {default}: copy it somewhere safe (not on "
             "the source); without it the snapshots cannot be read")
    return Cipher(load_key(key_file=default, key_env=None))


def open_repository(config: Config | None, state: StateDir, url: str | None = None, *,
                    create: bool = False,
                    warn: Callable[[str], None] = lambda _m: None) -> SnapshotRepository:
    """The snapshot repository to use, opened (and created when ``create``)."""
    choice = choose_store(config, state, url)
    store: Store = open_store(choice.location, endpoint_url=choice.endpoint_url, region=choice.region)
    store.init(create=create)
    return SnapshotRepository(BlobStore(store, load_cipher(choice, state, warn),
                                        spool_dir=state.sub("spool")))
