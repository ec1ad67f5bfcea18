"""The containers step on the target: load the images the snapshot saved (streamed into
``<engine> load``, then tagged with the source's tags; an image the target already has by
id is left), then bring each Compose project up under the source's project name in its
working directory (restored with the files, with its .env). The named volumes' data was
restored by the files step where the engine keeps it: Compose makes the volume by its name
and finds its data."""

from __future__ import annotations

import shlex

from evacuate.engines.container_cli import container_cli
from evacuate.errors import RemoteCommandError
from evacuate.plan.model import RebuildPlan
from evacuate.rebuild.standalone import recreate
from evacuate.snapshot.manifest import ImageEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

CHUNK = 1 << 20


def _fail(target: Transport, what: str, status: int, text: str) -> RemoteCommandError:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return RemoteCommandError(f"{target.name}: {what} failed (exit {status}): "
                              f"{lines[-1] if lines else 'no message'}", exit_status=status or 1)


def load_image(target: Transport, blobs: BlobStore, image: ImageEntry) -> bool:
    """Load ``image`` unless the target has it (by id); tag it; return whether it loaded."""
    cli = container_cli(image.engine)
    have = target.run(cli.has_image(image.id), timeout=60)
    loaded = False
    if not have.ok:
        with target.open_process(cli.load()) as proc, \
                blobs.open_blob(image.blob) as content:
            while chunk := content.read(CHUNK):
                proc.stdin.write(chunk)
            proc.stdin.close()
            status = proc.wait(timeout=900)
            if status != 0:
                raise _fail(target, f"loading image {image.id[:12]}", status, proc.stderr_text())
        loaded = True
    for tag in image.tags:
        result = target.run(cli.tag(image.id, tag), timeout=60)
        if not result.ok:
            raise _fail(target, f"tagging image {image.id[:12]} as {tag}", result.exit_status,
                        result.error_text or result.text)
    return loaded


def bring_up(target: Transport, plan: RebuildPlan, manifest: SnapshotManifest,
             blobs: BlobStore) -> str:
    """Load the saved images and bring the Compose projects up; return what was done."""
    planned = plan.containers
    cli = container_cli(planned.engine)
    loaded = sum(load_image(target, blobs, image) for image in manifest.images)
    started = []
    for project in planned.projects:
        command = f"cd {shlex.quote(project.working_dir)} && {cli.compose_up(project.name)}"
        result = target.run(["sh", "-c", command], timeout=900)
        if not result.ok:
            raise _fail(target, f"bringing up the Compose project {project.name}",
                        result.exit_status, result.error_text + result.text)
        started.append(project.name)
    alone = recreate(target, blobs, manifest.container_configs)
    if cli.restart_at_boot and (started or alone):
        # on the source, that unit started the containers at boot (restart: always), so they
        # run in its cgroup: do the same here (and prove that they start so) when enabled
        target.run(["sh", "-c", cli.start_as_at_boot()], timeout=300, check=True)
    return (f"{loaded} of {len(manifest.images)} images loaded; projects up: "
            f"{', '.join(started) or 'none'}; recreated outside Compose: "
            f"{', '.join(alone) or 'none'}")
