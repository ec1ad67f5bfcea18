"""Fact family ``docker``: whether Docker is installed and running, its containers
(``docker ps -a``, one JSON object per line) and named volumes."""

from __future__ import annotations

import json

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts
from evacuate.inventory.model import Container, Containers

_COMPOSE_LABEL = "com.docker.compose.project="


def _container(data: dict[str, object]) -> Container:
    labels = str(data.get("Labels", ""))
    project = next((item[len(_COMPOSE_LABEL):] for item in labels.split(",")
                    if item.startswith(_COMPOSE_LABEL)), "")
    return Container(
        id=str(data.get("ID", ""))[:12], name=str(data.get("Names", "")),
        image=str(data.get("Image", "")), state=str(data.get("State", "")),
        status=str(data.get("Status", "")), ports=str(data.get("Ports", "")),
        compose_project=project,
    )


def parse(text: str) -> Containers:
    """Parse the ``docker`` section; ``engine`` is "" when Docker is not installed."""
    parts = split_parts(text)
    if not parts:
        return Containers()
    containers = []
    for line in first_part(parts, "ps").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            containers.append(_container(data))
    volumes = tuple(v.strip() for v in first_part(parts, "volumes").splitlines() if v.strip())
    return Containers(engine="docker", version=first_part(parts, "version").strip(),
                      containers=tuple(containers), volumes=volumes)


FACT = Fact(name="docker", script=snippet("docker"), parse=parse, default=Containers, timeout=30)
