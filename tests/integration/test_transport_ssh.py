"""SSHTransport against a real sshd on 127.0.0.1 (see sshd.py); no mocks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import socket
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from evacuate.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyError,
    HostUnreachable,
    RemoteCommandError,
    RemoteTimeout,
    TransportError,
    UsageError,
)
from evacuate.transport import ConnectOptions, open_transport
from evacuate.transport.ssh import SSHTransport

from .sshd import SSHD, free_port, keygen

Connect = Callable[..., SSHTransport]
MiB = 1024 * 1024


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text, text
    return text


def openssh_fingerprint(public_key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True,
                          capture_output=True, text=True).stdout.split()[1]


def wait_for_process(server: SSHD, cmdline: bytes, timeout: float = 10) -> None:
    """Poll until a process with ``cmdline`` runs under ``server``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in server.session_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0") == cmdline:
                    return
        time.sleep(0.01)
    raise AssertionError(f"{cmdline!r} did not start")


# -- commands ----------------------------------------------------------------------------
def test_echo_status_and_stderr(connect: Connect, sshd: SSHD) -> None:
    result = connect().run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_status) == (b"out\n", b"err\n", 3)
    assert result.host == f"{sshd.user}@127.0.0.1:{sshd.port}"


def test_runs_posix_sh_and_quotes_argument_lists(connect: Connect) -> None:
    transport = connect()
    assert transport.run('echo "$0"').text == "sh\n"
    assert transport.run(["printf", "%s|", "a b", "$HOME", "it's"]).text == "a b|$HOME|it's|"


def test_check_raises_remote_command_error(connect: Connect, sshd: SSHD) -> None:
    with pytest.raises(RemoteCommandError) as caught:
        connect().run("echo nope >&2; exit 5", check=True)
    assert one_line(caught.value).startswith(f"{sshd.user}@127.0.0.1:{sshd.port}: command failed")
    assert caught.value.exit_status == 5 and "nope" in str(caught.value)


def test_one_connection_for_many_commands(connect: Connect, sshd: SSHD) -> None:
    accepted = sshd.log.read_text().count("Accepted publickey")
    transport = connect().connect()
    sock = transport._transport.sock  # type: ignore[union-attr]
    assert isinstance(sock, socket.socket)
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    for i in range(20):
        assert transport.run(f"echo {i}").text == f"{i}\n"
    transport.run_script("x=1\necho $x\n", check=True)
    assert sshd.log.read_text().count("Accepted publickey") == accepted + 1


def test_input_is_sent_then_eof(connect: Connect) -> None:
    transport = connect()
    assert transport.run("tr a-z A-Z", input=b"hello").stdout == b"HELLO"
    assert transport.run("cat").stdout == b""  # no input: EOF at once, no hang
    data = os.urandom(8 * MiB)
    assert transport.run("cat", input=data, timeout=60).stdout == data


def test_large_stdout_and_stderr_together_do_not_deadlock(connect: Connect) -> None:
    result = connect().run("head -c 20000000 /dev/zero; head -c 10000000 /dev/zero >&2; "
                           "head -c 5000000 /dev/zero", timeout=60)
    assert (len(result.stdout), len(result.stderr)) == (25_000_000, 10_000_000)


def test_timeout_kills_the_command_and_keeps_the_connection(connect: Connect,
                                                            tmp_path: Path) -> None:
    transport = connect()
    marker = tmp_path / "survived"
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as caught:
        transport.run(f"(sleep 2; touch {marker}) & sleep 30", timeout=0.3)
    assert time.monotonic() - started < 5
    assert "timed out after 0.3s" in one_line(caught.value)
    time.sleep(2.5)
    assert not marker.exists(), "the command's process group should have been killed"
    assert transport.run("echo still here").text == "still here\n"


def test_command_killed_by_signal_reports_255(connect: Connect) -> None:
    assert connect().run("kill -9 $$").exit_status == 255


def test_become_as_root_needs_no_sudo(connect: Connect) -> None:
    assert connect(become=True).run("id -u").text == "0\n"


def test_become_for_other_users_uses_sudo_n(empty_ssh_config: Path) -> None:
    transport = SSHTransport("deploy@h", ConnectOptions(ssh_config=empty_ssh_config, become=True))
    assert transport._remote_line("echo 'x'") == "exec sudo -n -- sh -c 'echo '\"'\"'x'\"'\"''"
    assert transport._remote_line("true", 5).startswith("exec sudo -n -- sh -c 'if command -v")


# -- streaming ---------------------------------------------------------------------------
def test_open_process_streams_50mb_out_without_holding_it(connect: Connect) -> None:
    size = 50 * MiB
    transport = connect().connect()
    expected = hashlib.sha256()
    block = b"0123456789abcdef" * 4096
    for _ in range(size // len(block)):
        expected.update(block)
    tracemalloc.start()
    try:
        digest, total = hashlib.sha256(), 0
        with transport.open_process(
                "i=0; while [ $i -lt 800 ]; do printf '0123456789abcdef%.0s' $(seq 4096); "
                "i=$((i+1)); done") as proc:
            while chunk := proc.stdout.read(256 * 1024):
                digest.update(chunk)
                total += len(chunk)
            assert proc.wait(timeout=60) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == size and digest.hexdigest() == expected.hexdigest()
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB while streaming {size / MiB:.0f} MiB"


def test_open_process_streams_50mb_in(connect: Connect) -> None:
    size, block = 50 * MiB, os.urandom(MiB)
    with connect().open_process("sha256sum") as proc:
        for _ in range(size // len(block)):
            proc.stdin.write(block)
        proc.stdin.close()
        remote = proc.stdout.read().split()[0].decode()
        assert proc.wait(timeout=60) == 0
    assert remote == hashlib.sha256(block * (size // len(block))).hexdigest()


def test_open_process_keeps_a_capped_stderr(connect: Connect) -> None:
    with connect().open_process("head -c 300000 /dev/zero | tr '\\0' e >&2; echo; "
                                "echo last >&2; exit 7") as proc:
        assert proc.stdout.read() == b"\n"
        assert proc.wait(timeout=30) == 7
        assert proc.stderr_text().endswith("last\n")
        assert len(proc.stderr_text()) <= 64 * 1024


def test_open_process_wait_timeout(connect: Connect) -> None:
    transport = connect()
    # Short: for root logins sshd ignores the kill signal, so the sleep outlives the channel.
    proc = transport.open_process("sleep 3")
    with pytest.raises(RemoteTimeout):
        proc.wait(timeout=0.3)
    assert transport.run("true").ok


# -- files -------------------------------------------------------------------------------
def test_put_get_roundtrip_with_mode(connect: Connect, tmp_path: Path) -> None:
    transport = connect()
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * MiB + 17))
    remote = str(tmp_path / "remote.bin")
    transport.put(source, remote, mode=0o640)
    assert transport.run(["stat", "-c", "%a", remote]).text == "640\n"
    transport.get(remote, tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    assert (tmp_path / "back.bin").stat().st_mode & 0o777 == 0o600


def test_put_get_through_the_shell_path(connect: Connect, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The path `become` takes for non-root users (sudo itself is absent on the test host).
    transport = connect()
    monkeypatch.setattr(transport, "_sudo", True)
    monkeypatch.setattr(transport, "_remote_line",
                        lambda line, timeout=None: "exec sh -c " + shlex.quote(line))
    source = tmp_path / "source"
    source.write_bytes(os.urandom(MiB))
    transport.put(source, str(tmp_path / "remote"), mode=0o604)
    assert (tmp_path / "remote").stat().st_mode & 0o777 == 0o604
    transport.get(str(tmp_path / "remote"), tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == source.read_bytes()
    with pytest.raises(RemoteCommandError, match="file copy failed"):
        transport.get(str(tmp_path / "missing"), tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_file_errors_are_remote_command_errors(connect: Connect, tmp_path: Path) -> None:
    transport = connect()
    with pytest.raises(RemoteCommandError, match="cannot read /nonexistent/file"):
        transport.get("/nonexistent/file", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(RemoteCommandError, match="cannot write /nonexistent/dir/f"):
        transport.put(tmp_path / "f", "/nonexistent/dir/f")
    assert transport.run("true").ok


# -- host keys ---------------------------------------------------------------------------
def test_unknown_host_key_is_refused(connect: Connect, sshd: SSHD, tmp_path: Path) -> None:
    known_hosts = tmp_path / "empty_known_hosts"
    known_hosts.write_text("")
    with pytest.raises(HostKeyError) as caught:
        connect(known_hosts=known_hosts).run("true")
    message = one_line(caught.value)
    assert "unknown host key" in message and str(known_hosts) in message
    assert openssh_fingerprint(sshd.host_key.with_suffix(".pub")) in message
    assert caught.value.hint and known_hosts.read_text() == ""


def test_trust_unknown_records_the_key(connect: Connect, sshd: SSHD, tmp_path: Path) -> None:
    known_hosts = tmp_path / "new" / "known_hosts"
    connect(known_hosts=known_hosts, trust_unknown=True).run("true")
    assert known_hosts.read_text() == sshd.known_hosts_line
    assert known_hosts.stat().st_mode & 0o777 == 0o600
    assert connect(known_hosts=known_hosts).run("echo ok").text == "ok\n"


@pytest.mark.parametrize("trust_unknown", [False, True])
def test_changed_host_key_is_refused(connect: Connect, sshd: SSHD, tmp_path: Path,
                                     trust_unknown: bool) -> None:
    impostor = keygen(tmp_path / "impostor")
    key_type, blob = impostor.with_suffix(".pub").read_text().split()[:2]
    known_hosts = tmp_path / "tampered"
    known_hosts.write_text(f"# comment\n[127.0.0.1]:{sshd.port} {key_type} {blob}\n")
    before = known_hosts.read_text()
    with pytest.raises(HostKeyError) as caught:
        connect(known_hosts=known_hosts, trust_unknown=trust_unknown).run("true")
    message = one_line(caught.value)
    assert message.startswith(f"{sshd.user}@127.0.0.1:{sshd.port}: host key changed (ssh-ed25519 ")
    assert f"known_hosts {known_hosts}:2 has a different key — refusing to connect" in message
    assert "ssh-keygen -R" in (caught.value.hint or "")
    assert known_hosts.read_text() == before


def test_hashed_known_hosts(connect: Connect, sshd: SSHD, tmp_path: Path) -> None:
    known_hosts = sshd.write_known_hosts(tmp_path / "hashed")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known_hosts)], check=True,
                   capture_output=True)
    assert known_hosts.read_text().startswith("|1|")
    assert connect(known_hosts=known_hosts).run("echo ok").text == "ok\n"
    impostor = keygen(tmp_path / "impostor")
    tampered = tmp_path / "hashed_tampered"
    tampered.write_text(f"[127.0.0.1]:{sshd.port} "
                        + " ".join(impostor.with_suffix(".pub").read_text().split()[:2]) + "\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(tampered)], check=True,
                   capture_output=True)
    with pytest.raises(HostKeyError, match="host key changed"):
        connect(known_hosts=tampered).run("true")


def test_entry_for_port_22_does_not_vouch_for_other_ports(connect: Connect, sshd: SSHD,
                                                          tmp_path: Path) -> None:
    known_hosts = tmp_path / "plain"
    known_hosts.write_text(sshd.known_hosts_line.replace(f"[127.0.0.1]:{sshd.port}", "127.0.0.1"))
    with pytest.raises(HostKeyError, match="unknown host key"):
        connect(known_hosts=known_hosts).run("true")


# -- authentication and reachability ----------------------------------------------------
def test_wrong_client_key_fails_authentication(connect: Connect, sshd: SSHD,
                                               tmp_path: Path) -> None:
    wrong = keygen(tmp_path / "wrong_key")
    with pytest.raises(AuthenticationFailed) as caught:
        connect(identity=wrong).run("true")
    message = one_line(caught.value)
    assert f"authentication failed for user '{sshd.user}'" in message
    assert str(wrong) in message and openssh_fingerprint(wrong.with_suffix(".pub")) in message
    secret = "".join(wrong.read_text().splitlines()[1:-1])
    public_blob = wrong.with_suffix(".pub").read_text().split()[1]
    assert secret[:40] not in message and public_blob not in message
    assert caught.value.hint


def test_nothing_listening_is_unreachable(connect: Connect, sshd: SSHD) -> None:
    with pytest.raises(HostUnreachable) as caught:
        connect(spec=f"{sshd.user}@127.0.0.1:{free_port()}").run("true")
    assert "connection refused" in one_line(caught.value)


def test_unresolvable_name_is_unreachable(connect: Connect) -> None:
    with pytest.raises(HostUnreachable, match="cannot resolve host name"):
        connect(spec="root@no-such-host.invalid").run("true")


def test_not_an_ssh_server_is_unreachable(connect: Connect) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []

        def talk() -> None:
            conn, _ = server.accept()
            accepted.append(conn)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()

        threading.Thread(target=talk, daemon=True).start()
        with pytest.raises(HostUnreachable, match="SSH handshake failed"):
            connect(spec=f"root@127.0.0.1:{port}", connect_timeout=2).run("true")


def test_sshd_killed_mid_command_is_connection_lost(connect: Connect,
                                                    fresh_sshd: SSHD) -> None:
    transport = connect(fresh_sshd).connect()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            transport.run("sleep 30", timeout=60)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    wait_for_process(fresh_sshd, b"sleep\x0030")
    fresh_sshd.kill_hard()
    worker.join(timeout=20)
    assert outcome and isinstance(outcome[0], ConnectionLost), outcome
    assert "connection lost while running: sleep 30" in one_line(outcome[0])
    with pytest.raises(HostUnreachable):  # reconnecting finds nobody listening
        transport.run("true")


def test_sshd_killed_while_streaming_is_connection_lost(connect: Connect,
                                                        fresh_sshd: SSHD) -> None:
    transport = connect(fresh_sshd)
    with transport.open_process("echo first; sleep 30") as proc:
        assert proc.stdout.readline() == b"first\n"
        fresh_sshd.kill_hard()
        with pytest.raises(ConnectionLost):
            proc.stdout.read()
        with pytest.raises(TransportError):
            proc.wait(timeout=10)


def test_a_connection_that_breaks_under_a_stream_is_never_an_eof_error(
        connect: Connect, fresh_sshd: SSHD) -> None:
    """The connection's socket stops taking data while a stream is open (the keepalive
    watchdog closing it, a network gone): writing to the command, waiting for it and
    leaving it are transport errors or a broken pipe (paramiko's own EOFError, raised for
    a packet it cannot send, never leaks: main would call it an internal error)."""
    transport = connect(fresh_sshd)
    proc = transport.open_process("cat > /dev/null")
    raw = transport._transport
    assert raw is not None
    raw.sock.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]
    with pytest.raises(BrokenPipeError):
        proc.stdin.write(b"x" * MiB)
        proc.stdin.flush()
    with pytest.raises(TransportError):
        proc.wait(timeout=10)
    proc.kill()  # what leaving ``with transport.open_process(...)`` does
    assert transport.run("echo again", timeout=10).text == "again\n"  # a new connection


# -- ssh config --------------------------------------------------------------------------
def test_ssh_config_alias(sshd: SSHD, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host lab-source\n  HostName 127.0.0.1\n  Port {sshd.port}\n"
                      f"  User {sshd.user}\n  IdentityFile {sshd.client_key}\n"
                      "  IdentitiesOnly yes\n\nHost *\n  User nobody-else\n")
    known_hosts = sshd.write_known_hosts(tmp_path / "known_hosts")
    with open_transport("lab-source", ConnectOptions(ssh_config=config,
                                                       known_hosts=known_hosts)) as transport:
        assert transport.name == f"{sshd.user}@127.0.0.1:{sshd.port}"
        assert transport.run("echo via alias").text == "via alias\n"


def test_ssh_config_proxyjump_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host behind\n  ProxyJump bastion\n")
    with pytest.raises(UsageError, match="proxyjump"):
        open_transport("behind", ConnectOptions(ssh_config=config))
