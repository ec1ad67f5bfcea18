"""Editing a zone by dynamic update (RFC 2136) signed with a TSIG key: BIND's way (the
lab's lab-bind), also taken by Knot and PowerDNS (untested here); evacuate.yml ``provider:
rfc2136``. lexicon 3.25's own ``ddns`` provider cannot list records, so evacuate has its own.

Options (``provider_options``): ``server`` (the address updates go to, e.g. the zone's
primary), ``port`` (53), ``key_name``, ``key_algorithm`` (hmac-sha256), ``key_secret``
(base64), ``timeout`` (seconds, 10). ``EVACUATE_RFC2136_<OPTION>`` environment variables
(``EVACUATE_RFC2136_KEY_SECRET``) win over evacuate.yml, as lexicon's ``LEXICON_<PROVIDER>_
<OPTION>`` do. The secret never appears in a message: errors name the zone, the server and
the key's name.

Record sets are read by asking the server itself, without recursion (its own TTLs); each
change replaces one record set in one signed UPDATE, which the server applies whole or not
at all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from evacuate.dns.model import RecordSet
from evacuate.dns.resolve import DnsUpdateError, Resolver, TsigKey, send_update
from evacuate.dns.switch import ProviderError

NAME = "rfc2136"
ENV_PREFIX = "EVACUATE_RFC2136_"
OPTIONS = ("server", "port", "key_name", "key_algorithm", "key_secret", "timeout")
REQUIRED = ("server", "key_name", "key_secret")
DEFAULT_TIMEOUT = 10.0


def option_problems(options: Mapping[str, object]) -> list[tuple[str, str]]:
    """What is wrong with evacuate.yml's rfc2136 ``options`` (the option's name, the
    problem), never showing a value; the environment may still give what is missing."""
    problems = [(key, f"rfc2136 has no option '{key}' (its options: {', '.join(OPTIONS)})")
                for key in options if key not in OPTIONS]
    server = options.get("server")
    if server is not None:
        try:
            ipaddress.ip_address(str(server))
        except ValueError:
            problems.append(("server", "must be an IP address"))
    for key in ("port", "timeout"):
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)
                                  or not str(value).isdigit() or int(value) < 1):
            problems.append((key, "must be a whole number above zero"))
    return problems


class Rfc2136Editor:
    """One zone on one server that takes signed dynamic updates."""

    def __init__(self, zone: str, options: Mapping[str, str | int | bool],
                 environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        merged = {key: str(options[key]) for key in OPTIONS if key in options}
        merged.update({key: env[ENV_PREFIX + key.upper()] for key in OPTIONS
                       if env.get(ENV_PREFIX + key.upper())})
        self.zone = zone.lower().rstrip(".")
        missing = [key for key in REQUIRED if not merged.get(key)]
        if missing:
            raise ProviderError(
                f"zone {self.zone} ({NAME}): no {', '.join(missing)}",
                hint=f"set them in evacuate.yml's provider_options of the zone's provider, or "
                     f"{', '.join(ENV_PREFIX + key.upper() for key in missing)}")
        problems = option_problems(merged)
        if problems:
            key, problem = problems[0]
            raise ProviderError(f"zone {self.zone} ({NAME}): option {key}: {problem}")
        self.server = merged["server"]
        self.port = int(merged.get("port", 53))
        self.timeout = float(merged.get("timeout", DEFAULT_TIMEOUT))
        self.key = TsigKey(merged["key_name"], merged.get("key_algorithm", "hmac-sha256"),
                           merged["key_secret"])
        self._resolver = Resolver(timeout=self.timeout, port=self.port)

    def _fail(self, what: str, reason: str) -> ProviderError:
        reason = reason.replace(self.key.secret, "***") if self.key.secret else reason
        return ProviderError(f"zone {self.zone} ({NAME} at {self.server}): {what} failed: "
                             f"{reason}")

    def _send(self, what: str, rrsets: tuple[RecordSet, ...], require_zone: bool) -> None:
        try:
            send_update(self.server, self.zone, self.key, rrsets, require_zone=require_zone,
                        port=self.port, timeout=self.timeout)
        except DnsUpdateError as error:
            raise self._fail(what, str(error)) from None

    def check(self) -> None:
        """Prove the key to the server without changing anything: an UPDATE whose only
        content is the prerequisite that the zone exists (the server checks the signature,
        and that it is the zone's primary, before it looks at the prerequisite).
        ProviderError when it refuses."""
        self._send("checking the key", (), True)

    def record_set(self, name: str, rtype: str) -> RecordSet | None:
        """``name``/``rtype`` as the server answers it (None: no such records)."""
        answer = self._resolver.ask(self.server, name, rtype)
        if answer.rcode == "NOERROR" and answer.authoritative:
            return answer.rrset(name.lower().rstrip("."), rtype)
        if answer.rcode == "NXDOMAIN" and answer.authoritative:
            return None
        raise self._fail(f"reading {name} {rtype}",
                         f"the server answered {answer.rcode}" +
                         ("" if answer.authoritative else " (not authoritative)"))

    def replace(self, name: str, rtype: str, values: tuple[str, ...], ttl: int) -> None:
        """Make ``name``/``rtype`` hold exactly ``values`` with ``ttl``, in one UPDATE."""
        self._send(f"changing {name} {rtype}", (RecordSet(name, rtype, ttl, values),), False)
