"""LocalTransport: the same contract as SSH, on the controller."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from evacuate.errors import RemoteCommandError, RemoteTimeout
from evacuate.transport import open_transport
from evacuate.transport.local import LocalTransport


@pytest.fixture
def local() -> LocalTransport:
    transport = open_transport("local")
    assert isinstance(transport, LocalTransport)
    return transport


def test_run_collects_stdout_stderr_and_status(local: LocalTransport) -> None:
    result = local.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_status) == (b"out\n", b"err\n", 3)
    assert result.host == "local" and not result.ok


def test_argument_lists_are_quoted(local: LocalTransport) -> None:
    assert local.run(["printf", "%s|", "a b", "$HOME", "it's"]).text == "a b|$HOME|it's|"


def test_runs_posix_sh(local: LocalTransport) -> None:
    # `sh -c`, whatever the user's shell: $0 is sh.
    assert local.run('echo "$0"').text.strip() == "sh"


def test_check_raises_one_line_error(local: LocalTransport) -> None:
    with pytest.raises(RemoteCommandError) as caught:
        local.run("echo first >&2; echo boom >&2; exit 4", check=True)
    assert caught.value.exit_status == 4
    assert str(caught.value) == "local: command failed with exit status 4: " \
        "echo first >&2; echo boom >&2; exit 4: boom"


def test_input_goes_to_stdin(local: LocalTransport) -> None:
    assert local.run("tr a-z A-Z", input=b"hello").stdout == b"HELLO"


def test_large_output_on_both_streams(local: LocalTransport) -> None:
    result = local.run("head -c 5000000 /dev/zero; head -c 3000000 /dev/zero >&2")
    assert (len(result.stdout), len(result.stderr)) == (5_000_000, 3_000_000)


def test_timeout_kills_the_whole_group(local: LocalTransport, tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as caught:
        local.run(f"sleep 0.5 && touch {marker} & sleep 30", timeout=0.2)
    assert time.monotonic() - started < 5
    assert "timed out after 0.2s" in str(caught.value)
    time.sleep(0.6)
    assert not marker.exists()


def test_run_script(local: LocalTransport) -> None:
    assert local.run_script("a=1\nb=2\necho $((a+b))\n").text == "3\n"


def test_open_process_streams(local: LocalTransport) -> None:
    size = 20 * 1024 * 1024
    with local.open_process("sha256sum") as proc:
        chunk = b"x" * 65536
        for _ in range(size // len(chunk)):
            proc.stdin.write(chunk)
        proc.stdin.close()
        digest = proc.stdout.read().split()[0].decode()
        assert proc.wait(timeout=10) == 0
    assert digest == hashlib.sha256(b"x" * size).hexdigest()


def test_open_process_keeps_stderr_tail(local: LocalTransport) -> None:
    with local.open_process("head -c 200000 /dev/zero | tr '\\0' e >&2; echo last >&2; exit 2") as proc:
        assert proc.stdout.read() == b""
        assert proc.wait() == 2
        text = proc.stderr_text()
    assert text.endswith("last\n") and len(text) <= 64 * 1024


def test_open_process_wait_timeout_kills(local: LocalTransport) -> None:
    proc = local.open_process("sleep 30")
    with pytest.raises(RemoteTimeout):
        proc.wait(timeout=0.2)
    proc.kill()  # idempotent


def test_put_get_roundtrip_with_mode(local: LocalTransport, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(os.urandom(300_000))
    local.put(source, str(tmp_path / "remote"), mode=0o640)
    assert (tmp_path / "remote").stat().st_mode & 0o777 == 0o640
    local.get(str(tmp_path / "remote"), tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


def test_put_to_missing_directory_is_our_error(local: LocalTransport, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(RemoteCommandError, match="cannot copy"):
        local.put(tmp_path / "f", str(tmp_path / "no" / "such" / "dir"))


def test_close_is_idempotent(local: LocalTransport) -> None:
    with local:
        pass
    local.close()
