"""Container images that no registry gives back (built or imported on the source: the
inventory's ``local`` images), saved into the store with the engine's ``save``
(docker-archive), streamed with no file on the source, once per image id: an image the
previous snapshot saved under the same id is referred to, not saved again. An image that
cannot be saved is a warning naming it; the snapshot goes on."""

from __future__ import annotations

from evacuate.engines.container_cli import CLIS, container_cli
from evacuate.inventory.model import Containers
from evacuate.snapshot.manifest import ImageEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport


def save_images(transport: Transport, blobs: BlobStore, found: Containers,
                previous: SnapshotManifest | None) -> tuple[tuple[ImageEntry, ...], list[str]]:
    """Save each local image of ``found`` into ``blobs``; return the entries and warnings."""
    if found.engine not in ("", *CLIS):
        return (), [f"container engine {found.engine}: its images cannot be saved"]
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
        with transport.open_process(container_cli(found.engine).save(name)) as proc:
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
