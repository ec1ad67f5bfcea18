"""The plan's containers as data (see evacuate.plan.containers)."""

from __future__ import annotations

from dataclasses import dataclass

from evacuate.inventory.model_containers import ComposeProject

ComposePlan = ComposeProject
"""A Compose project the run brings up: as the inventory saw it."""


@dataclass(frozen=True)
class ContainerImagePlan:
    id: str
    tags: tuple[str, ...]
    size_bytes: int
    origin: str  # store | pull


@dataclass(frozen=True)
class ContainerPlan:
    name: str
    image: str
    image_id: str
    size_bytes: int  # its image's (the container's own layer is not measured)
    state: str
    restart_policy: str
    compose_project: str = ""
    compose_service: str = ""


@dataclass(frozen=True)
class VolumePlan:
    name: str
    size_bytes: int | None
    compose_project: str = ""


@dataclass(frozen=True)
class ContainersPlan:
    engine: str = ""  # "" when the source runs no container engine
    version: str = ""
    containers: tuple[ContainerPlan, ...] = ()
    images: tuple[ContainerImagePlan, ...] = ()
    volumes: tuple[VolumePlan, ...] = ()
    projects: tuple[ComposePlan, ...] = ()

    @property
    def stored_images(self) -> tuple[ContainerImagePlan, ...]:
        return tuple(i for i in self.images if i.origin == "store")
