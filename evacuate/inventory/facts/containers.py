"""Fact family ``containers``: the Podman or Docker engine of a host (rootful), its
containers, images and named volumes from the engine's ``inspect`` JSON, the volumes' disk
usage, and the ``.env`` files of the Compose projects its containers' labels name.

Parts: ``engine <podman|docker>`` (its version), ``containers``, ``images`` and
``volumes`` (each one ``inspect`` JSON array), ``volume_sizes`` (``du -sk`` lines),
``env_files`` (paths); each account's rootless Podman storage (read as files:
evacuate.inventory.facts.containers_rootless). The snippet masks secret-looking values before they leave the host;
:func:`mask_env` masks them again here, so a value is never recorded either way."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from evacuate.inventory.facts.base import Fact, dedupe, first_part, snippet, split_parts
from evacuate.inventory.facts.containers_rootless import du_sizes, parse_rootless
from evacuate.inventory.model import (
    ComposeProject,
    Container,
    ContainerImage,
    ContainerMount,
    Containers,
    ContainerVolume,
    PortBinding,
)
from evacuate.inventory.model_containers import MASKED
from evacuate.inventory.secret_names import is_secret_name

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")
_COMPOSE = "com.docker.compose."
_PODMAN_COMPOSE = "io.podman.compose."


def mask_env(entry: str) -> str:
    """Return an environment entry ``NAME=value`` with its value masked when the name looks
    like a secret's, and any URL password in it masked."""
    name, sep, _ = entry.partition("=")
    if sep and is_secret_name(name):
        return f"{name}={MASKED}"
    return _URL_PASSWORD.sub(rf"\1:{MASKED}@", entry)


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _image_id(value: object) -> str:
    return str(value or "").removeprefix("sha256:")


def _ports(data: dict[str, Any]) -> tuple[PortBinding, ...]:
    settings = _dict(data.get("NetworkSettings"))
    ports = _dict(settings.get("Ports")) or _dict(_dict(data.get("HostConfig")).get("PortBindings"))
    found = []
    for container_port, bindings in sorted(ports.items()):
        for binding in bindings if isinstance(bindings, list) else []:
            if isinstance(binding, dict) and binding.get("HostPort"):
                found.append(PortBinding(container_port, str(binding.get("HostIp") or ""),
                                         str(binding["HostPort"])))
    return tuple(dict.fromkeys(found))


def _mounts(data: dict[str, Any]) -> tuple[ContainerMount, ...]:
    mounts = []
    for mount in data.get("Mounts") or []:
        if not isinstance(mount, dict):
            continue
        kind = str(mount.get("Type", ""))
        source = str(mount.get("Name") or "") if kind == "volume" else str(mount.get("Source", ""))
        mounts.append(ContainerMount(kind=kind, source=source,
                                     destination=str(mount.get("Destination", "")),
                                     read_only=mount.get("RW") is False,
                                     path=str(mount.get("Source", ""))))
    return tuple(mounts)


def _label(labels: dict[str, Any], key: str) -> str:
    return str(labels.get(_COMPOSE + key) or labels.get(_PODMAN_COMPOSE + key) or "")


def _container(data: dict[str, Any]) -> Container:
    config = _dict(data.get("Config"))
    host = _dict(data.get("HostConfig"))
    labels = _dict(config.get("Labels"))
    working_dir = _label(labels, "project.working_dir")
    files = tuple(posixpath.join(working_dir, f) if working_dir else f
                  for f in _label(labels, "project.config_files").split(",") if f)
    networks = _dict(_dict(data.get("NetworkSettings")).get("Networks"))
    return Container(
        id=str(data.get("Id", "")),
        name=str(data.get("Name", "")).lstrip("/"),
        image=str(data.get("ImageName") or config.get("Image") or ""),
        image_id=_image_id(data.get("Image")),
        state=str(_dict(data.get("State")).get("Status", "")),
        restart_policy=str(_dict(host.get("RestartPolicy")).get("Name") or "no"),
        published_ports=_ports(data),
        mounts=_mounts(data),
        env=tuple(mask_env(e) for e in _strings(config.get("Env"))),
        networks=tuple(sorted(networks)),
        network_mode=str(host.get("NetworkMode", "")),
        compose_project=_label(labels, "project"),
        compose_service=_label(labels, "service"),
        compose_working_dir=working_dir,
        compose_config_files=files,
        command=tuple(x for x in (str(data.get("Path") or ""), *_strings(data.get("Args"))) if x),
    )


def _is_local(tags: tuple[str, ...], digests: tuple[str, ...]) -> bool:
    """An image a registry cannot give back: no registry digest (built, imported, loaded),
    or every name it has under ``localhost/`` (Podman records a local digest for those)."""
    return not digests or all(name.startswith("localhost/") for name in (*tags, *digests))


def _image(data: dict[str, Any]) -> ContainerImage:
    tags = _strings(data.get("RepoTags"))
    digests = _strings(data.get("RepoDigests"))
    size = data.get("Size")
    return ContainerImage(id=_image_id(data.get("Id")), tags=tags, digests=digests,
                          size_bytes=size if isinstance(size, int) else 0,
                          local=_is_local(tags, digests))


def _volume(data: dict[str, Any], sizes: dict[str, int]) -> ContainerVolume:
    labels = _dict(data.get("Labels"))
    mountpoint = str(data.get("Mountpoint", ""))
    return ContainerVolume(name=str(data.get("Name", "")), driver=str(data.get("Driver") or "local"),
                           mountpoint=mountpoint, size_bytes=sizes.get(mountpoint),
                           compose_project=_label(labels, "project"))


def _projects(containers: tuple[Container, ...], env_files: tuple[str, ...]
              ) -> tuple[ComposeProject, ...]:
    projects = []
    for name in dedupe(c.compose_project for c in containers):
        members = [c for c in containers if c.compose_project == name]
        working_dir = next((c.compose_working_dir for c in members if c.compose_working_dir), "")
        projects.append(ComposeProject(
            name=name, working_dir=working_dir,
            config_files=dedupe(f for c in members for f in c.compose_config_files),
            env_files=tuple(f for f in env_files if working_dir and posixpath.dirname(f) == working_dir),
            services=tuple(sorted(dedupe(c.compose_service for c in members)))))
    return tuple(projects)


def parse(text: str) -> Containers:
    """Parse the ``containers`` section; the default (engine ``""``) when neither Podman nor
    Docker is installed."""
    parts = split_parts(text)
    engine = next((p for p in parts if p.kind == "engine"), None)
    if engine is None:
        return Containers()
    containers = tuple(sorted((_container(d) for d in _json_list(first_part(parts, "containers"))),
                              key=lambda c: c.name))
    images = tuple(sorted((_image(d) for d in _json_list(first_part(parts, "images"))),
                          key=lambda i: (i.tags, i.id)))
    sizes = du_sizes(first_part(parts, "volume_sizes"))
    volumes = tuple(sorted((_volume(d, sizes) for d in _json_list(first_part(parts, "volumes"))),
                           key=lambda v: v.name))
    env_files = tuple(line for line in first_part(parts, "env_files").splitlines() if line)
    return Containers(engine=engine.args.strip(), version=engine.text.strip(),
                      containers=containers, images=images, named_volumes=volumes,
                      compose_projects=_projects(containers, env_files),
                      package=(_package(first_part(parts, "engine_package"))
                               if any(p.kind == "engine_package" for p in parts) else None),
                      storage_root=_storage_root(first_part(parts, "storage_root")),
                      rootless=parse_rootless(parts))


def _storage_root(text: str) -> str:
    """The engine's storage directory: an absolute path on one line, else ``""``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0].rstrip("/") or "/" if len(lines) == 1 and lines[0].startswith("/") else ""


def _package(text: str) -> str:
    """``docker.io: /usr/bin/docker`` (dpkg-query -S) → ``docker.io``; a diversion's line
    and an architecture qualifier (``podman:amd64``) are left out."""
    for line in text.splitlines():
        if ": " in line and not line.startswith("diversion "):
            return line.split(": ", 1)[0].split(",")[0].strip().split(":")[0]
    return ""


FACT = Fact(name="containers", script=snippet("containers"), parse=parse, default=Containers,
            timeout=60)
