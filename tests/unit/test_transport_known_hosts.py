"""known_hosts reading and host key verdicts (pure; the sshd tests cover the wiring)."""

from __future__ import annotations

import base64
import os
import struct
from pathlib import Path

import pytest

from evacuate.errors import HostKeyError
from evacuate.transport.known_hosts import (
    fingerprint,
    hash_host,
    host_key_name,
    host_matches,
    read_known_hosts,
    record_host_key,
    verify_host_key,
)


def blob(key_type: str = "ssh-ed25519", seed: bytes = b"a") -> bytes:
    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data
    return field(key_type.encode()) + field(seed * 32)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_host_key_name() -> None:
    assert host_key_name("h", 22) == "h"
    assert host_key_name("h", 2222) == "[h]:2222"


@pytest.mark.parametrize(("name", "patterns", "expected"), [
    ("web1", ["web1"], True),
    ("WEB1", ["web1"], True),
    ("[h]:2222", ["[h]:2222"], True),
    ("[h]:2222", ["h"], False),
    ("web1.example.com", ["*.example.com"], True),
    ("web1.example.com", ["*.example.com", "!web1.example.com"], False),
    ("web2", ["web?"], True),
    ("w", ["[w]"], False),
])
def test_host_matches(name: str, patterns: list[str], expected: bool) -> None:
    assert host_matches(name, patterns) is expected


def test_hashed_names_match() -> None:
    hashed = hash_host("[127.0.0.1]:2222", os.urandom(20))
    assert host_matches("[127.0.0.1]:2222", [hashed])
    assert not host_matches("[127.0.0.1]:2223", [hashed])


def test_read_skips_garbage_and_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text("\n".join([
        "# comment",
        "garbage",
        f"other {'ssh-ed25519'} {b64(blob(seed=b'o'))}",
        "h ssh-ed25519 !!notbase64!!",
        f"@cert-authority h ssh-ed25519 {b64(blob(seed=b'c'))}",
        f"h,alias ssh-ed25519 {b64(blob())} comment here",
        f"@revoked h ssh-ed25519 {b64(blob(seed=b'r'))}",
    ]) + "\n")
    found = read_known_hosts(path, "h")
    assert [(k.lineno, k.revoked) for k in found] == [(6, False), (7, True)]
    assert read_known_hosts(tmp_path / "missing", "h") == []


def test_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"h ssh-ed25519 {b64(blob())}\n@revoked h ssh-ed25519 {b64(blob(seed=b'r'))}\n")
    known = read_known_hosts(path, "h")
    assert verify_host_key("root@h:22", "h", blob(), known, path, trust_unknown=False) is False
    with pytest.raises(HostKeyError, match=rf"host key changed .*{path}:1 has a different key"):
        verify_host_key("root@h:22", "h", blob(seed=b"x"), known, path, trust_unknown=True)
    with pytest.raises(HostKeyError, match="marked @revoked"):
        verify_host_key("root@h:22", "h", blob(seed=b"r"), known, path, trust_unknown=True)
    with pytest.raises(HostKeyError, match="has a ssh-ed25519 key instead"):
        verify_host_key("root@h:22", "h", blob("ssh-rsa"), known, path, trust_unknown=True)
    with pytest.raises(HostKeyError, match="unknown host key") as caught:
        verify_host_key("root@n:22", "n", blob(), [], path, trust_unknown=False)
    assert fingerprint(blob()) in str(caught.value) and caught.value.hint
    assert verify_host_key("root@n:22", "n", blob(), [], path, trust_unknown=True) is True


def test_record_appends_after_a_missing_newline(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "known_hosts"
    record_host_key(path, "[n]:2222", blob())
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text(path.read_text().rstrip("\n"))
    record_host_key(path, "m", blob(seed=b"m"))
    assert len(path.read_text().splitlines()) == 2
    assert [k.lineno for k in read_known_hosts(path, "m")] == [2]


def test_fingerprint_matches_openssh_format() -> None:
    assert fingerprint(blob()).startswith("SHA256:") and not fingerprint(blob()).endswith("=")
