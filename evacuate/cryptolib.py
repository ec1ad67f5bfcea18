"""The primitives evacuate takes from the ``cryptography`` package, behind one module of
ours: AES-256-GCM and HKDF-SHA256 for the snapshot format (snapshot/crypto.py), and the
names in an X.509 certificate for verify's TLS check."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["AESGCM", "InvalidTag", "certificate_names", "hkdf_sha256"]


def hkdf_sha256(key: bytes, info: bytes, *, salt: bytes | None, length: int) -> bytes:
    """HKDF-SHA256 of ``key`` (RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def certificate_names(der: bytes) -> tuple[str, tuple[str, ...]]:
    """The subject (RFC 4514) and the DNS names of the subjectAltName ("DNS:name", sorted)
    of a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    sans: tuple[str, ...] = ()
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        sans = tuple(sorted(f"DNS:{n}" for n in ext.value.get_values_for_type(x509.DNSName)))
    except x509.ExtensionNotFound:
        pass
    return cert.subject.rfc4514_string(), sans
