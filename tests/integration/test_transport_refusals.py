"""A real sshd that refuses to start a command while the connection stays up: at its
MaxSessions, or out of open files for a session's pipes. The command did not start, so
SSHTransport asks again as the commands in flight end (evacuate runs several at once on
one connection: inventory jobs, a dump and its checks, verify alongside)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evacuate.errors import ConnectionLost, HostUnreachable
from evacuate.transport import ssh_start
from evacuate.transport.ssh import SSHTransport

from .conftest import _require_sshd
from .sshd import SSHD

Connect = Callable[..., SSHTransport]


@pytest.fixture
def make_sshd(tmp_path: Path) -> Iterator[Callable[..., SSHD]]:
    """Start sshds of their own (``SSHD`` keyword arguments); stopped after the test."""
    _require_sshd()
    started: list[SSHD] = []

    def start(timeout: float = 10.0, **fields: object) -> SSHD:
        workdir = tmp_path / f"sshd{len(started)}"
        workdir.mkdir()
        server = SSHD(workdir, **fields)  # type: ignore[arg-type]
        started.append(server)
        return server.start(timeout)

    yield start
    for server in started:
        server.stop()


def held_then_run(transport: SSHTransport) -> str:
    """Hold one command's channel (it ends by itself after a second), run another."""
    with transport.open_process("sleep 1; echo held") as held:
        answer = transport.run("echo second", timeout=30).text
        assert held.stdout.read() == b"held\n"
    return answer


def test_a_session_refused_at_max_sessions_starts_when_one_ends(
        connect: Connect, make_sshd: Callable[..., SSHD]) -> None:
    server = make_sshd(extra_config="MaxSessions 1\n")
    assert held_then_run(connect(server)) == "second\n"
    assert "no more sessions" in server.log.read_text()  # it was refused, then started


def _runs_one_command(connect: Connect, make_sshd: Callable[..., SSHD], files: int
                      ) -> SSHD | None:
    """An sshd with ``files`` open files that runs one command, or None. A handshake that times
    out is the machine's load, not the limit (with too few files sshd sends no banner at
    start, or closes the channel): asked again, three times at most."""
    for _attempt in range(3):
        try:
            server = make_sshd(open_files=files, timeout=1.0)
        except RuntimeError:  # too few for sshd itself (it sends no banner)
            return None
        try:
            return server if connect(server).run("true", timeout=10).exit_status == 0 else None
        except ConnectionLost:
            return None
        except HostUnreachable:  # "Error reading SSH protocol banner" on a loaded machine
            continue
    return None


def test_a_command_refused_for_want_of_open_files_starts_when_one_ends(
        connect: Connect, make_sshd: Callable[..., SSHD],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fewest open files with which this sshd runs one command: a second one at the
    same time finds no file for its pipes and sshd refuses its exec request (the same
    "Channel closed." a loaded lab host gave, with the dump's checks alongside it)."""
    monkeypatch.setattr(ssh_start, "REFUSED_WAIT", 0.2)  # while finding the fewest
    for files in range(8, 64):
        if (server := _runs_one_command(connect, make_sshd, files)) is not None:
            break
    else:
        pytest.fail("sshd never ran a command with up to 63 open files")
    monkeypatch.undo()
    print("fewest open files for one command:", files)
    assert held_then_run(connect(server)) == "second\n"
    assert "Too many open files" in server.log.read_text()  # it was refused, then started


def test_a_server_that_keeps_refusing_is_one_line_connection_lost(
        connect: Connect, make_sshd: Callable[..., SSHD],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh_start, "REFUSED_WAIT", 1.0)
    server = make_sshd(extra_config="MaxSessions 1\n")
    transport = connect(server)
    with transport.open_process("sleep 3") as held:  # outlasts REFUSED_WAIT
        with pytest.raises(ConnectionLost) as refused:
            transport.run("echo never")
        assert held.wait(timeout=30) == 0
    text = str(refused.value)
    assert "\n" not in text
    assert "the server refused it for 1s (session refused" in text, text
    assert transport.run("echo after", timeout=10).text == "after\n"  # the connection lives
