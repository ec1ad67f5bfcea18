"""Fact family ``certificates``: TLS certificates the host serves or keeps locally:
those referenced by nginx/apache configuration, Let's Encrypt's live certificates,
and regular (non-symlink) files in /etc/ssl/certs and /etc/pki/tls/certs other
than the CA bundle. Only public certificate data is read, never a key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from evacuate.inventory.facts.base import Fact, dedupe, snippet, split_parts
from evacuate.inventory.model import Certificate


def openssl_date(value: str) -> str:
    """'Nov 23 17:29:53 2027 GMT' -> '2027-11-23T17:29:53Z'; unreadable -> ''."""
    try:
        parsed = datetime.strptime(value.strip(), "%b %d %H:%M:%S %Y %Z")
    except ValueError:
        return ""
    return parsed.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _certificate(path: str, text: str) -> Certificate | None:
    fields: dict[str, str] = {}
    sans: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        key, sep, value = line.partition("=")
        if sep and key in ("subject", "issuer", "notBefore", "notAfter"):
            fields[key] = value.strip()
        elif "Subject Alternative Name" in line and i + 1 < len(lines):
            for item in lines[i + 1].split(","):
                kind, _, name = item.strip().partition(":")
                if name:
                    sans.append(f"{'IP' if kind.startswith('IP') else kind}:{name.strip()}")
    if "subject" not in fields and "notAfter" not in fields:
        return None
    return Certificate(
        path=path, subject=fields.get("subject", ""), issuer=fields.get("issuer", ""),
        sans=dedupe(sans), not_before=openssl_date(fields.get("notBefore", "")),
        not_after=openssl_date(fields.get("notAfter", "")),
    )


def parse(text: str) -> tuple[Certificate, ...]:
    """Parse the ``certificates`` section; files that are not certificates are skipped."""
    certs = []
    for part in split_parts(text):
        if part.kind == "cert":
            cert = _certificate(part.args, part.text)
            if cert is not None:
                certs.append(cert)
    return tuple(certs)


FACT = Fact(name="certificates", script=snippet("certificates"), parse=parse, default=tuple, timeout=60)
