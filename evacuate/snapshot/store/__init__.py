"""Snapshot stores behind one narrow interface, and the factory that picks one by URL.

``open_store("/var/backups/evacuate")`` or ``open_store("file:///...")`` → LocalStore;
``open_store("s3://bucket/prefix", endpoint_url=...)`` → S3Store (boto3 is imported
only then). URLs are parsed by :class:`~.url.StoreURL` (the only parser of them). Content-addressed, encrypted blobs on top of any store: :mod:`.blobs`.
"""

from __future__ import annotations

from evacuate.errors import ConfigError
from evacuate.snapshot.store.base import ObjectInfo, ObjectMissing, Store, check_key
from evacuate.snapshot.store.blobs import BlobRef, BlobStats, BlobStore
from evacuate.snapshot.store.local import LocalStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.snapshot.store.url import StoreURL

__all__ = ["BlobRef", "BlobStats", "BlobStore", "LocalStore", "MemoryStore", "ObjectInfo",
           "ObjectMissing", "Store", "StoreURL", "check_key", "open_store"]


def open_store(url: str | StoreURL, *, endpoint_url: str | None = None,
               region: str | None = None, profile: str | None = None) -> Store:
    """Return the store ``url`` names (see :class:`StoreURL`): a local directory or an S3
    bucket and prefix. Raise ConfigError (one line) for a bad URL, and when S3 options are
    given for a local store."""
    location = StoreURL.parse(url) if isinstance(url, str) else url
    if location.is_s3:
        from evacuate.snapshot.store.s3 import S3Store  # keeps boto3 out of other commands

        return S3Store(location, endpoint_url=endpoint_url, region=region, profile=profile)
    if endpoint_url or region or profile:
        raise ConfigError(f"endpoint_url, region and profile apply to s3:// stores only, "
                          f"not to {str(location)!r}")
    assert location.path is not None
    return LocalStore(location.path)
