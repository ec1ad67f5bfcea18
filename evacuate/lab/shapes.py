"""The lab's shapes: which hosts a lab has, from which images, with which services and
accounts (the demo's source and target, and the other sources the tests evacuate)."""

from __future__ import annotations

from dataclasses import dataclass, field

from evacuate.lab import images, network
from evacuate.lab.accounts import CLOUD_ACCOUNTS, LabAccount
from evacuate.lab.images import ImageSpec


@dataclass(frozen=True)
class LabHostSpec:
    name: str  # the host's hostname, e.g. lab-source
    short: str  # used in netns/veth/machine names
    number: int  # last octet of its address
    image: ImageSpec
    services: tuple[str, ...] = ("ssh",)
    accounts: tuple[LabAccount, ...] = ()  # there before the host first boots
    nested_engine: bool = False  # it runs Docker: booted as hosts.NESTED_ENGINE_ARGS say


@dataclass(frozen=True)
class LabSpec:
    lab_id: str = "evac"
    index: int = 0
    suite: str = "bookworm"
    hosts: tuple[LabHostSpec, ...] = field(default=())
    # built but not booted: their .debs fill the lab repository (a blank target of one
    # release installs the servers that only the source image of that release pulled in)
    repo_images: tuple[ImageSpec, ...] = field(default=())

    @property
    def network(self) -> network.LabNetwork:
        return network.LabNetwork(self.lab_id, self.index)


POSTGRESQL_MAJOR = {"bullseye": 13, "bookworm": 15, "trixie": 17}
"""The PostgreSQL major version each Debian release ships (its cluster is <major>/main)."""


def source_services(suite: str = "bookworm") -> tuple[str, ...]:
    """The units a healthy lab-source of ``suite`` runs (its PostgreSQL cluster by name when
    the release's version is known)."""
    major = POSTGRESQL_MAJOR.get(suite)
    return ("ssh", "nginx", f"postgresql@{major}-main" if major else "postgresql", "mariadb",
            "notes", "cron", "notes-cleanup.timer")


SOURCE_SERVICES = source_services()


def default_lab(lab_id: str = "evac", index: int = 0, suite: str = "bookworm") -> LabSpec:
    """The demo lab: lab-source (the doomed server) and lab-target (a blank host, lived-in
    like a hoster's cloud image: users at uid/gid 1000 and 1001 with homes)."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        LabHostSpec("lab-source", "source", 10, images.source_image(suite), source_services(suite)),
        LabHostSpec("lab-target", "target", 20, images.target_image(suite),
                    accounts=CLOUD_ACCOUNTS),
    ))


def cross_release_lab(lab_id: str, index: int, source_suite: str = "bullseye",
                      target_suite: str = "bookworm") -> LabSpec:
    """lab-source seeded on an older release, lab-target a blank host of a newer one that
    installs from the newer release's lab repository (which the newer source image fills)."""
    return LabSpec(lab_id=lab_id, index=index, suite=target_suite, hosts=(
        LabHostSpec("lab-source", "source", 10, images.source_image(source_suite),
                    source_services(source_suite)),
        LabHostSpec("lab-target", "target", 20, images.target_image(target_suite)),
    ), repo_images=(images.source_image(target_suite),))


MAIL_SERVICES = ("ssh", "postfix", "dovecot", "opendkim", "redis-server", "apache2", "mailstat",
                 "cron")
"""The units a healthy lab-mail runs."""

MAIL_USERS = {"anna": "lab-imap-anna-5d1e", "ben": "lab-imap-ben-83c2"}
"""lab-mail's mailbox users and their IMAP passwords (set by seed/mail/mail.sh)."""

APT_HOST = "apt.lab.test"
"""The name every lab host resolves to the bridge address, where the lab serves its apt
repositories on port 80 too (lab-mail's third-party source names it)."""


def mail_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """lab-mail (a mail and webmail server: Postfix, Dovecot, OpenDKIM, Roundcube on Apache,
    redis, a service on its own system account, a third-party apt source) and a blank
    lab-target of the same release (users at uid/gid 1000 and 1001, like a cloud image), which installs the mail stack from the lab repository
    (the mail image's .debs fill it)."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        LabHostSpec("lab-mail", "mail", 10, images.mail_image(suite), MAIL_SERVICES),
        LabHostSpec("lab-target", "target", 20, images.target_image(suite),
                    accounts=CLOUD_ACCOUNTS),
    ))


DNS_HOST_NUMBER = 53
DNS_SERVICES = ("ssh", "pdns")
BIND_HOST_NUMBER = 54
BIND_SERVICES = ("ssh", "named")


def dns_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """The demo lab's lab-source and lab-target, and lab-dns: the authoritative server of
    lab-source's zone (PowerDNS, sqlite3 backend, HTTP API on :8081; evacuate/lab/dnszone.py),
    lab-bind: BIND 9 serving a second zone of lab-source's names, changed by TSIG-signed
    dynamic update (evacuate/lab/bindzone.py); certbot's .debs in the lab repository (a test installs it on lab-source)."""
    base = default_lab(lab_id, index, suite)
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        *base.hosts,
        LabHostSpec("lab-dns", "dns", DNS_HOST_NUMBER, images.dns_image(suite), DNS_SERVICES),
        LabHostSpec("lab-bind", "bind", BIND_HOST_NUMBER, images.bind_image(suite), BIND_SERVICES),
    ), repo_images=(images.certbot_repo_image(suite),))


CONTAINERS_SERVICES = ("ssh", "podman-restart", "cron")
"""The units a healthy lab-containers runs (podman-restart starts its containers at boot)."""

CONTAINER_PROJECT = "shop"
"""lab-containers' Compose project (its services, images and volumes are named after it)."""


def containers_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """lab-containers (rootful Podman running the Compose project ``shop``: a web app on
    :8081 and a worker, images built locally, two named volumes with data) and a blank
    lab-target of the same release, which installs Podman from the lab repository (the
    containers image's .debs fill it)."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        LabHostSpec("lab-containers", "containers", 10, images.containers_image(suite),
                    CONTAINERS_SERVICES),
        LabHostSpec("lab-target", "target", 20, images.target_image(suite),
                    accounts=CLOUD_ACCOUNTS),
    ))


FLEET_SOURCES = ("lab-fleet-a", "lab-fleet-b", "lab-fleet-c")
FLEET_TARGETS = ("lab-new-a", "lab-new-b", "lab-new-c")
"""The fleet lab's sources and, in the same order, the target each is rebuilt on."""


def fleet_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """Three small sources (blank hosts a test writes a little data onto) and a blank
    target for each: a fleet that moves on 2 CPUs in minutes."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        *(LabHostSpec(name, f"f{name[-1]}", 11 + number, images.target_image(suite))
          for number, name in enumerate(FLEET_SOURCES)),
        *(LabHostSpec(name, f"n{name[-1]}", 21 + number, images.target_image(suite))
          for number, name in enumerate(FLEET_TARGETS)),
    ))


NODE_HOST_NUMBER = 30


def node_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """A small source (a blank host a test writes a little data onto), a blank target and
    lab-node: an Ansible execution node (ansible-core and ansible-runner installed)."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        LabHostSpec("lab-source", "source", 10, images.target_image(suite)),
        LabHostSpec("lab-target", "target", 20, images.target_image(suite)),
        LabHostSpec("lab-node", "node", NODE_HOST_NUMBER, images.node_image(suite)),
    ))


DOCKER_SERVICES = ("ssh", "docker", "cron")
"""The units a healthy lab-docker runs (docker starts its restart=always containers)."""


def docker_lab(lab_id: str, index: int, suite: str = "bookworm") -> LabSpec:
    """lab-docker (Debian's docker.io running the Compose project ``shop`` with Debian's
    docker-compose: lab-containers' web app and worker on the project's bridge network, port
    8081 published, images built locally, named volumes with data, a container outside
    Compose on :8082) and a blank lab-target of the same release that installs docker.io
    from the lab repository. Both boot with a container engine's privileges
    (hosts.NESTED_ENGINE_ARGS); the target has the cloud image's users."""
    return LabSpec(lab_id=lab_id, index=index, suite=suite, hosts=(
        LabHostSpec("lab-docker", "docker", 10, images.docker_image(suite), DOCKER_SERVICES,
                    nested_engine=True),
        LabHostSpec("lab-target", "target", 20, images.target_image(suite),
                    accounts=CLOUD_ACCOUNTS, nested_engine=True),
    ))
