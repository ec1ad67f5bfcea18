"""The containers step on the target: load the images the snapshot saved (streamed into
``<engine> load``, then tagged with the source's tags; an image the target already has by
id is left), then bring each Compose project up under the source's project name in its
working directory (restored with the files, with its .env). The named volumes' data was
restored by the files step where the engine keeps it: Compose makes the volume by its name
and finds its data."""

from __future__ import annotations

import shlex

from evacuate.errors import RemoteCommandError
from evacuate.plan.model import RebuildPlan
from evacuate.snapshot.manifest import ImageEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

CHUNK = 1 << 20
RESTART_AT_BOOT = ("if systemctl is-enabled --quiet podman-restart.service 2>/dev/null; then "
                   "systemctl restart podman-restart.service; fi")
ENV = "TMPDIR=/dev/shm; [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR; "


def compose_command(engine: str, project: str) -> str:
    """sh bringing project ``project`` up in the current directory, detached."""
    name = shlex.quote(project)
    if engine == "podman":
        return f"podman-compose -p {name} up -d"
    return (f"if docker compose version >/dev/null 2>&1; then docker compose -p {name} up -d; "
            f"else docker-compose -p {name} up -d; fi")


def _fail(target: Transport, what: str, status: int, text: str) -> RemoteCommandError:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return RemoteCommandError(f"{target.name}: {what} failed (exit {status}): "
                              f"{lines[-1] if lines else 'no message'}", exit_status=status or 1)


def load_image(target: Transport, blobs: BlobStore, image: ImageEntry) -> bool:
    """Load ``image`` unless the target has it (by id); tag it; return whether it loaded."""
    engine = image.engine
    have = target.run(f"{ENV}{engine} image inspect --format '{{{{.Id}}}}' "
                      f"{shlex.quote(image.id)}", timeout=60)
    loaded = False
    if not have.ok:
        with target.open_process(f"{ENV}exec {engine} load") as proc, \
                blobs.open_blob(image.blob) as content:
            while chunk := content.read(CHUNK):
                proc.stdin.write(chunk)
            proc.stdin.close()
            status = proc.wait(timeout=900)
            if status != 0:
                raise _fail(target, f"loading image {image.id[:12]}", status, proc.stderr_text())
        loaded = True
    for tag in image.tags:
        result = target.run(f"{ENV}{engine} tag {shlex.quote(image.id)} {shlex.quote(tag)}",
                            timeout=60)
        if not result.ok:
            raise _fail(target, f"tagging image {image.id[:12]} as {tag}", result.exit_status,
                        result.error_text or result.text)
    return loaded


def bring_up(target: Transport, plan: RebuildPlan, manifest: SnapshotManifest,
             blobs: BlobStore) -> str:
    """Load the saved images and bring the Compose projects up; return what was done."""
    planned = plan.containers
    loaded = sum(load_image(target, blobs, image) for image in manifest.images)
    started = []
    for project in planned.projects:
        command = f"cd {shlex.quote(project.working_dir)} && {compose_command(planned.engine, project.name)}"
        result = target.run(["sh", "-c", command], timeout=900)
        if not result.ok:
            raise _fail(target, f"bringing up the Compose project {project.name}",
                        result.exit_status, result.error_text + result.text)
        started.append(project.name)
    if planned.engine == "podman" and started:
        # on the source, podman-restart.service started the containers at boot (restart:
        # always), so they run in its cgroup: do the same here (and prove they start so)
        target.run(["sh", "-c", RESTART_AT_BOOT], timeout=300, check=True)
    return (f"{loaded} of {len(manifest.images)} images loaded; projects up: "
            f"{', '.join(started) or 'none'}")
