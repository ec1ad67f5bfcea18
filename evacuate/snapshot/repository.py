"""Snapshots in a store: ``snapshots/<host>/<id>.json`` manifests over shared blobs.

A snapshot exists once its manifest is written, and the manifest is written last, after
every blob it references; so a snapshot cut short leaves only unreferenced blobs, which
``forget`` removes. Manifests are sealed (encrypted and bound to their key) like blobs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from evacuate.errors import StoreError, UsageError
from evacuate.snapshot.manifest import SnapshotManifest, manifest_from_json, manifest_to_json
from evacuate.snapshot.store import BlobStore

PREFIX = "snapshots/"


def new_snapshot_id(now: datetime | None = None) -> str:
    """A sortable, unique id: UTC time plus a random suffix, e.g. 20261123T174500Z-3fa1."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class SnapshotRef:
    host: str
    id: str

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.host}/{self.id}.json"

    @property
    def created(self) -> datetime:
        return datetime.strptime(self.id.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


class SnapshotRepository:
    """The snapshots of every host in one blob store."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def refs(self, host: str | None = None) -> list[SnapshotRef]:
        """Committed snapshots, oldest first (of ``host`` only, when given)."""
        prefix = f"{PREFIX}{host}/" if host else PREFIX
        found = []
        for key in self.blobs.store.list(prefix):
            rest = key[len(PREFIX):]
            name, sep, snap = rest.rpartition("/")
            if sep and snap.endswith(".json") and "/" not in name:
                found.append(SnapshotRef(name, snap[:-5]))
        return sorted(found, key=lambda r: (r.host, r.id))

    def load(self, ref: SnapshotRef) -> SnapshotManifest:
        raw = self.blobs.get_document(ref.key)
        return manifest_from_json(raw, f"snapshot {ref.host}/{ref.id}")

    def latest(self, host: str) -> SnapshotManifest | None:
        refs = self.refs(host)
        return self.load(refs[-1]) if refs else None

    def find(self, host: str | None, snapshot: str) -> SnapshotRef:
        """Resolve ``latest``, a full id, or a unique id prefix; UsageError if none matches."""
        refs = self.refs(host)
        if not refs:
            raise UsageError(f"no snapshot{' of ' + host if host else ''} in "
                             f"{self.blobs.store.describe()}",
                             hint=f"run 'evacuate snapshot {host or 'HOST'}'")
        if snapshot == "latest":
            return refs[-1]
        matches = [r for r in refs if r.id == snapshot] or \
                  [r for r in refs if r.id.startswith(snapshot)]
        if len(matches) != 1:
            raise UsageError(f"snapshot {snapshot!r} {'is ambiguous' if matches else 'not found'}"
                             f"{' for ' + host if host else ''}")
        return matches[0]

    def commit(self, manifest: SnapshotManifest) -> SnapshotRef:
        """Write the manifest (the last step of a snapshot); its blobs must be stored."""
        ref = SnapshotRef(manifest.host, manifest.id)
        stored = set(self.blobs.list_keys())  # one listing, not a request per blob
        missing = [b for b in manifest.blobs() if self.blobs.key_for(b.sha256) not in stored]
        if missing:
            raise StoreError(f"refusing to commit snapshot {ref.id}: {len(missing)} of its "
                             f"blobs are not in {self.blobs.store.describe()}")
        self.blobs.store.make_durable()  # the blobs are on stable storage before the manifest
        self.blobs.put_document(ref.key, manifest_to_json(manifest), secret="a manifest")
        return ref

    def delete(self, ref: SnapshotRef) -> None:
        self.blobs.store.delete(ref.key)
