"""How to connect: the one value that carries connection settings from evacuate.yml's
``ssh`` section and the command line to the transport factory
(:func:`evacuate.transport.open_transport`) and on into the transport itself."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from evacuate.transport.throttle import LimitShare, RateLimit


@dataclass(frozen=True)
class ConnectOptions:
    """Connection options; each transport uses the ones that apply to it (the local one
    only ``become``).

    ``known_hosts``: the file host keys are checked against (None: the ssh config's
    UserKnownHostsFile, else ~/.ssh/known_hosts, plus /etc/ssh/ssh_known_hosts);
    ``identity``: a private key tried first; ``ssh_config``: the OpenSSH client config to
    follow (None: ~/.ssh/config); ``trust_unknown``: record an unknown host key instead of
    refusing it; ``become``/``become_password``: run commands as root through sudo (the
    password is a secret: never shown); ``use_agent``: offer the ssh agent's keys;
    ``limit_rate``: every stream to and from the host shares this bandwidth (see
    evacuate.transport.throttle; None: unlimited); ``fleet_limit``: the host's share of a
    limit every host of the process shares (a fleet's; charged as well as ``limit_rate``).
    """

    known_hosts: Path | None = None
    identity: Path | None = None
    ssh_config: Path | None = None
    trust_unknown: bool = False
    connect_timeout: float = 10.0
    become: bool = False
    become_password: str | None = field(default=None, repr=False)
    use_agent: bool = True
    limit_rate: RateLimit | None = None
    fleet_limit: LimitShare | None = field(default=None, compare=False, repr=False)

    def for_host(self, host: str) -> ConnectOptions:
        """These options with the fleet limit charged to ``host`` (the same shared bucket)."""
        if self.fleet_limit is None:
            return self
        return replace(self, fleet_limit=self.fleet_limit.limit.share(host))

    def becoming(self, become: bool, password: str | None = None) -> ConnectOptions:
        """These options for one host: root through sudo when ``become`` (with ``password``
        if its sudo asks for one), else as the SSH user."""
        return replace(self, become=become, become_password=password if become else None)
