"""Snapshot stores behind one narrow interface, and the factory that picks one by URL.

``open_store("/var/backups/evacuate")`` or ``open_store("file:///...")`` → LocalStore;
``open_store("s3://bucket/prefix", endpoint_url=...)`` → S3Store (boto3 is imported
only then). Content-addressed, encrypted blobs on top of any store: :mod:`.blobs`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from evacuate.errors import ConfigError
from evacuate.snapshot.store.base import ObjectInfo, ObjectMissing, Store, check_key
from evacuate.snapshot.store.blobs import BlobRef, BlobStats, BlobStore
from evacuate.snapshot.store.local import LocalStore
from evacuate.snapshot.store.memory import MemoryStore

__all__ = ["BlobRef", "BlobStats", "BlobStore", "LocalStore", "MemoryStore", "ObjectInfo",
           "ObjectMissing", "Store", "check_key", "open_store"]


def open_store(url: str, *, endpoint_url: str | None = None, region: str | None = None,
               profile: str | None = None) -> Store:
    """Return the store ``url`` names: a path or ``file://`` URL (a local directory) or
    ``s3://bucket/prefix``. Raise ConfigError (one line) for anything else, and when
    S3 options are given for a local store."""
    if not url:
        raise ConfigError("no store given: expected a directory or s3://bucket/prefix")
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme == "s3":
        from evacuate.snapshot.store.s3 import S3Store  # keeps boto3 out of other commands

        return S3Store(url, endpoint_url=endpoint_url, region=region, profile=profile)
    if endpoint_url or region or profile:
        raise ConfigError(f"endpoint_url, region and profile apply to s3:// stores only, "
                          f"not to {url!r}")
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise ConfigError(f"invalid file store URL {url!r}: expected file:///path")
        return LocalStore(Path(unquote(parts.path)))
    if scheme:
        raise ConfigError(f"unsupported store URL {url!r}: expected a directory, "
                          "file:///path or s3://bucket/prefix")
    return LocalStore(Path(url).expanduser())
