"""Fixtures for transport tests against a real, throwaway sshd (see sshd.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evacuate.transport import ConnectOptions, open_transport
from evacuate.transport.ssh import SSHTransport

from .sshd import SSHD, SSHD_BINARY


def _require_sshd() -> None:
    if not SSHD_BINARY.exists():  # 'make deps' installs it: missing is a failure
        pytest.fail(f"{SSHD_BINARY} not installed ('make deps' installs openssh-server)")
    if os.geteuid() != 0:
        pytest.skip("sshd tests need root (privilege separation dir, any-user login)")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHD]:
    """One sshd for the session (tests must not break it; see ``fresh_sshd``)."""
    _require_sshd()
    server = SSHD(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_sshd(tmp_path: Path) -> Iterator[SSHD]:
    """An sshd of its own, for tests that kill it."""
    _require_sshd()
    server = SSHD(tmp_path / "sshd")
    server.workdir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys in a developer's agent must not make authentication tests pass or fail.
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
def empty_ssh_config(tmp_path: Path) -> Path:
    path = tmp_path / "ssh_config"
    path.write_text("")
    return path


@pytest.fixture
def connect(sshd: SSHD, tmp_path: Path,
            empty_ssh_config: Path) -> Iterator[Callable[..., SSHTransport]]:
    """Return a factory of SSHTransports to ``sshd`` trusting its real host key;
    keyword arguments override the ConnectOptions (and ``spec`` the host). Transports are closed after."""
    opened: list[SSHTransport] = []
    known_hosts = sshd.write_known_hosts(tmp_path / "known_hosts")

    def factory(server: SSHD = sshd, **overrides: object) -> SSHTransport:
        options: dict[str, object] = {"known_hosts": known_hosts, "identity": server.client_key,
                                      "ssh_config": empty_ssh_config, "connect_timeout": 5.0}
        if server is not sshd:
            options["known_hosts"] = server.write_known_hosts(tmp_path / "known_hosts_fresh")
        spec = overrides.pop("spec", server.spec)
        options.update(overrides)
        transport = open_transport(spec, ConnectOptions(**options))  # type: ignore[arg-type]
        assert isinstance(transport, SSHTransport)
        opened.append(transport)
        return transport

    yield factory
    for transport in opened:
        transport.close()
