"""ACME certificate renewals that cannot succeed on the target until DNS points at it.

certbot keeps one renewal config per certificate (``/etc/letsencrypt/renewal/NAME.conf``:
``authenticator`` under ``[renewalparams]``, the webroot's names under ``[[webroot_map]]``);
acme.sh one ``DOMAIN.conf`` per certificate in its home (``Le_Domain``, ``Le_Alt``,
``Le_Webroot``: a directory or ``no`` for HTTP-01, ``dns_*`` for DNS-01). An HTTP-01
challenge is answered by whichever host the names resolve to: on the target it fails until
the switch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from evacuate.inventory.model_apps import Certificate

HTTP01_AUTHENTICATORS = {"webroot", "standalone", "nginx", "apache"}
CERTBOT_RENEWAL = re.compile(r"^/etc/letsencrypt/renewal/[^/]+\.conf$")
ACME_SH_CONF = re.compile(r"^(?:/root|/home/[^/]+|/etc/acme\.sh)/(?:\.acme\.sh/)?"
                          r"(?P<dir>[^/]+)/(?P=dir)\.conf$")


@dataclass(frozen=True)
class Renewal:
    """One certificate's renewal: the client, its config file, the certificate's name, how
    it proves control (``challenge``: http-01 or dns-01, ``method``: the authenticator)
    and the names it renews."""

    client: str
    path: str
    name: str
    method: str
    challenge: str
    names: tuple[str, ...]


def renewal_paths(paths: Iterable[str]) -> set[str]:
    """The paths among ``paths`` that are certbot renewal or acme.sh certificate configs."""
    return {p for p in paths if CERTBOT_RENEWAL.match(p) or ACME_SH_CONF.match(p)}


def parse_certbot(path: str, text: str) -> Renewal:
    name = path.rsplit("/", 1)[-1].removesuffix(".conf")
    section, method, names = "", "", [name]
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if section == "renewalparams" and key == "authenticator":
            method = value
        elif section == "webroot_map" and key not in names:
            names.append(key)
    return Renewal("certbot", path, name, method,
                   "http-01" if method in HTTP01_AUTHENTICATORS else "dns-01", tuple(names))


def parse_acme_sh(path: str, text: str) -> Renewal:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'\"")
    name = values.get("Le_Domain", path.rsplit("/", 1)[-1].removesuffix(".conf"))
    alt = [n for n in values.get("Le_Alt", "").split(",") if n and n != "no"]
    webroot = values.get("Le_Webroot", "")
    challenge = "dns-01" if webroot.startswith("dns_") else "http-01"
    method = webroot if challenge == "dns-01" else ("standalone" if webroot == "no" else "webroot")
    return Renewal("acme.sh", path, name, method, challenge, tuple([name, *alt]))


def renewals(texts: Mapping[str, str]) -> list[Renewal]:
    """The renewals the config files among ``texts`` (path → content) describe."""
    found = []
    for path, text in sorted(texts.items()):
        if CERTBOT_RENEWAL.match(path):
            found.append(parse_certbot(path, text))
        elif ACME_SH_CONF.match(path) and "Le_Domain" in text:
            found.append(parse_acme_sh(path, text))
    return found


def _expiry(renewal: Renewal, certificates: Iterable[Certificate]) -> datetime | None:
    for cert in certificates:
        if f"/live/{renewal.name}/" in cert.path or f"DNS:{renewal.name}" in cert.sans:
            try:
                return datetime.strptime(cert.not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                return None
    return None


def renewal_warnings(texts: Mapping[str, str], certificates: Iterable[Certificate],
                     now: datetime) -> list[str]:
    """One warning per HTTP-01 renewal: it fails on the target until the switch (with the
    certificate's expiry and days left when the inventory has the certificate)."""
    certificates = tuple(certificates)
    warnings = []
    for renewal in renewals(texts):
        if renewal.challenge != "http-01":
            continue
        expires = _expiry(renewal, certificates)
        left = (f"; it expires {expires:%Y-%m-%d} ({(expires - now).days} days)"
                if expires else "")
        warnings.append(f"certificate {renewal.name} ({renewal.path}): {renewal.client} renews "
                        f"it over HTTP-01 ({renewal.method}), which fails on the target until "
                        f"DNS for {', '.join(renewal.names)} points at it{left}")
    return warnings
