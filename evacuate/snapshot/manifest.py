"""The snapshot manifest: a self-describing JSON document, written last to commit a snapshot.

It names every file (path, type, size, mode, owner and group by name and number, mtime,
link target, SHA-256 of the content), every database dump (size, SHA-256, row counts),
the host's inventory, and totals. A snapshot without its manifest does not exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from evacuate.errors import StoreError
from evacuate.snapshot.exclusion import RuleTotal
from evacuate.snapshot.store import BlobRef

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One filesystem entry. ``path`` is text (see scan.encode_path); regular files carry
    ``blob``; a hard link names its first path in ``hardlink_to`` instead."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    user: str
    group: str
    mtime: str
    size: int = 0
    ctime: str = ""
    inode: str = ""
    sparse: bool = False
    link_target: str | None = None
    hardlink_to: str | None = None
    blob: BlobRef | None = None
    rdev: str | None = None  # "major:minor" of a block or character device

    @property
    def sha256(self) -> str | None:
        return self.blob.sha256 if self.blob else None


@dataclass(frozen=True)
class DumpEntry:
    """One database dump: engine, database (or the engine's accounts dump, see
    evacuate.engines.is_accounts), format,
    the blob, the row count of each table at dump time and its other objects."""

    engine: str
    database: str
    format: str
    blob: BlobRef
    secret: bool = False
    tables: dict[str, int] = field(default_factory=dict)
    server_version: str = ""
    # what verify compares besides row counts (evacuate.engines.base.Engine.objects_command);
    # OBJECTS_UNREAD names why the source could not list them
    objects: dict[str, str] = field(default_factory=dict)
    marker: str = ""  # the schema's md5 (Engine.change_marker_command), "" when none
    unchanged_since: str = ""  # the snapshot whose dump this is, when taken there (no change)
    quiet: str = ""  # Engine.quiet_command's line, read before this dump's checks
    # how this snapshot told that the dump is unchanged: "quiet" (the server's quiet line is
    # the one recorded before, no table read), "checked" (schema, counts and fingerprints
    # as before); "" when the dump was taken in this snapshot
    kept: str = ""


OBJECTS_UNREAD = "!unread"
"""The key of ``DumpEntry.objects`` saying why the source's objects could not be listed."""


@dataclass(frozen=True)
class DebEntry:
    """A package no repository offers (installed by hand), carried as a .deb: taken from
    the source's apt cache (``how`` = cache) or rebuilt from its installed files (rebuilt)."""

    name: str
    version: str
    arch: str
    blob: BlobRef
    how: str = "rebuilt"


@dataclass(frozen=True)
class ImageEntry:
    """A container image no registry gives back (built or imported on the source), saved
    with ``<engine> save`` (docker-archive) once per image id; ``tags`` are set again after
    it is loaded."""

    engine: str
    id: str
    tags: tuple[str, ...]
    blob: BlobRef
    saved_in: str = ""  # the snapshot that saved it, when an earlier one did (same id)


@dataclass(frozen=True)
class ContainerConfigEntry:
    """A running container outside Compose: its ``inspect`` document (with the real values
    of its environment: kept only in the store, encrypted), to recreate it on the target."""

    engine: str
    name: str
    blob: BlobRef


@dataclass(frozen=True)
class PackageMode:
    """A package's file whose content is the package's but whose inode changed after the
    package was installed (ctime later than dpkg's record of it: a chmod, chown or a copy
    that kept the mtime): the target keeps its package's copy and gets this mode and owner
    (see evacuate.snapshot.package_modes)."""

    path: str  # text, as scan.encode_path gives it
    mode: int  # permission bits incl. setuid/setgid/sticky
    user: str
    group: str


@dataclass(frozen=True)
class Totals:
    files: int = 0
    bytes: int = 0
    new_blobs: int = 0
    new_bytes: int = 0  # bytes written to the store by this snapshot
    transferred_bytes: int = 0  # bytes read from the host
    reused_files: int = 0
    dumps: int = 0
    dump_bytes: int = 0
    seconds: float = 0.0
    # where the seconds went, by phase (evacuate.stopwatch); the dumps run alongside the
    # files, so the phases add up to more than ``seconds``
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SnapshotManifest:
    id: str
    host: str
    created: str  # ISO 8601 UTC
    tool_version: str
    roots: tuple[str, ...]
    excludes: tuple[str, ...]
    files: tuple[FileEntry, ...]
    dumps: tuple[DumpEntry, ...]
    inventory: dict[str, Any]
    totals: Totals
    parent: str | None = None
    warnings: tuple[str, ...] = ()
    version: int = MANIFEST_VERSION
    acls: BlobRef | None = None  # `getfacl -R -s` of the roots: entries beyond the mode bits
    xattrs: BlobRef | None = None  # user.* extended attributes, as `getfattr -d -e base64`
    debs: tuple[DebEntry, ...] = ()  # hand-installed packages, see snapshot.debs
    rules: tuple[RuleTotal, ...] = ()  # what each exclusion rule decided (entries, bytes)
    images: tuple[ImageEntry, ...] = ()  # container images, see snapshot.images
    container_configs: tuple[ContainerConfigEntry, ...] = ()  # see snapshot.images
    package_modes: tuple[PackageMode, ...] = ()  # see snapshot.package_modes

    def blobs(self) -> list[BlobRef]:
        """Every blob the snapshot needs (files and dumps), each once."""
        seen: dict[str, BlobRef] = {}
        for entry in self.files:
            if entry.blob is not None:
                seen.setdefault(entry.blob.sha256, entry.blob)
        for dump in self.dumps:
            seen.setdefault(dump.blob.sha256, dump.blob)
        for deb in self.debs:
            seen.setdefault(deb.blob.sha256, deb.blob)
        for image in self.images:
            seen.setdefault(image.blob.sha256, image.blob)
        for config in self.container_configs:
            seen.setdefault(config.blob.sha256, config.blob)
        for extra in (self.acls, self.xattrs):
            if extra is not None:
                seen.setdefault(extra.sha256, extra)
        return list(seen.values())


def _blob(data: dict[str, Any] | None) -> BlobRef | None:
    return None if data is None else BlobRef(**data)


def _file_dict(entry: FileEntry) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value: 10x slower on manifests of many files
    data = {name: getattr(entry, name) for name in _FILE_FIELDS}
    if entry.blob is not None:
        data["blob"] = {"sha256": entry.blob.sha256, "size": entry.blob.size,
                        "stored_size": entry.blob.stored_size}
    return data


_FILE_FIELDS = tuple(f.name for f in fields(FileEntry) if f.name != "blob")


def manifest_to_json(manifest: SnapshotManifest) -> bytes:
    data = {f.name: getattr(manifest, f.name) for f in fields(SnapshotManifest)
            if f.name not in ("files", "dumps", "totals", "acls", "xattrs", "debs", "rules",
                              "images", "container_configs", "package_modes")}
    data["package_modes"] = [asdict(m) for m in manifest.package_modes]
    data["images"] = [asdict(i) for i in manifest.images]
    data["container_configs"] = [asdict(c) for c in manifest.container_configs]
    data["rules"] = [asdict(r) for r in manifest.rules]
    data["acls"] = asdict(manifest.acls) if manifest.acls else None
    data["xattrs"] = asdict(manifest.xattrs) if manifest.xattrs else None
    data["files"] = [_file_dict(e) for e in manifest.files]
    data["dumps"] = [asdict(d) for d in manifest.dumps]
    data["debs"] = [asdict(d) for d in manifest.debs]
    data["totals"] = asdict(manifest.totals)
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def manifest_from_json(raw: bytes, where: str) -> SnapshotManifest:
    """Parse a manifest; raise StoreError naming ``where`` when it is not one."""
    try:
        data = json.loads(raw)
        if data.get("version") != MANIFEST_VERSION:
            raise StoreError(f"{where}: manifest version {data.get('version')!r} is not "
                             f"{MANIFEST_VERSION} (made by a newer evacuate?)")
        file_fields = {f.name for f in fields(FileEntry)}
        files = tuple(FileEntry(**{k: v for k, v in f.items() if k in file_fields} |
                                {"blob": _blob(f.get("blob"))}) for f in data["files"])
        dumps = tuple(DumpEntry(**(d | {"blob": BlobRef(**d["blob"])})) for d in data["dumps"])
        return SnapshotManifest(
            id=data["id"], host=data["host"], created=data["created"],
            tool_version=data["tool_version"], roots=tuple(data["roots"]),
            excludes=tuple(data["excludes"]), files=files, dumps=dumps,
            inventory=data["inventory"], totals=Totals(**data["totals"]),
            parent=data.get("parent"), warnings=tuple(data.get("warnings", ())),
            acls=_blob(data.get("acls")), xattrs=_blob(data.get("xattrs")),
            debs=tuple(DebEntry(**(d | {"blob": BlobRef(**d["blob"])}))
                       for d in data.get("debs", ())),
            rules=tuple(RuleTotal(**(r | {"examples": tuple(r.get("examples", ()))}))
                        for r in data.get("rules", ())),
            images=tuple(ImageEntry(**(i | {"blob": BlobRef(**i["blob"]),
                                            "tags": tuple(i["tags"])}))
                         for i in data.get("images", ())),
            container_configs=tuple(ContainerConfigEntry(**(c | {"blob": BlobRef(**c["blob"])}))
                                    for c in data.get("container_configs", ())),
            package_modes=tuple(PackageMode(**m) for m in data.get("package_modes", ())))
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as bad:
        raise StoreError(f"{where}: not a valid snapshot manifest ({type(bad).__name__}: "
                         f"{str(bad)[:120]})") from None
