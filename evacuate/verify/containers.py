"""Verify a container host: the source's running Compose containers run on the target, by
project and service, from the same image (by id: a saved image loads under its own id); each
container outside Compose is there by name, from the same image, running if it ran (one that
had exited is created, not started); every named volume of the source exists there. The
volumes' contents are compared by the files checks (their data is carried as files), the
published ports by the listener checks, and their HTTP answers by
:mod:`evacuate.verify.container_web`."""

from __future__ import annotations

from evacuate.inventory import HostInventory
from evacuate.inventory.model import Container
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, judged

AREA = "containers"


def check_name(container: Container) -> str:
    """The name of the check that verifies ``container`` (its Compose service, or itself)."""
    if container.compose_project:
        return f"{container.compose_project}/{container.compose_service}"
    return f"container {container.name}"


def _services(inventory: HostInventory) -> dict[tuple[str, str], tuple[str, str]]:
    """(project, service) → (image reference, image id) of the running Compose containers."""
    return {(c.compose_project, c.compose_service): (c.image, c.image_id)
            for c in inventory.containers.containers
            if c.compose_project and c.state == "running"}


def _standalone(inventory: HostInventory) -> dict[str, Container]:
    return {c.name: c for c in inventory.containers.containers if not c.compose_project}


def _compare_standalone(want: Container, found: Container | None) -> Check:
    running = want.state == "running"
    expected = f"{'running' if running else 'created, not started'} {want.image}"
    if found is None:
        return judged(False, AREA, check_name(want), expected, "missing",
                      "no container of this name on the target")
    problems = []
    if found.image_id != want.image_id:
        problems.append(f"image {found.image_id[:12]} on the target, {want.image_id[:12]} "
                        "on the source")
    if running != (found.state == "running"):
        problems.append(f"{found.state or 'no state'} on the target, {want.state} on the "
                        "source")
    return judged(not problems, AREA, check_name(want), expected,
                  f"{found.state} {found.image}", "; ".join(problems))


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
    alone = _standalone(target)
    for name, container in sorted(_standalone(source).items()):
        checks.append(_compare_standalone(container, alone.get(name)))
    volumes = {v.name for v in target.containers.named_volumes}
    for volume in source.containers.named_volumes:
        checks.append(judged(volume.name in volumes, AREA, f"volume {volume.name}", "present",
                             "present" if volume.name in volumes else "missing",
                             "" if volume.name in volumes else
                             "the named volume does not exist on the target"))
    return checks
