"""Which host the user means, and how to reach it.

A host argument is either the name of a host or target in evacuate.yml, or an SSH spec
(``root@203.0.113.10``, ``ops@web1:2222``, ``local``). Connection settings come from the
config's ``ssh`` section when there is a config, else from ~/.ssh as OpenSSH would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from evacuate.config import Config
from evacuate.transport import ConnectOptions, HostSpec, Transport, open_transport, parse_host_spec

__all__ = ["ConnectOptions", "HostRef", "connect", "resolve_host"]


@dataclass(frozen=True)
class HostRef:
    """A resolved host: its label for messages and files, its SSH spec, privilege mode."""

    label: str
    spec: HostSpec
    become: bool = False
    role: str = "host"  # host (a source in the config), target, or adhoc (an SSH spec)

    @property
    def file_label(self) -> str:
        """The label made safe as a file name."""
        return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in self.label)


def resolve_host(text: str, config: Config | None) -> HostRef:
    """Resolve ``text`` against the config's hosts and targets, else parse it as a spec.
    Raise UsageError when it is neither."""
    if config is not None:
        if text in config.hosts:
            host = config.hosts[text]
            return HostRef(text, _spec(host.ssh), host.become, "host")
        if text in config.targets:
            target = config.targets[text]
            return HostRef(text, _spec(target.ssh), target.become, "target")
    spec = parse_host_spec(text)
    return HostRef(str(spec), spec, False, "adhoc")


def _spec(value: object) -> HostSpec:
    return value if isinstance(value, HostSpec) else parse_host_spec(str(value))


def connect(ref: HostRef, options: ConnectOptions) -> Transport:
    """Open (lazily) a transport to ``ref`` (as root through sudo when it says ``become``)."""
    return open_transport(ref.spec, options.becoming(
        ref.become, become_password() if ref.become else None))


BECOME_PASSWORD_ENV = "EVACUATE_BECOME_PASSWORD"
"""The sudo password for hosts whose SSH user needs one (``become``); read from the
environment only, so it is never in a file, a command line or a log."""


def become_password() -> str | None:
    return os.environ.get(BECOME_PASSWORD_ENV) or None
