"""The default store key is made when the store is first written to, never by a command that
only looks (or fails first); reading without it is a one-line error, not a new key."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.errors import ConfigError
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir


def test_the_key_is_made_by_the_first_write(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    key = state.root / "keys" / "store.key"
    warnings: list[str] = []
    repo = open_repository(None, state, create=True, warn=warnings.append)
    assert repo.refs() == [] and repo.latest("web") is None and not key.exists()
    ref = repo.blobs.put_bytes(b"some data")
    assert key.exists() and key.stat().st_mode & 0o077 == 0
    assert len(warnings) == 1 and str(key) in warnings[0]
    again = open_repository(None, state)  # the same key, read back
    assert again.blobs.read_blob(ref) == b"some data" and len(warnings) == 1


def test_reading_without_the_key_makes_none(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    key = state.root / "keys" / "store.key"
    ref = open_repository(None, state, create=True).blobs.put_bytes(b"sealed")
    key.unlink()  # lost
    repo = open_repository(None, state)
    with pytest.raises(ConfigError, match="no store encryption key"):
        repo.blobs.read_blob(ref)
    assert not key.exists()
