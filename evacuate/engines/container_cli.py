"""The commands of each container engine's CLI, in one table (Podman and Docker speak the
same ``inspect``, ``save``, ``load`` and ``tag``; they differ in the archive format flag and
in the Compose front end). Snapshot and rebuild pick a row by the inventory's engine name
and never name an engine themselves."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from importlib import resources

CONTAINER_EXEC = (resources.files("evacuate.engines") / "sh" / "container_exec.sh").read_text(
    encoding="utf-8")
"""Runs a program in a running container's namespaces (see ContainerCli.exec)."""

TMP_IN_MEMORY = "TMPDIR=/dev/shm; [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR; "
"""Podman makes its temporary copies in $TMPDIR (/var/tmp by default): on the source they
would change /var/tmp; /dev/shm is memory on every Linux host."""


@dataclass(frozen=True)
class ContainerCli:
    binary: str
    save_flags: str  # so that ``save`` writes a docker-archive to stdout
    compose: str  # sh bringing the project {project} up, detached, in the current directory
    restart_at_boot: str = ""  # the unit that starts restart: always containers at boot
    # a cache the client writes while it saves (Podman records the digests it computed in
    # /var/lib/containers/cache and chmods the directories on the way): covered by a tmpfs
    # in a mount namespace of the save's own, so that the source stays unchanged
    save_cache: str = ""
    # the daemon that runs the containers (Docker's): stopping it stops every container and
    # leaves the CLI nothing to talk to (or socket-activates it again); the cutover keeps it
    # running and stops the containers by name
    daemon_units: tuple[str, ...] = ()

    def save(self, reference: str) -> str:
        inner = f"{self.binary} save {self.save_flags}{shlex.quote(reference)}"
        if not self.save_cache:
            return f"{TMP_IN_MEMORY}exec {inner}"
        cache = shlex.quote(self.save_cache)
        private = shlex.quote(f"mount -t tmpfs evacuate-cache {cache} && exec {inner}")
        return (f"{TMP_IN_MEMORY}if [ -d {cache} ] && unshare -m true 2>/dev/null; then "
                f"exec unshare -m --propagation private sh -c {private}; else exec {inner}; fi")

    def load(self) -> str:
        return f"{TMP_IN_MEMORY}exec {self.binary} load"

    def has_image(self, image_id: str) -> str:
        return f"{TMP_IN_MEMORY}{self.binary} image inspect --format '{{{{.Id}}}}' {shlex.quote(image_id)}"

    def tag(self, image_id: str, tag: str) -> str:
        return f"{TMP_IN_MEMORY}{self.binary} tag {shlex.quote(image_id)} {shlex.quote(tag)}"

    def inspect(self, name: str) -> str:
        return f"{TMP_IN_MEMORY}{self.binary} container inspect {shlex.quote(name)}"

    def stop(self, names: tuple[str, ...]) -> str:
        """Stop the named containers (one already stopped is no error)."""
        return f"{TMP_IN_MEMORY}{self.binary} stop {' '.join(map(shlex.quote, names))}"

    def start(self, names: tuple[str, ...]) -> str:
        """Start the named containers (one already running is no error)."""
        return f"{TMP_IN_MEMORY}{self.binary} start {' '.join(map(shlex.quote, names))}"

    def start_as_at_boot(self) -> str:
        """sh that restarts the unit starting the ``restart: always`` containers at boot, when
        it is enabled, so that they run in its cgroup as on a booted host (``true`` for an
        engine without one: Docker's daemon starts them itself)."""
        if not self.restart_at_boot:
            return "true"
        unit = shlex.quote(self.restart_at_boot)
        return (f"if systemctl is-enabled --quiet {unit} 2>/dev/null; then "
                f"systemctl restart {unit}; fi")

    def exec(self, container: str, user: str = "", stdin: bool = False) -> str:
        """The prefix that runs a command inside the running ``container`` (as ``user``):
        one simple command, so that it can stand in a pipeline (``printf ... | PREFIX
        psql``). ``stdin``: its standard input is passed on (only then: a script read from
        stdin would otherwise be read by the command in the container). It enters the
        container's namespaces with nsenter (sh/container_exec.sh) rather than asking the
        engine's ``exec``, which records each session on disk: the source stays unchanged."""
        return (f"sh -c {shlex.quote(CONTAINER_EXEC)} container-exec {shlex.quote(self.binary)} "
                f"{shlex.quote(container)} {shlex.quote(user)} {1 if stdin else 0}")

    def compose_up(self, project: str) -> str:
        return self.compose.format(project=shlex.quote(project))


CLIS = {
    "podman": ContainerCli("podman", "--format docker-archive ",
                           "podman-compose -p {project} up -d", "podman-restart.service",
                           "/var/lib/containers/cache"),
    "docker": ContainerCli("docker", "",
                           "if docker compose version >/dev/null 2>&1; then docker compose -p "
                           "{project} up -d; else docker-compose -p {project} up -d; fi",
                           daemon_units=("docker.service", "docker.socket",
                                         "containerd.service")),
}


def is_container_cli(name: str) -> bool:
    """Whether ``name`` is a container engine's CLI (podman, docker)."""
    return name in CLIS


def container_cli(engine: str) -> ContainerCli:
    """The CLI of ``engine`` (the inventory's ``containers.engine``); KeyError for another."""
    return CLIS[engine]
