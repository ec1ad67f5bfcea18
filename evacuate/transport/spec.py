"""Host specs: the strings users type to name a host (``root@web1:2222``, ``local``, ...).

Parsing is pure and strict: anything that is not clearly a host raises
:class:`~evacuate.errors.UsageError` with a one-line message, never another
exception. Resolution against ``~/.ssh/config`` happens later, in the SSH
transport; here a bare name such as ``web1`` may still be an ssh config alias.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NoReturn

from evacuate.errors import UsageError

SCHEMES = ("ssh", "local")
"""Schemes a spec may name explicitly (``ssh://...``, ``local://``)."""

_HINT = "write a host as host, user@host, user@host:port, ssh://user@host:port, [ipv6]:port or local"
# POSIX-ish user names, plus the trailing '$' Samba machine accounts use.
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\$?")
# Host names and ssh config aliases: dot-separated labels; no leading '-' (it
# would read as an option to ssh), no spaces, no shell or URL metacharacters.
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})")
_MAX_SHOWN = 60


def _shown(value: str) -> str:
    """``value`` quoted for a message, at most about _MAX_SHOWN characters however it
    escapes (a control or astral character takes up to ten)."""
    quoted = repr(value)
    return quoted if len(quoted) <= _MAX_SHOWN else quoted[:_MAX_SHOWN - 4] + "...'"


@dataclass(frozen=True)
class HostSpec:
    """A parsed host spec. ``user``/``port`` are None when the spec left them out
    (ssh config or the defaults decide later). ``scheme`` is ``ssh`` or ``local``."""

    user: str | None
    host: str
    port: int | None = None
    scheme: str = "ssh"

    @property
    def is_local(self) -> bool:
        return self.scheme == "local"

    def __str__(self) -> str:
        if self.is_local:
            return "local"
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{user}{host}{port}"


def parse_host_spec(text: str) -> HostSpec:
    """Parse ``text`` into a :class:`HostSpec`.

    Accepted: ``host``, ``user@host``, ``user@host:port``, ``ssh://user@host:port``
    (trailing ``/`` allowed), ``[v6addr]``, ``user@[v6addr]:port``, a bare IPv6
    address without port, and ``local`` / ``local://`` for the controller itself.
    Raise UsageError (one line, with a hint) for anything else.
    """
    if not isinstance(text, str):
        raise UsageError(f"host spec must be text, not {type(text).__name__}", hint=_HINT)
    spec = text.strip()
    if not spec:
        raise UsageError("empty host spec", hint=_HINT)
    scheme = "ssh"
    if "://" in spec:
        scheme, _, spec = spec.partition("://")
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            _fail(text, f"unknown scheme {_shown(scheme)} (known: {', '.join(SCHEMES)})")
        if spec.endswith("/"):
            spec = spec[:-1]
        if scheme == "local":
            if spec:
                _fail(text, "local:// takes no host")
            return HostSpec(user=None, host="localhost", port=None, scheme="local")
        if not spec:
            _fail(text, "no host after ssh://")
    elif spec.lower() == "local":
        return HostSpec(user=None, host="localhost", port=None, scheme="local")

    user: str | None = None
    if "@" in spec:
        user, _, spec = spec.rpartition("@")
        if not _USER.fullmatch(user):
            _fail(text, f"invalid user name {_shown(user)}")
    host, port = _split_host_port(text, spec)
    return HostSpec(user=user, host=host, port=port, scheme=scheme)


def _split_host_port(text: str, spec: str) -> tuple[str, int | None]:
    if spec.startswith("["):
        inner, sep, rest = spec[1:].partition("]")
        if not sep:
            _fail(text, "missing ']' after IPv6 address")
        host = _ipv6(text, inner)
        if not rest:
            return host, None
        if not rest.startswith(":"):
            _fail(text, f"unexpected {_shown(rest)} after ']'")
        return host, _port(text, rest[1:])
    if spec.count(":") > 1:  # a bare IPv6 address; a port needs brackets
        return _ipv6(text, spec), None
    host, sep, port_text = spec.partition(":")
    return _hostname(text, host), (_port(text, port_text) if sep else None)


def _ipv6(text: str, candidate: str) -> str:
    try:
        return str(ipaddress.IPv6Address(candidate))
    except ValueError:
        _fail(text, f"{_shown(candidate)} is not an IPv6 address")


def _hostname(text: str, host: str) -> str:
    if not host:
        _fail(text, "no host name")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        _fail(text, f"invalid host name {_shown(host)}")
    return host


def _port(text: str, port: str) -> int:
    # isascii: int() would also accept other scripts' digits and '1_000'.
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        _fail(text, f"invalid port {_shown(port)} (expected 1-65535)")
    return int(port)


def _fail(text: str, reason: str) -> NoReturn:
    raise UsageError(f"invalid host spec {_shown(text)}: {reason}", hint=_HINT)

