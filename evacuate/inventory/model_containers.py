"""Inventory model, containers: a Docker or Podman engine, its containers, images, named
volumes and the Compose projects they belong to (re-exported by evacuate.inventory.model).

Secret-looking environment values are masked on the host before they are printed (and
again by the parser): an ``Env`` entry holds ``NAME=<masked>`` instead of the value."""

from __future__ import annotations

from dataclasses import dataclass

MASKED = "<masked>"


@dataclass(frozen=True)
class PortBinding:
    """A published port: ``container_port`` as ``8080/tcp``, the host address and port."""

    container_port: str
    host_ip: str = ""
    host_port: str = ""


@dataclass(frozen=True)
class ContainerMount:
    """``kind`` is ``volume`` (``source`` is the volume's name), ``bind`` (a host path) or
    ``tmpfs``; ``path`` is where the host's copy lives (a volume's mount point)."""

    kind: str
    source: str
    destination: str
    read_only: bool = False
    path: str = ""


@dataclass(frozen=True)
class Container:
    """One container as ``inspect`` reports it. ``image`` is the reference it was created
    from, ``image_id`` the image's id (hex, without ``sha256:``); ``env`` holds
    ``NAME=value`` entries with secret-looking values masked; the ``compose_*`` fields come
    from its ``com.docker.compose.*`` labels (config files made absolute)."""

    id: str
    name: str
    image: str
    image_id: str = ""
    state: str = ""
    restart_policy: str = ""
    published_ports: tuple[PortBinding, ...] = ()
    mounts: tuple[ContainerMount, ...] = ()
    env: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    network_mode: str = ""
    compose_project: str = ""
    compose_service: str = ""
    compose_working_dir: str = ""
    compose_config_files: tuple[str, ...] = ()
    # the container's main process as the engine started it (inspect's Path and Args:
    # the entrypoint and command together), e.g. ("docker-entrypoint.sh", "postgres")
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerImage:
    """An image: ``local`` when it cannot be pulled again — built or imported here (no
    registry digest) or named only under ``localhost/`` — so a snapshot must save it."""

    id: str
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    size_bytes: int = 0
    local: bool = True


@dataclass(frozen=True)
class ContainerVolume:
    """A named volume: its mount point on the host and the disk space it uses (``du``)."""

    name: str
    driver: str = "local"
    mountpoint: str = ""
    size_bytes: int | None = None
    compose_project: str = ""


@dataclass(frozen=True)
class ComposeProject:
    """A Compose project as its containers' labels tell it, with the ``.env`` files found
    in its working directory."""

    name: str
    working_dir: str
    config_files: tuple[str, ...]
    env_files: tuple[str, ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class RootlessContainer:
    """A container of an account's rootless Podman, as containers/storage records it (its
    ``containers.json``): ``image`` the name it was created from, ``running`` when a conmon
    process of that account names it."""

    id: str
    name: str
    image_id: str = ""
    image: str = ""
    running: bool = False


@dataclass(frozen=True)
class RootlessPodman:
    """One account's rootless Podman: where its storage is (``storage_root``, inside its
    home unless its storage.conf says otherwise), its containers, images (names and ids)
    and named volumes (their data directories and sizes)."""

    user: str
    uid: int
    storage_root: str
    containers: tuple[RootlessContainer, ...] = ()
    images: tuple[ContainerImage, ...] = ()
    volumes: tuple[ContainerVolume, ...] = ()


@dataclass(frozen=True)
class Containers:
    """``engine`` is ``podman`` or ``docker`` (the CLI the inventory used: Podman when both
    are installed), ``""`` when neither is; ``version`` is ``""`` when the engine did not
    answer (a Docker daemon down, a Podman without usable storage)."""

    engine: str = ""
    version: str = ""
    containers: tuple[Container, ...] = ()
    images: tuple[ContainerImage, ...] = ()
    named_volumes: tuple[ContainerVolume, ...] = ()
    compose_projects: tuple[ComposeProject, ...] = ()
    package: str | None = None
    """The Debian package the engine's CLI comes from (dpkg), ``""`` when none owns it,
    None when not asked (an inventory of an older evacuate)."""
    storage_root: str = ""
    """Where the engine keeps its storage, as it says (Podman's GraphRoot, Docker's
    DockerRootDir); ``""`` when it did not say (an older inventory, a daemon down)."""

    rootless: tuple[RootlessPodman, ...] = ()
    """The accounts' own (rootless) Podman storages, read as files: not the engine's."""

    def storage_dirs(self) -> tuple[str, ...]:
        """The engine's storage as the host says it is (empty when it did not say)."""
        return (self.storage_root,) if self.storage_root.startswith("/") else ()

    def volume_dirs(self) -> tuple[str, ...]:
        """The named volumes' data directories as the engine says (their mount points)."""
        return tuple(v.mountpoint for v in self.named_volumes if v.mountpoint.startswith("/"))

    def image(self, image_id: str) -> ContainerImage | None:
        return next((i for i in self.images if i.id == image_id), None)
