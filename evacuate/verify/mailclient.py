"""A minimal mail client for verification, from the controller (the one importer of
imaplib and smtplib): read an SMTP server's greeting, and log in over IMAP to count the
messages of every mailbox without changing anything (EXAMINE opens a mailbox read-only,
so no flag or \\Recent state moves).

IMAP upgrades to TLS with STARTTLS when the server offers it, without verifying the
certificate (a rebuilt host serves the source's certificate under a new address, or a
self-signed one); the password is only ever sent over TLS unless the server offers none.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from evacuate.inventory.facts.mail import decode_mutf7

_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


class MailClientError(Exception):
    """The server did not answer as a mail server should (the message says how)."""


@dataclass(frozen=True)
class ImapCounts:
    """Messages per mailbox (names decoded to UTF-8) as one user sees them over IMAP."""

    user: str
    mailboxes: dict[str, int]
    tls: bool


def smtp_greeting(address: str, port: int = 25, timeout: float = 10.0) -> str:
    """The server's greeting line, e.g. ``220 mx.example.org ESMTP Postfix``; the
    session ends with QUIT."""
    client = smtplib.SMTP(timeout=timeout)
    try:
        code, text = client.connect(address, port)
    except (OSError, smtplib.SMTPException) as error:
        raise MailClientError(f"no SMTP greeting at {address}:{port}: {error}") from error
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
    return f"{code} {text.decode(errors='replace')}"


def _unquote(name: bytes) -> str:
    raw = name.strip()
    if raw.startswith(b'"') and raw.endswith(b'"'):
        raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw.decode("utf-8", errors="replace")


def parse_list(lines: Sequence[object]) -> list[str]:
    """Selectable mailbox names (as the server spells them) from a LIST answer."""
    names = []
    for line in lines:
        if isinstance(line, tuple):  # a literal: (b'(...) "." {7}', b'INBOX.x')
            head, literal = line
            line = head.rsplit(b" ", 1)[0] + b' "' + literal.replace(b'"', b'\\"') + b'"'
        if not isinstance(line, bytes) or not line:
            continue
        match = _LIST.match(line)
        if match is None or b"\\noselect" in match.group("flags").lower() \
                or b"\\nonexistent" in match.group("flags").lower():
            continue
        names.append(_unquote(match.group("name")))
    return names


def imap_counts(address: str, user: str, password: str, port: int = 143,
                timeout: float = 15.0) -> ImapCounts:
    """Log in as ``user`` and count the messages of every selectable mailbox."""
    try:
        client = imaplib.IMAP4(address, port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailClientError(f"no IMAP server at {address}:{port}: {error}") from error
    try:
        tls = "STARTTLS" in client.capabilities
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            client.starttls(ssl_context=context)
        client.login(user, password)
        status, listed = client.list()
        if status != "OK":
            raise MailClientError(f"LIST failed for {user}")
        counts = {}
        for name in parse_list(listed):
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            status, data = client.select(quoted, readonly=True)
            if status != "OK" or not data or data[0] is None:
                raise MailClientError(f"EXAMINE {name} failed for {user}")
            counts[decode_mutf7(name)] = int(data[0])
            client.close()
        return ImapCounts(user, counts, tls)
    except imaplib.IMAP4.error as error:
        # the server's words (e.g. "[AUTHENTICATIONFAILED] Authentication failed."),
        # never the password
        raise MailClientError(f"IMAP as {user}: {error}") from error
    except (TimeoutError, OSError, ssl.SSLError) as error:
        raise MailClientError(f"IMAP as {user} at {address}:{port}: {error}") from error
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
