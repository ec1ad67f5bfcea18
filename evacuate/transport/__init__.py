"""Transports: how evacuate reaches a host. :func:`open_transport` turns a host spec
into a :class:`Transport`, picking the implementation from the spec's scheme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evacuate.errors import UsageError
from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport, render_command
from evacuate.transport.spec import HostSpec, parse_host_spec

__all__ = [
    "TRANSPORTS",
    "Command",
    "CommandResult",
    "HostSpec",
    "RemoteProcess",
    "Transport",
    "TransportOptions",
    "open_transport",
    "parse_host_spec",
    "render_command",
]


@dataclass(frozen=True)
class TransportOptions:
    """Connection options; each transport uses the ones that apply to it."""

    known_hosts: Path | None = None
    identity: Path | None = None
    ssh_config: Path | None = None
    trust_unknown: bool = False
    connect_timeout: float = 10.0
    become: bool = False
    become_password: str | None = field(default=None, repr=False)  # a secret: never shown


def _open_ssh(spec: HostSpec, options: TransportOptions) -> Transport:
    from evacuate.transport.ssh import SSHTransport  # paramiko is loaded only when needed

    return SSHTransport(spec, known_hosts=options.known_hosts, identity=options.identity,
                        ssh_config=options.ssh_config, trust_unknown=options.trust_unknown,
                        connect_timeout=options.connect_timeout, become=options.become,
                        become_password=options.become_password)


def _open_local(spec: HostSpec, options: TransportOptions) -> Transport:
    from evacuate.transport.local import LocalTransport

    return LocalTransport(become=options.become)


TRANSPORTS: dict[str, Callable[[HostSpec, TransportOptions], Transport]] = {
    "ssh": _open_ssh,
    "local": _open_local,
}
"""Scheme of a host spec → factory of its transport."""


def open_transport(spec: str | HostSpec, *, known_hosts: Path | None = None,
                   identity: Path | None = None, ssh_config: Path | None = None,
                   trust_unknown: bool = False, connect_timeout: float = 10.0,
                   become: bool = False, become_password: str | None = None) -> Transport:
    """Return a transport for ``spec`` (see :func:`parse_host_spec`). Nothing is
    connected yet: the first command connects (SSHTransport.connect() does it now).
    Raise UsageError for a bad spec, ConfigError for an unreadable ssh config."""
    host = parse_host_spec(spec) if isinstance(spec, str) else spec
    factory = TRANSPORTS.get(host.scheme)
    if factory is None:
        raise UsageError(f"{host}: no transport for scheme {host.scheme!r}",
                         hint=f"use one of: {', '.join(TRANSPORTS)}")
    options = TransportOptions(known_hosts=known_hosts, identity=identity, ssh_config=ssh_config,
                               trust_unknown=trust_unknown, connect_timeout=connect_timeout,
                               become=become, become_password=become_password)
    return factory(host, options)
