"""Container images that no registry gives back (built or imported on the source: the
inventory's ``local`` images), saved into the store with the engine's ``save``
(docker-archive), streamed with no file on the source, once per image id: an image the
previous snapshot saved under the same id is referred to, not saved again. An image that
cannot be saved is a warning naming it; the snapshot goes on."""

from __future__ import annotations

from evacuate.engines.container_cli import CLIS, container_cli
from evacuate.inventory.model import Containers
from evacuate.snapshot.manifest import ContainerConfigEntry, ImageEntry, SnapshotManifest
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


def save_container_configs(transport: Transport, blobs: BlobStore, found: Containers
                           ) -> tuple[tuple[ContainerConfigEntry, ...], list[str]]:
    """Store the ``inspect`` document of each container outside Compose, running or not (its
    environment's real values included: only in the store, as a secret blob), so that the
    run can recreate it; one that cannot be inspected is a warning naming it."""
    if found.engine not in CLIS:
        return (), []
    cli = container_cli(found.engine)
    entries: list[ContainerConfigEntry] = []
    warnings: list[str] = []
    for c in found.containers:
        if c.compose_project:
            continue
        result = transport.run(cli.inspect(c.name), timeout=120)
        if not result.ok or not result.text.strip().startswith("["):
            lines = (result.error_text or result.text).strip().splitlines()
            warnings.append(f"container {c.name} could not be inspected, it is not recreated "
                            f"(exit {result.exit_status}): {lines[-1] if lines else 'no output'}")
            continue
        ref = blobs.put_bytes(result.text.encode(), secret=f"the configuration of container {c.name}")
        entries.append(ContainerConfigEntry(found.engine, c.name, ref))
    return tuple(entries), warnings
