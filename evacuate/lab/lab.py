"""The lab: real Debian hosts (systemd-nspawn) on a private bridge, reachable by real SSH.

``Lab.up()`` builds or reuses the cached images, starts every host and waits until
SSH answers (with strict host-key checking against the known_hosts file it writes)
and systemd reports the system running. ``Lab.down()`` removes everything it made,
also what a crashed run left behind: processes, cgroups, mounts, veths, netns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from evacuate.errors import EvacuateError, LabError
from evacuate.lab import aptrepo, bindzone, dnszone, hosts, images, network
from evacuate.lab.accounts import add_accounts
from evacuate.lab.hosts import HostLayout
from evacuate.lab.shapes import (  # re-exported: the lab's users import them from here
    APT_HOST as APT_HOST,
)
from evacuate.lab.shapes import (
    CONTAINER_PROJECT as CONTAINER_PROJECT,
)
from evacuate.lab.shapes import (
    CONTAINERS_SERVICES as CONTAINERS_SERVICES,
)
from evacuate.lab.shapes import (
    DNS_HOST_NUMBER as DNS_HOST_NUMBER,
)
from evacuate.lab.shapes import (
    DNS_SERVICES as DNS_SERVICES,
)
from evacuate.lab.shapes import (
    MAIL_SERVICES as MAIL_SERVICES,
)
from evacuate.lab.shapes import (
    MAIL_USERS as MAIL_USERS,
)
from evacuate.lab.shapes import (
    POSTGRESQL_MAJOR as POSTGRESQL_MAJOR,
)
from evacuate.lab.shapes import (
    SOURCE_SERVICES as SOURCE_SERVICES,
)
from evacuate.lab.shapes import (
    LabHostSpec as LabHostSpec,
)
from evacuate.lab.shapes import (
    LabSpec as LabSpec,
)
from evacuate.lab.shapes import (
    containers_lab as containers_lab,
)
from evacuate.lab.shapes import (
    cross_release_lab as cross_release_lab,
)
from evacuate.lab.shapes import (
    default_lab as default_lab,
)
from evacuate.lab.shapes import (
    dns_lab as dns_lab,
)
from evacuate.lab.shapes import (
    docker_lab as docker_lab,
)
from evacuate.lab.shapes import (
    mail_lab as mail_lab,
)
from evacuate.lab.shapes import (
    source_services as source_services,
)
from evacuate.state import StateDir, ensure_private_dir, write_json, write_private

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HostStatus:
    name: str
    address: str
    running: bool
    reachable: bool
    system_state: str
    services: dict[str, str]
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return (self.running and self.reachable and self.system_state == "running"
                and all(state == "active" for state in self.services.values()))


class Lab:
    """One lab, its runtime under /var/lib/evacuate/lab/<id> and its keys in the state dir."""

    def __init__(self, spec: LabSpec, state: StateDir, progress: Progress | None = None) -> None:
        self.spec = spec
        self.state = state
        self.progress: Progress = progress or (lambda _msg: None)

    # -- paths -------------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return self.state.lab

    @property
    def key(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.dir / "ssh_config"

    def address(self, host: LabHostSpec | str) -> str:
        spec = self.host(host) if isinstance(host, str) else host
        return self.spec.network.address(spec.number)

    def host(self, name: str) -> LabHostSpec:
        for candidate in self.spec.hosts:
            if name in (candidate.name, candidate.short):
                return candidate
        raise LabError(f"the lab has no host {name!r} (hosts: "
                       f"{', '.join(h.name for h in self.spec.hosts)})")

    def layout(self, host: LabHostSpec) -> HostLayout:
        return HostLayout(self.spec.lab_id, host.short)

    def ssh_spec(self, host: LabHostSpec | str) -> str:
        return f"root@{self.address(host)}"

    # -- lifecycle -----------------------------------------------------------------------
    def up(self, *, timeout: float = 120.0) -> list[HostStatus]:
        """Start every host (building images when needed) and wait until all are ready."""
        _require_root()
        built = {}
        for spec in {h.image for h in self.spec.hosts}:
            cached = (images.image_path(spec) / ".complete").exists()
            self.progress(f"image {spec.name} ({spec.suite}): "
                          f"{'cached' if cached else 'building (about a minute)'}")
            built[spec] = images.ensure_image(spec)
        for spec in self.spec.repo_images:
            if not (images.image_path(spec) / ".complete").exists():
                self.progress(f"image {spec.name} ({spec.suite}) for the {spec.suite} "
                              "repository: building (about a minute)")
            images.ensure_image(spec)
        self._ensure_key()
        net = self.spec.network
        network.ensure_bridge(net)
        repo_root = images.cache_dir() / "repo"
        aptrepo.serve(repo_root, net.gateway, aptrepo.repo_port(self.spec.index),
                      self.dir / "repo.pid", self.dir / "repo.log")
        # the same tree at a port that does not depend on the lab (apt sources written at
        # image build time name it: http://apt.lab.test/<repo>)
        aptrepo.serve(repo_root, net.gateway, aptrepo.FIXED_PORT,
                      self.dir / "repo-fixed.pid", self.dir / "repo.log")
        entries = []
        for host in self.spec.hosts:
            layout = self.layout(host)
            if hosts.nspawn_pid(layout) is None:
                self.progress(f"starting {host.name} at {self.address(host)}")
                self._teardown_host(host.short)
                hosts.mount_overlay(layout, built[host.image].rootfs)
                self._customize(host, layout)
                ns = network.attach_host(net, host.short, self.address(host))
                hosts.boot(layout, ns, hostname=host.name, nested_engine=host.nested_engine)
            pub = (layout.root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
            entries.append(f"{self.address(host)},{host.name} {pub[0]} {pub[1]}")
        write_private(self.known_hosts, "\n".join(entries) + "\n")
        self._write_descriptors()
        deadline = time.monotonic() + timeout
        statuses = [self._wait_ready(host, deadline) for host in self.spec.hosts]
        return statuses

    def down(self) -> list[str]:
        """Stop and remove every host, the apt repository server and the bridge; return
        the names of the hosts that were removed."""
        _require_root()
        names = set(network.lab_namespaces(self.spec.lab_id))
        runtime = hosts.RUNTIME_ROOT / self.spec.lab_id
        if runtime.is_dir():
            names.update(p.name for p in runtime.iterdir() if p.is_dir())
        names.update(h.short for h in self.spec.hosts if hosts.nspawn_pid(self.layout(h)))
        for name in sorted(names):
            self.progress(f"stopping {name}")
            self._teardown_host(name)
        aptrepo.stop(self.dir / "repo.pid")
        aptrepo.stop(self.dir / "repo-fixed.pid")
        network.remove_bridge(self.spec.network)
        with contextlib.suppress(OSError):
            runtime.rmdir()
        hosts.remove_empty_cgroup_parents()
        (self.dir / "lab.json").unlink(missing_ok=True)
        return sorted(names)

    def status(self) -> list[HostStatus]:
        return [self._probe(host) for host in self.spec.hosts]

    # -- internals -----------------------------------------------------------------------
    def _teardown_host(self, short: str) -> None:
        layout = HostLayout(self.spec.lab_id, short)
        hosts.stop(layout)
        hosts.unmount(layout)
        network.detach_host(self.spec.network, short)
        if layout.base.exists():
            shutil.rmtree(layout.base)

    def _ensure_key(self) -> None:
        ensure_private_dir(self.dir)
        if not self.key.exists():
            _check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "evacuate-lab",
                    "-f", str(self.key)], "generating the lab's SSH key")

    def _customize(self, host: LabHostSpec, layout: HostLayout) -> None:
        root = layout.root
        (root / "etc/hostname").write_text(host.name + "\n")
        others = "".join(f"{self.address(h)}\t{h.name}\n" for h in self.spec.hosts if h != host)
        (root / "etc/hosts").write_text(
            f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n::1\tlocalhost ip6-localhost\n{others}"
            f"{self.spec.network.gateway}\t{APT_HOST}\n")
        resolv = root / "etc/resolv.conf"
        if resolv.is_symlink() or resolv.exists():
            resolv.unlink()
        resolv.write_text("# lab host: no name server\n")
        self._install_host_key(host, root / "etc/ssh")
        ssh_dir = root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        authorized = ssh_dir / "authorized_keys"
        authorized.write_text(self.key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        add_accounts(root, host.accounts, int(time.time() // 86400))
        if host.image.name == "dns":
            source = next((h for h in self.spec.hosts if h.short == "source"), None)
            dnszone.populate(root, dns=self.address(host), other=self.spec.network.address(99),
                             source=self.address(source) if source else
                             self.spec.network.address(10))
        if host.image.name == "bind":
            source = next((h for h in self.spec.hosts if h.short == "source"), None)
            bindzone.populate(root, bind=self.address(host), other=self.spec.network.address(99),
                              source=self.address(source) if source else
                              self.spec.network.address(10))
        if host.image.seed is None:  # a blank target installs from the lab repository only
            (root / "etc/apt/sources.list").write_text(
                f"deb [trusted=yes] http://{self.spec.network.gateway}:"
                f"{aptrepo.repo_port(self.spec.index)}/{host.image.suite} ./\n")
            for extra in (root / "etc/apt/sources.list.d").glob("*"):
                extra.unlink()

    def _install_host_key(self, host: LabHostSpec, ssh_etc: Path) -> None:
        """Give the host its own key, kept in the state dir so that a reset host keeps
        its identity (and known_hosts stays right)."""
        kept = ensure_private_dir(self.dir / "hostkeys" / host.short) / "ssh_host_ed25519_key"
        if not kept.exists():
            _check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host.name}",
                    "-f", str(kept)], f"generating {host.name}'s host key")
        for old in ssh_etc.glob("ssh_host_*"):
            old.unlink()
        for suffix, mode in (("", 0o600), (".pub", 0o644)):
            target = ssh_etc / f"ssh_host_ed25519_key{suffix}"
            shutil.copyfile(kept.with_name(kept.name + suffix), target)
            target.chmod(mode)

    def stop(self, name: str) -> None:
        """Power one host off and remove it (a hoster pulling the plug); ``reset`` brings a
        fresh one back."""
        _require_root()
        self._teardown_host(self.host(name).short)

    def reset(self, name: str, *, timeout: float = 120.0) -> HostStatus:
        """Throw away everything that happened on one host since it was started and boot
        it again from its image (same address, same host key); wait until it is ready."""
        _require_root()
        host = self.host(name)
        built = images.ensure_image(host.image)
        self.progress(f"resetting {host.name}")
        self._teardown_host(host.short)
        layout = self.layout(host)
        hosts.mount_overlay(layout, built.rootfs)
        self._customize(host, layout)
        ns = network.attach_host(self.spec.network, host.short, self.address(host))
        hosts.boot(layout, ns, hostname=host.name, nested_engine=host.nested_engine)
        return self._wait_ready(host, time.monotonic() + timeout)

    def _write_descriptors(self) -> None:
        write_json(self.dir / "lab.json", {
            "lab_id": self.spec.lab_id, "index": self.spec.index, "suite": self.spec.suite,
            "key": str(self.key), "known_hosts": str(self.known_hosts),
            "hosts": {h.name: {"address": self.address(h), "image": asdict(h.image)["name"],
                               "services": list(h.services)} for h in self.spec.hosts},
        })
        blocks = [
            f"Host {h.name}\n  HostName {self.address(h)}\n  User root\n"
            f"  IdentityFile {self.key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n  StrictHostKeyChecking yes\n"
            for h in self.spec.hosts]
        write_private(self.ssh_config, "\n".join(blocks))

    def open(self, host: LabHostSpec | str, *, connect_timeout: float = 5.0):  # type: ignore[no-untyped-def]
        """Open an SSH transport to a lab host (strict host keys, the lab's key)."""
        from evacuate.transport import ConnectOptions, open_transport

        spec = self.host(host) if isinstance(host, str) else host
        return open_transport(self.ssh_spec(spec), ConnectOptions(
            known_hosts=self.known_hosts, identity=self.key, connect_timeout=connect_timeout))

    def _wait_ready(self, host: LabHostSpec, deadline: float) -> HostStatus:
        last_error = "no answer"
        while time.monotonic() < deadline:
            if hosts.nspawn_pid(self.layout(host)) is None:
                raise LabError(f"{host.name} stopped while booting",
                               hint=f"see {self.layout(host).console_log}")
            try:
                with self.open(host, connect_timeout=2.0) as transport:
                    remaining = max(5, int(deadline - time.monotonic()))
                    transport.run(f"timeout {remaining} systemctl is-system-running --wait",
                                  timeout=remaining + 5)
                    return self._probe(host)
            except EvacuateError as error:
                last_error = str(error)
                time.sleep(0.3)
        raise LabError(f"{host.name} did not become ready in time: {last_error}",
                       hint=f"see {self.layout(host).console_log}")

    def _probe(self, host: LabHostSpec) -> HostStatus:
        address = self.address(host)
        if hosts.nspawn_pid(self.layout(host)) is None:
            return HostStatus(host.name, address, False, False, "stopped", {})
        try:
            with self.open(host) as transport:
                state = transport.run("systemctl is-system-running", timeout=15).text.strip()
                result = transport.run(["systemctl", "is-active", *host.services], timeout=15)
        except EvacuateError as error:
            return HostStatus(host.name, address, True, False, "unknown", {}, str(error))
        states = result.text.split()
        services = dict(zip(host.services, states + ["unknown"] * (len(host.services) - len(states)),
                            strict=True))
        return HostStatus(host.name, address, True, True, state or "unknown", services)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts, systemd-nspawn)",
                       hint="run it as root, e.g. 'sudo make lab'")


def _check(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"{what} failed: {proc.stderr.strip() or proc.returncode}")


def dns_api_url(lab: Lab) -> str:
    """lab-dns's PowerDNS HTTP API, as the controller reaches it."""
    return f"http://{lab.address('lab-dns')}:{dnszone.API_PORT}"
