"""A minimal HTTP(S) client for verification, from the controller: GET one path from an
address with any Host header (and TLS SNI), without verifying the certificate (a rebuilt
host serves the source's certificate under a new address, or a self-signed one), and
report the status, the page title, a normalized body hash and the served certificate.

HTTP/1.0 with ``Connection: close`` keeps the exchange simple: no chunking, the body is
everything up to EOF (capped).
"""

from __future__ import annotations

import hashlib
import html
import re
import socket
import ssl
from dataclasses import dataclass, field

from evacuate.cryptolib import certificate_names

MAX_BODY = 4 << 20
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class WebAnswer:
    """What a server answered; ``status`` None with ``error`` when it did not."""

    status: int | None
    title: str = ""
    body_hash: str = ""
    location: str = ""
    cert_subject: str = ""
    cert_sans: tuple[str, ...] = ()
    error: str = ""
    body: bytes = field(default=b"", repr=False)

    def summary(self) -> str:
        if self.status is None:
            return f"no answer ({self.error})"
        text = f"{self.status}"
        if self.title:
            text += f" “{self.title}”"
        if self.location:
            text += f" → {self.location}"
        return text + (f" body {self.body_hash}" if self.body_hash else "")


def page_title(body: bytes) -> str:
    match = _TITLE.search(body)
    if not match:
        return ""
    return " ".join(html.unescape(match.group(1).decode("utf-8", "replace")).split())


def body_digest(body: bytes) -> str:
    """SHA-256 (16 hex digits) of the body with runs of whitespace collapsed, so that
    re-indented or re-wrapped but identical content compares equal."""
    normal = b" ".join(body.split())
    return hashlib.sha256(normal).hexdigest()[:16]


def normalize_name(name: str) -> str:
    """A distinguished name as a sorted, comma-joined list of its attributes (the order
    tools print RDNs in differs)."""
    parts = [p.strip() for p in re.split(r"(?<!\\),", name) if p.strip()]
    return ",".join(sorted(parts))


def _certificate(der: bytes | None) -> tuple[str, tuple[str, ...]]:
    if not der:
        return "", ()
    subject, sans = certificate_names(der)
    return normalize_name(subject), sans


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Split a raw HTTP response into status, headers (lower-case names) and body; raise
    ValueError when it is not one."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.decode("iso-8859-1").splitlines()
    if not lines or not lines[0].startswith("HTTP/"):
        raise ValueError("not an HTTP response")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def fetch(address: str, port: int, *, tls: bool, host: str, path: str = "/",
          timeout: float = 10.0) -> WebAnswer:
    """GET ``path`` from ``address``:``port`` with Host ``host``; never raises for network
    problems (they come back as ``error``)."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as plain:
            sock: socket.socket = plain
            cert: tuple[str, tuple[str, ...]] = ("", ())
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(plain, server_hostname=host)
                cert = _certificate(sock.getpeercert(binary_form=True))
            request = (f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: evacuate-verify\r\n"
                       "Accept: */*\r\nConnection: close\r\n\r\n")
            sock.sendall(request.encode("ascii"))
            chunks, size = [], 0
            while size < MAX_BODY and (chunk := sock.recv(65536)):
                chunks.append(chunk)
                size += len(chunk)
            status, headers, body = parse_response(b"".join(chunks))
    except (OSError, ValueError, IndexError) as error:
        return WebAnswer(None, error=f"{type(error).__name__}: {error}"[:160])
    return WebAnswer(status, page_title(body), body_digest(body), headers.get("location", ""),
                     cert[0], cert[1], body=body)


def reachable(address: str, port: int, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``address``:``port`` succeeds within ``timeout``."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False
