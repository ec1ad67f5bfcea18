"""known_hosts files, read and checked the way OpenSSH does (pure stdlib, no paramiko).

Supported: plain and hashed (``|1|salt|hash``) host names, ``[host]:port`` names,
``*``/``?`` wildcards and ``!`` negations, ``@revoked`` lines. ``@cert-authority``
lines are ignored (host certificates are not supported). Keys are compared as SSH
wire blobs, so any key type works.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evacuate.errors import HostKeyError


@dataclass(frozen=True)
class KnownHostKey:
    """One key line of a known_hosts file that matched a host."""

    path: Path
    lineno: int
    key_type: str
    blob: bytes
    revoked: bool = False

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)


def fingerprint(blob: bytes) -> str:
    """Return the OpenSSH SHA256 fingerprint (``SHA256:...``) of a public key blob."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def blob_type(blob: bytes) -> str:
    """Return the key type named inside an SSH public key blob ('' if malformed)."""
    if len(blob) < 4:
        return ""
    (size,) = struct.unpack(">I", blob[:4])
    return blob[4 : 4 + size].decode("ascii", "replace")


def host_key_name(host: str, port: int) -> str:
    """Return the name known_hosts uses for ``host:port`` (``host`` or ``[host]:port``)."""
    return host if port == 22 else f"[{host}]:{port}"


def hash_host(name: str, salt: bytes) -> str:
    """Return ``name`` hashed the way ``HashKnownHosts yes`` stores it."""
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


def host_matches(name: str, patterns: Sequence[str]) -> bool:
    """Return True if ``name`` matches the comma-split host field ``patterns``."""
    name, matched = name.lower(), False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        if pattern.startswith("|1|"):
            try:
                salt = base64.b64decode(pattern.split("|")[2], validate=True)
            except (binascii.Error, IndexError):
                continue
            hit = hmac.compare_digest(hash_host(name, salt), pattern)
        else:
            hit = _wildcard(pattern.lower()).fullmatch(name) is not None
        if hit and negated:
            return False
        matched = matched or hit
    return matched


def _wildcard(pattern: str) -> re.Pattern[str]:
    # OpenSSH patterns know only '*' and '?'; '[' is literal (as in "[host]:port").
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


def read_known_hosts(path: Path, name: str) -> list[KnownHostKey]:
    """Return the keys ``path`` lists for ``name``; a missing or unreadable file and
    malformed lines are skipped, as OpenSSH does."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for lineno, raw in enumerate(lines, 1):
        fields, revoked = raw.split(), False
        if fields and fields[0].startswith("@"):
            revoked = fields.pop(0) == "@revoked"
            if not revoked:
                continue
        if len(fields) < 3 or fields[0].startswith("#"):
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except binascii.Error:
            continue
        if blob_type(blob) and host_matches(name, fields[0].split(",")):
            found.append(KnownHostKey(path, lineno, blob_type(blob), blob, revoked))
    return found


def verify_host_key(label: str, name: str, blob: bytes, known: Sequence[KnownHostKey],
                    known_hosts: Path, *, trust_unknown: bool) -> bool:
    """Check the server key ``blob`` of host ``label`` (known_hosts name ``name``)
    against ``known``. Return False if it is known, True if it is unknown and
    ``trust_unknown`` (the caller then records it). Raise HostKeyError if it is
    revoked, differs from a known key, or is unknown and not trusted."""
    shown = f"{blob_type(blob)} {fingerprint(blob)}"
    same = [k for k in known if k.blob == blob]
    for k in same:
        if k.revoked:
            raise HostKeyError(f"{label}: host key {shown} is marked @revoked in "
                               f"{k.path}:{k.lineno} — refusing to connect")
    if same:
        return False
    valid = [k for k in known if not k.revoked]
    if valid:
        k = next((k for k in valid if k.key_type == blob_type(blob)), valid[0])
        what = "a different key" if k.key_type == blob_type(blob) else f"a {k.key_type} key instead"
        raise HostKeyError(
            f"{label}: host key changed ({shown}); known_hosts {k.path}:{k.lineno} has {what} "
            "— refusing to connect",
            hint=(f"if the host was reinstalled, verify the new fingerprint out of band, then run "
                  f"ssh-keygen -R '{name}' -f {k.path}; otherwise the connection may be "
                  "intercepted"))
    if not trust_unknown:
        raise HostKeyError(
            f"{label}: unknown host key ({shown}); not in known_hosts {known_hosts} "
            "— refusing to connect",
            hint=("verify the fingerprint out of band (e.g. on the hoster's console: "
                  "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then trust it explicitly "
                  "or connect once with ssh to record it"))
    return True


def record_host_key(path: Path, name: str, blob: bytes) -> None:
    """Append ``name``'s key to ``path`` (file 0600, directory 0700 if created).
    Raise OSError if that fails."""
    line = f"{name} {blob_type(blob)} {base64.b64encode(blob).decode()}\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                line = "\n" + line
        f.write(line.encode())
