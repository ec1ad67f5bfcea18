"""Transports: how evacuate reaches a host. :func:`open_transport` turns a host spec
into a :class:`Transport`, picking the implementation from the spec's scheme."""

from __future__ import annotations

from collections.abc import Callable

from evacuate.errors import UsageError
from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport, render_command
from evacuate.transport.options import ConnectOptions
from evacuate.transport.spec import HostSpec, parse_host_spec
from evacuate.transport.throttle import RateLimit, limited

__all__ = [
    "TRANSPORTS",
    "Command",
    "CommandResult",
    "ConnectOptions",
    "HostSpec",
    "RateLimit",
    "RemoteProcess",
    "Transport",
    "open_transport",
    "parse_host_spec",
    "render_command",
]


def _open_ssh(spec: HostSpec, options: ConnectOptions) -> Transport:
    from evacuate.transport.ssh import SSHTransport  # paramiko is loaded only when needed

    return SSHTransport(spec, options)


def _open_local(spec: HostSpec, options: ConnectOptions) -> Transport:
    from evacuate.transport.local import LocalTransport

    return LocalTransport(become=options.become)


TRANSPORTS: dict[str, Callable[[HostSpec, ConnectOptions], Transport]] = {
    "ssh": _open_ssh,
    "local": _open_local,
}
"""Scheme of a host spec → factory of its transport."""


def open_transport(spec: str | HostSpec, options: ConnectOptions | None = None) -> Transport:
    """Return a transport for ``spec`` (see :func:`parse_host_spec`) connecting with
    ``options``. Nothing is connected yet: the first command connects
    (SSHTransport.connect() does it now). With ``options.limit_rate`` every stream of the
    transport is throttled to it (evacuate.transport.throttle), and charged on
    ``options.fleet_limit`` too. Raise UsageError for a bad spec, ConfigError for
    an unreadable ssh config."""
    host = parse_host_spec(spec) if isinstance(spec, str) else spec
    factory = TRANSPORTS.get(host.scheme)
    if factory is None:
        raise UsageError(f"{host}: no transport for scheme {host.scheme!r}",
                         hint=f"use one of: {', '.join(TRANSPORTS)}")
    options = options or ConnectOptions()
    return limited(factory(host, options), options.limit_rate, options.fleet_limit)
