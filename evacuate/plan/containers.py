"""The plan's containers: each container, image and named volume of the source's engine with
its size, where each image comes from on the target (``store``: it cannot be pulled again,
so the snapshot saves it; ``pull``: a registry has it), the Compose projects, and warnings
for what cannot move as it is (an image gone, a volume whose size could not be read, an
engine that did not answer)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from evacuate.inventory.model import Containers, DatabaseServer
from evacuate.inventory.serialize import from_jsonable
from evacuate.plan.containers_model import (
    ContainerImagePlan,
    ContainerPlan,
    ContainersPlan,
    VolumePlan,
)
from evacuate.plan.model import PlanWarning, Step, StepKind


def plan_containers(found: Containers, dumped: Sequence[DatabaseServer] = (),
                    available: Mapping[str, str | None] | None = None,
                    ) -> tuple[ContainersPlan, list[PlanWarning]]:
    """Return what the plan says of the source's containers, and its warnings. ``dumped``:
    the database servers in containers whose dumps the snapshot holds (their volumes move
    by those dumps, not as files). ``available``: package → the target's candidate version
    (None: not offered); the engine's package is judged by it."""
    if not found.engine:
        return ContainersPlan(), []
    warnings: list[PlanWarning] = []
    if not found.version:
        warnings.append(PlanWarning("container-engine", f"{found.engine} is installed on the "
                                    "source but did not answer: its containers, images and "
                                    "volumes are not known"))
    warnings.extend(engine_version_warnings(found, available or {}))
    warnings.extend(rootless_warnings(found))
    sizes = {i.id: i.size_bytes for i in found.images}
    containers = []
    for c in found.containers:
        if c.image_id not in sizes:
            warnings.append(PlanWarning("container-image", f"container {c.name}: its image "
                                        f"{c.image or c.image_id} is gone from the source, so it "
                                        "cannot be recreated"))
        containers.append(ContainerPlan(c.name, c.image, c.image_id, sizes.get(c.image_id, 0),
                                        c.state, c.restart_policy, c.compose_project,
                                        c.compose_service))
    for v in found.named_volumes:
        if v.size_bytes is None:
            warnings.append(PlanWarning("container-volume", f"volume {v.name}: its files at "
                                        f"{v.mountpoint or '(no mount point)'} could not be read"))
    carried = {s.data_dir: s for s in dumped if s.container}
    warnings.extend(live_volumes(found, frozenset(carried)))
    for c in found.containers:
        for m in c.mounts:
            server = carried.get(m.path) if m.kind == "volume" else None
            if server is not None and server.container == c.name:
                warnings.append(PlanWarning(
                    "container-engine-data", f"volume {m.source} holds the data directory "
                    f"of {server.engine} {server.version} in container {c.name}: it moves by "
                    f"that server's dumps, taken inside the container, and is loaded into the "
                    "target's container once it runs (container-engine-data)", "info"))
    for c in found.containers:
        if not c.compose_project:
            left = "" if c.state == "running" else (
                f"; it is {c.state} on the source: created on the target, not started")
            warnings.append(PlanWarning("container-not-compose", f"container {c.name} is not "
                                        "part of a Compose project: it is recreated on the "
                                        "target from its inspected configuration (image, "
                                        "environment, mounts, ports, network, restart policy, "
                                        f"command), read at snapshot time{left}", "info"))
    for i in found.images:
        if not i.local:
            warnings.append(PlanWarning("container-pull", f"image {', '.join(i.tags) or i.id}"
                                        " is pulled on the target: the target must reach its "
                                        "registry", "info"))
    images = tuple(ContainerImagePlan(i.id, i.tags, i.size_bytes, "store" if i.local else "pull")
                   for i in found.images)
    return ContainersPlan(
        engine=found.engine, version=found.version, containers=tuple(containers), images=images,
        volumes=tuple(VolumePlan(v.name, v.size_bytes, v.compose_project)
                      for v in found.named_volumes),
        projects=found.compose_projects), warnings


def _release(version: str) -> tuple[int, ...]:
    """``20.10.24+dfsg1-1+deb12u1`` → (20, 10): the engine's major and minor version."""
    found = re.match(r"(?:\d+:)?(\d+)\.(\d+)", version.strip())
    return (int(found.group(1)), int(found.group(2))) if found else ()


def engine_version_warnings(found: Containers, available: Mapping[str, str | None],
                            ) -> list[PlanWarning]:
    """The engine the target cannot install as the source runs it: its package not offered
    by the target's package sources, or only in an older release of the engine."""
    package = found.package
    if not found.version or package is None:
        return []
    if not package:
        return [PlanWarning("container-engine-version", f"{found.engine} {found.version} on "
                            "the source belongs to no Debian package (installed by hand?): the "
                            f"target gets no {found.engine} from the packages, install it there "
                            "before the run")]
    if package not in available:
        return []
    candidate = available[package]
    if candidate is None:
        return [PlanWarning("container-engine-version", f"{found.engine} {found.version} "
                            f"comes from the package {package}, which the target's package "
                            f"sources do not offer: add its repository to the target, or its "
                            "containers cannot be brought up there")]
    have, offered = _release(found.version), _release(candidate)
    if have and offered and offered < have:
        return [PlanWarning("container-engine-version", f"{found.engine} {found.version} on "
                            f"the source; the target's package sources offer {package} "
                            f"{candidate}, an older engine: images, Compose files or options "
                            "the newer one accepts may fail there")]
    return []


def rootless_warnings(found: Containers) -> list[PlanWarning]:
    """A warning per account that runs rootless Podman: its containers are inventoried, not
    recreated, started or checked on the target; their storage (images, layers, volumes)
    moves as files of its home, copied while they run."""
    warnings = []
    for r in found.rootless:
        running = [c.name for c in r.containers if c.running]
        size = sum(v.size_bytes or 0 for v in r.volumes)
        warnings.append(PlanWarning(
            "container-rootless", f"user {r.user} runs rootless Podman ({len(r.containers)} "
            f"containers, {len(running)} running{': ' + ', '.join(running) if running else ''};"
            f" {len(r.images)} images, {len(r.volumes)} volumes of {size >> 10} KiB) in "
            f"{r.storage_root}: evacuate does not recreate, start or verify rootless "
            "containers; their storage moves as files of that directory (copied while they "
            f"run); on the target, start them as {r.user} (podman start, or its systemd "
            "user units) and check them by hand"))
    return warnings


def live_volumes(found: Containers, dumped: frozenset[str] = frozenset()) -> list[PlanWarning]:
    """A warning per named volume or bind mount a running container writes: the run copies
    it while that container runs. It is not paused for its copy: ``pause`` records the
    paused state in the engine's database on the source (which evacuate leaves unchanged
    until a cutover) and needs a cgroup freezer. ``run --cutover`` stops the containers
    before its final copy, so the copy that lands last is consistent. A volume in
    ``dumped`` (a path on the host) moves by its database server's dumps: no warning."""
    writers: dict[str, list[str]] = {}
    for c in found.containers:
        if c.state != "running":
            continue
        for m in c.mounts:
            if m.kind in ("volume", "bind") and not m.read_only and m.path not in dumped:
                writers.setdefault(f"{m.kind} {m.source}", []).append(c.name)
    return [PlanWarning("container-volume-live", f"{what} is written by the running "
                        f"container(s) {', '.join(names)}: the run copies it while they run "
                        "(not paused: pausing would write the engine's state on the source); "
                        "'run --cutover' stops them before its final copy, which is consistent")
            for what, names in sorted(writers.items())]


def containers_steps(planned: ContainersPlan) -> tuple[Step, ...]:
    """The containers step, after the services started (the engine's configuration and the
    projects' files are restored by then), when there is something to bring back."""
    alone = [c.name for c in planned.containers if not c.compose_project]
    if not (planned.stored_images or planned.projects or alone):
        return ()
    projects = ", ".join(p.name for p in planned.projects) or "none"
    recreated = f", recreate {', '.join(alone)}" if alone else ""
    return (Step("containers", f"{planned.engine}: load {len(planned.stored_images)} saved "
                 f"images, bring up the Compose projects ({projects}){recreated}",
                 StepKind.CONTAINERS),)


def containers_plan_from_json(data: Any) -> ContainersPlan:
    """A saved plan's containers (plans saved before containers were planned have none)."""
    return from_jsonable(ContainersPlan, data) if isinstance(data, dict) else ContainersPlan()
