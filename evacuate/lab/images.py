"""Lab images: Debian root filesystems built once with mmdebstrap and cached.

An image is keyed by a hash of everything that shapes it (suite, mirror,
package list, seed files, this builder's version), so a change to any of them
builds a new image and an unchanged one is reused in seconds. The .debs that
mmdebstrap downloaded are kept in a per-suite apt repository that the lab
serves to its hosts, because the containers cannot reach a package registry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from evacuate.errors import LabError
from evacuate.lab.hosts import NESTED_ENGINE_ARGS, NESTED_ENGINE_ENV, HostLayout, cgroups_of

log = logging.getLogger(__name__)

BUILDER_VERSION = "4"
CACHE_ENV = "EVACUATE_LAB_CACHE"
DEFAULT_CACHE = Path("/var/cache/evacuate/lab")
DEFAULT_MIRROR = "http://deb.debian.org/debian"

_BASE = ("systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "python3", "sudo",
         "iproute2", "procps", "libnss-myhostname", "ca-certificates")


@dataclass(frozen=True)
class ImageSpec:
    """What one lab image is made of."""

    name: str
    suite: str
    packages: tuple[str, ...]
    # script under evacuate/lab/seed/, run once in the image; "mail/mail.sh" names a seed
    # folder of its own (only its files shape the image, and only they are copied in)
    seed: str | None = None
    mirror: str = DEFAULT_MIRROR
    extra_files: tuple[str, ...] = field(default=())
    # requirements (``name==version``) the builder downloads from PyPI with pip, without
    # their dependencies, into the seed's ``wheels/`` (the image itself reaches no registry)
    wheels: tuple[str, ...] = field(default=())
    # its seed runs a container engine (Docker): seeded with lab.hosts' NESTED_ENGINE_ARGS
    nested_engine: bool = False

    @property
    def seed_script(self) -> str | None:
        return self.seed.rsplit("/", 1)[-1] if self.seed else None

    def seed_files(self) -> dict[str, bytes]:
        """Return the seed directory's files (name → content) when the image has a seed."""
        if self.seed is None:
            return {}
        folder = resources.files("evacuate.lab") / "seed"
        for part in self.seed.split("/")[:-1]:
            folder = folder / part
        return {item.name: item.read_bytes() for item in sorted(folder.iterdir(), key=lambda i: i.name)
                if item.is_file()}

    def cache_key(self) -> str:
        digest = hashlib.sha256()
        for part in (BUILDER_VERSION, self.name, self.suite, self.mirror, " ".join(sorted(self.packages)),
                     self.seed or ""):
            digest.update(part.encode() + b"\0")
        if self.wheels:  # (only then: the keys of the images without wheels stay as they were)
            digest.update(" ".join(self.wheels).encode() + b"\0")
        if self.nested_engine:  # (likewise)
            digest.update(b"nested engine\0")
        for name, content in self.seed_files().items():
            digest.update(name.encode() + b"\0" + content + b"\0")
        return digest.hexdigest()[:16]


def source_image(suite: str = "bookworm") -> ImageSpec:
    """The doomed server: nginx, PostgreSQL, MariaDB, cron and a custom app, seeded."""
    return ImageSpec(
        name="source", suite=suite, seed="source.sh",
        packages=(*_BASE, "nginx", "postgresql", "mariadb-server", "mariadb-client", "cron", "rsync",
                  "zstd", "openssl", "tzdata", "less", "acl", "ssl-cert", "python3-apt"),
    )


MAIL_PACKAGES = ("postfix", "dovecot-imapd", "opendkim", "opendkim-tools", "redis-server",
                 "roundcube", "roundcube-core", "roundcube-sqlite3", "apache2", "libapache2-mod-php",
                 "sqlite3", "cron", "rsync", "gnupg", "python3-apt", "ssl-cert", "less")


def mail_image(suite: str = "bookworm") -> ImageSpec:
    """A second doomed server of another shape: Postfix, Dovecot and OpenDKIM with Maildir
    mailboxes, Roundcube (SQLite, state under /var/lib) on Apache, redis, a service on its
    own system account, a third-party apt repository; seeded by seed/mail/mail.sh."""
    return ImageSpec(name="mail", suite=suite, seed="mail/mail.sh",
                     packages=(*_BASE, *MAIL_PACKAGES))


DNS_PACKAGES = ("pdns-server", "pdns-backend-sqlite3", "pdns-backend-bind", "sqlite3")


def dns_image(suite: str = "bookworm") -> ImageSpec:
    """An authoritative name server: PowerDNS with its sqlite3 backend and HTTP API (the
    zones are written by ``lab up``: see evacuate/lab/dnszone.py); seeded by seed/dns/dns.sh."""
    return ImageSpec(name="dns", suite=suite, seed="dns/dns.sh", packages=(*_BASE, *DNS_PACKAGES))


BIND_PACKAGES = ("bind9", "bind9-utils", "bind9-dnsutils")


def bind_image(suite: str = "bookworm") -> ImageSpec:
    """A self-hosted authoritative BIND 9 changed by TSIG-signed dynamic update (its zone is
    written by ``lab up``: see evacuate/lab/bindzone.py); seeded by seed/bind/bind.sh."""
    return ImageSpec(name="bind", suite=suite, seed="bind/bind.sh",
                     packages=(*_BASE, *BIND_PACKAGES))


def certbot_repo_image(suite: str = "bookworm") -> ImageSpec:
    """Never booted: its .debs put certbot (and its timer) into the lab repository, for a
    source that renews its certificates with certbot."""
    return ImageSpec(name="certbot", suite=suite, packages=(*_BASE, "certbot"))


CONTAINER_PACKAGES = ("podman", "crun", "conmon", "golang-github-containers-common",
                      "containernetworking-plugins", "catatonit", "python3-yaml",
                      "python3-dotenv", "busybox-static", "cron", "rsync", "less",
                      "postgresql-15", "uidmap", "slirp4netns")
# uidmap and slirp4netns: an account's rootless Podman (seed/containers/rootless.sh)
PODMAN_COMPOSE = "podman-compose==1.0.6"
"""podman-compose from PyPI (Debian bookworm's 1.0.3 passes ``--net`` also with host networking,
which the lab hosts refuse)."""


def containers_image(suite: str = "bookworm") -> ImageSpec:
    """A container host: rootful Podman with a Compose project (a web app and a worker,
    images built locally from an imported busybox root, named volumes with data), podman-compose
    installed by hand under /usr/local; seeded by seed/containers/containers.sh."""
    return ImageSpec(name="containers", suite=suite, seed="containers/containers.sh",
                     packages=(*_BASE, *CONTAINER_PACKAGES), wheels=(PODMAN_COMPOSE,))


DOCKER_PACKAGES = ("docker.io", "docker-compose", "containerd", "runc", "tini", "iptables",
                   "busybox-static", "cron", "rsync", "less")


def docker_image(suite: str = "bookworm") -> ImageSpec:
    """A Docker host: Debian's docker.io with the Compose project ``shop`` run by Debian's
    docker-compose (the web app and worker of lab-containers, on the project's own bridge
    network with a published port), images built locally from an imported busybox root, a
    container outside Compose; seeded by seed/containers/docker.sh (it shares the shop's
    files with lab-containers' seed)."""
    return ImageSpec(name="docker", suite=suite, seed="containers/docker.sh",
                     packages=(*_BASE, *DOCKER_PACKAGES), nested_engine=True)


NODE_PACKAGES = ("python3-jinja2", "python3-yaml", "python3-cryptography", "python3-packaging",
                 "python3-resolvelib", "python3-pexpect", "python3-daemon", "openssh-client")
NODE_WHEELS = ("ansible-core==2.19.14", "ansible-runner==2.4.3")
"""An execution node's Ansible: the controller's versions, from PyPI (their dependencies are
Debian's packages above)."""


def node_image(suite: str = "bookworm") -> ImageSpec:
    """An Ansible execution node: the blank target image plus ansible-core and ansible-runner
    (wheels installed by hand under /usr/local by seed/node/node.sh)."""
    return ImageSpec(name="node", suite=suite, seed="node/node.sh",
                     packages=(*_BASE, "python3-apt", *NODE_PACKAGES), wheels=NODE_WHEELS)


def target_image(suite: str = "bookworm") -> ImageSpec:
    """A blank Debian host as a hoster hands it out: sshd, python3 (+apt bindings for Ansible)."""
    return ImageSpec(name="target", suite=suite, packages=(*_BASE, "python3-apt"))


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV, DEFAULT_CACHE))


@dataclass(frozen=True)
class BuiltImage:
    spec: ImageSpec
    rootfs: Path
    repo: Path


def image_path(spec: ImageSpec) -> Path:
    return cache_dir() / "images" / f"{spec.name}-{spec.suite}-{spec.cache_key()}"


def repo_path(suite: str) -> Path:
    return cache_dir() / "repo" / suite


def ensure_image(spec: ImageSpec, *, rebuild: bool = False) -> BuiltImage:
    """Return the cached image for ``spec``, building it first if it is missing."""
    final = image_path(spec)
    repo = repo_path(spec.suite)
    if (final / ".complete").exists() and (repo / "Packages").exists() and not rebuild:
        return BuiltImage(spec, final / "rootfs", repo)
    # one build per suite at a time: concurrent test runs share the cache, and a finished
    # image may already be another lab's overlay lower dir (never replace it)
    with _suite_lock(spec.suite):
        if rebuild and final.exists():
            shutil.rmtree(final)
        if not (final / ".complete").exists() or not (repo / "Packages").exists():
            _build(spec, final, repo)
    return BuiltImage(spec, final / "rootfs", repo)


@contextlib.contextmanager
def _suite_lock(suite: str) -> Iterator[None]:
    lock = cache_dir() / "images" / f".build-{suite}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], what: str, *, log_path: Path | None = None, env: dict[str, str] | None = None,
         preexec: Callable[[], None] | None = None) -> None:
    log.info("lab: %s: %s", what, " ".join(cmd))
    handle = log_path.open("ab") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False,
                              preexec_fn=preexec)
    finally:
        if log_path and not isinstance(handle, int):
            handle.close()
    if proc.returncode != 0:
        tail = ""
        if log_path and log_path.exists():
            lines = log_path.read_text(errors="replace").strip().splitlines()
            tail = lines[-1] if lines else ""
        raise LabError(f"{what} failed (exit {proc.returncode}){': ' + tail if tail else ''}",
                       hint=f"full log: {log_path}" if log_path else None)


def _build(spec: ImageSpec, final: Path, repo: Path) -> None:
    for tool in ("mmdebstrap", "systemd-nspawn", "dpkg-scanpackages"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} is not installed", hint="run 'make deps' (apt-get install mmdebstrap "
                           "systemd-container dpkg-dev)")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    rootfs = work / "rootfs"
    log_path = final.parent / f"{final.name}.log"
    log_path.unlink(missing_ok=True)
    try:
        _run(["mmdebstrap", "--mode=root", "--variant=minbase", "--skip=essential/unlink",
              "--skip=cleanup/apt/cache",
              "--components=main", f"--include={','.join(spec.packages)}",
              spec.suite, str(rootfs), spec.mirror],
             f"building the {spec.name} image ({spec.suite})", log_path=log_path)
        _harvest_debs(rootfs, repo)
        _prepare_rootfs(rootfs)
        if spec.seed:
            _seed(spec, rootfs, log_path)
        _clean_rootfs(rootfs)
        (work / ".complete").write_text(spec.cache_key() + "\n")
        if final.exists():  # an incomplete leftover of a crashed build
            shutil.rmtree(final)
        work.rename(final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _harvest_debs(rootfs: Path, repo: Path) -> None:
    """Move the downloaded .debs into the suite's repository and re-index it."""
    repo.mkdir(parents=True, exist_ok=True)
    archives = rootfs / "var/cache/apt/archives"
    for deb in archives.glob("*.deb"):
        dest = repo / deb.name
        if dest.exists():
            deb.unlink()
        else:
            shutil.move(str(deb), dest)
    index = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo,
                           capture_output=True, check=False)
    if index.returncode != 0:
        raise LabError(f"indexing the lab apt repository {repo} failed: "
                       f"{index.stderr.decode(errors='replace').strip()[-200:]}")
    tmp = repo / "Packages.tmp"
    tmp.write_bytes(index.stdout)
    tmp.replace(repo / "Packages")


def _prepare_rootfs(rootfs: Path) -> None:
    """Make the image bootable as a container and free of build-machine identity."""
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    # nspawn containers have no consoles of their own to spawn gettys on
    for unit in ("getty@tty1.service", "console-getty.service"):
        (rootfs / "etc/systemd/system" / unit).unlink(missing_ok=True)
        (rootfs / "etc/systemd/system" / unit).symlink_to("/dev/null")
    for unit in ("systemd-networkd-wait-online.service",):
        (rootfs / "etc/systemd/system" / unit).symlink_to("/dev/null")


def _seed(spec: ImageSpec, rootfs: Path, log_path: Path) -> None:
    seed_dir = rootfs / "root/evacuate-seed"
    seed_dir.mkdir(parents=True)
    for name, content in spec.seed_files().items():
        (seed_dir / name).write_bytes(content)
    if spec.wheels:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
              "-d", str(seed_dir / "wheels"), *spec.wheels],
             f"downloading {', '.join(spec.wheels)} for the {spec.name} image", log_path=log_path)
    env = dict(os.environ, SYSTEMD_NSPAWN_TMPFS_TMP="0",
               **(NESTED_ENGINE_ENV if spec.nested_engine else {}))
    cmd = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "-M", f"evacuate-seed-{spec.name}",
           "--private-network", "--resolv-conf=off",
           "--timezone=off", "--link-journal=no", "-D", str(rootfs), "--as-pid2",
           *(NESTED_ENGINE_ARGS if spec.nested_engine else ()),
           "/bin/sh", f"/root/evacuate-seed/{spec.seed_script}"]
    if spec.nested_engine:  # the engine's cgroups go into lab cgroups, removed afterwards
        with cgroups_of(HostLayout("seed", f"{spec.name}-{os.getpid()}")) as enter:
            _run(cmd, f"seeding the {spec.name} image", log_path=log_path, env=env, preexec=enter)
    else:
        _run(cmd, f"seeding the {spec.name} image", log_path=log_path, env=env)
    _publish_repositories(seed_dir / "repos")
    shutil.rmtree(seed_dir)


def _publish_repositories(made: Path) -> None:
    """Move the apt repositories a seed script built (``repos/<name>/``, e.g. a signed
    third-party repository) into the lab's repository tree, served beside the suites'."""
    if not made.is_dir():
        return
    for repo in made.iterdir():
        dest = cache_dir() / "repo" / repo.name
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(repo, dest)


def _clean_rootfs(rootfs: Path) -> None:
    for cache in (rootfs / "var/cache/apt").glob("*.bin"):
        cache.unlink()
    for tmp in (rootfs / "tmp").glob("*"):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
