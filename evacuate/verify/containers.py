"""Verify a container host: the source's running Compose containers run on the target, by
project and service, from the same image (by id: a saved image loads under its own id), and
every named volume of the source exists there. The volumes' contents are compared by the
files checks (their data is carried as files), the published ports by the listener checks."""

from __future__ import annotations

from evacuate.inventory import HostInventory
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, judged

AREA = "containers"


def _services(inventory: HostInventory) -> dict[tuple[str, str], tuple[str, str]]:
    """(project, service) → (image reference, image id) of the running Compose containers."""
    return {(c.compose_project, c.compose_service): (c.image, c.image_id)
            for c in inventory.containers.containers
            if c.compose_project and c.state == "running"}


def compare_containers(source: HostInventory, target: HostInventory,
                       crossing: Crossing | None = None) -> list[Check]:
    del crossing  # an image runs the same on every release
    checks = []
    there = _services(target)
    for (project, service), (image, image_id) in sorted(_services(source).items()):
        found = there.get((project, service))
        same = found is not None and found[1] == image_id
        checks.append(judged(same, AREA, f"{project}/{service}", f"running {image}",
                             "not running" if found is None else f"running {found[0]}",
                             "" if same else
                             ("no running container of this Compose service on the target"
                              if found is None else
                              f"image {found[1][:12]} on the target, {image_id[:12]} on the "
                              "source")))
    volumes = {v.name for v in target.containers.named_volumes}
    for volume in source.containers.named_volumes:
        checks.append(judged(volume.name in volumes, AREA, f"volume {volume.name}", "present",
                             "present" if volume.name in volumes else "missing",
                             "" if volume.name in volumes else
                             "the named volume does not exist on the target"))
    return checks
