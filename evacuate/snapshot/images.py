"""Container images that no registry gives back (built or imported on the source: the
inventory's ``local`` images), saved into the store with the engine's ``save``
(docker-archive), streamed with no file on the source, once per image id: an image the
previous snapshot saved under the same id is referred to, not saved again. An image that
cannot be saved is a warning naming it; the snapshot goes on."""

from __future__ import annotations

import shlex

from evacuate.inventory.model import Containers
from evacuate.snapshot.manifest import ImageEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

# Podman makes its temporary copies in $TMPDIR (/var/tmp by default): memory, not the source
SAVE_ENV = "TMPDIR=/dev/shm; [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR; "


def save_command(engine: str, reference: str) -> str:
    """sh writing image ``reference`` as a docker-archive to stdout."""
    fmt = "--format docker-archive " if engine == "podman" else ""
    return f"{SAVE_ENV}exec {engine} save {fmt}{shlex.quote(reference)}"


def save_images(transport: Transport, blobs: BlobStore, found: Containers,
                previous: SnapshotManifest | None) -> tuple[tuple[ImageEntry, ...], list[str]]:
    """Save each local image of ``found`` into ``blobs``; return the entries and warnings."""
    before = {(i.engine, i.id): i for i in previous.images} if previous else {}
    entries: list[ImageEntry] = []
    warnings: list[str] = []
    for image in found.images:
        if not image.local:
            continue
        kept = before.get((found.engine, image.id))
        if kept is not None and blobs.has(kept.blob):
            entries.append(ImageEntry(found.engine, image.id, image.tags, kept.blob,
                                      kept.saved_in or (previous.id if previous else "")))
            continue
        name = image.tags[0] if image.tags else image.id
        with transport.open_process(save_command(found.engine, name)) as proc:
            proc.stdin.close()
            ref = blobs.put_stream(proc.stdout)  # type: ignore[arg-type]
            status = proc.wait(timeout=600)
            errors = proc.stderr_text().strip().splitlines()
        if status != 0 or ref.size == 0:
            warnings.append(f"container image {name} ({image.id[:12]}) could not be saved "
                            f"(exit {status}): {errors[-1] if errors else 'no output'}")
            continue
        entries.append(ImageEntry(found.engine, image.id, image.tags, ref))
    return tuple(entries), warnings
