"""The cutover stops the source's running containers (its writers) by name through their
engine's CLI; revert starts them again. A fake ``podman`` on PATH records what it was told."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.plan.containers_model import ContainerPlan, ContainersPlan
from evacuate.plan.model import DatabasePlan, RebuildPlan
from evacuate.rebuild.cutover import container_writers, revert, writers
from evacuate.transport.local import LocalTransport


def _plan() -> RebuildPlan:
    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "services_started", ())
    object.__setattr__(plan, "databases", ())
    object.__setattr__(plan, "undumped_units", ())
    object.__setattr__(plan, "containers", ContainersPlan("podman", "4.3.1", (
        ContainerPlan("shop_web_1", "localhost/shop/web:1", "a" * 64, 1, "running", "always",
                      "shop", "web"),
        ContainerPlan("shop-migrate", "localhost/shop/web:1", "a" * 64, 1, "exited", "no"),
        ContainerPlan("cache", "localhost/lab/busybox:1.35", "b" * 64, 1, "running",
                      "always"))))
    return plan


def test_only_the_running_containers_are_writers() -> None:
    assert container_writers(_plan()) == ("shop_web_1", "cache")


def _fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool) -> Path:
    """A fake ``podman`` and ``systemctl`` (podman-restart.service enabled or not) on PATH,
    both logging their arguments; return the log."""
    log = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("podman", ""),
                       ("systemctl", "" if enabled else '[ "$1" = is-enabled ] && exit 1\n')):
        fake = bin_dir / name
        fake.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n{body}exit 0\n')
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return log


def test_revert_starts_the_containers_the_cutover_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _fakes(tmp_path, monkeypatch, enabled=False)
    started = revert(_plan(), LocalTransport(name="root@web1:22"))
    assert started == ["container shop_web_1", "container cache"]
    assert log.read_text().splitlines() == [
        "systemctl is-enabled --quiet podman-restart.service", "podman start shop_web_1 cache"]


def test_the_containers_start_again_under_the_unit_that_starts_them_at_boot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where podman-restart.service is enabled, the stopped containers start again through
    it (in its cgroup, as on a booted host: the verify's listener check names that unit),
    not in the SSH session that runs the cutover or the revert."""
    log = _fakes(tmp_path, monkeypatch, enabled=True)
    revert(_plan(), LocalTransport(name="root@web1:22"))
    assert log.read_text().splitlines() == [
        "systemctl is-enabled --quiet podman-restart.service",
        "systemctl restart podman-restart.service", "podman start shop_web_1 cache"]


def test_a_container_whose_database_is_dumped_stays_up_with_podman_restart() -> None:
    """Like the host's database servers: its final dump is taken (and loaded) inside it.
    podman-restart, whose stop would stop every restart=always container, is not stopped."""
    plan = _plan()
    db = ContainerPlan("shop_db_1", "localhost/lab/postgres:15", "c" * 64, 1, "running",
                       "always", "shop", "db")
    object.__setattr__(plan, "containers", replace(plan.containers, containers=(
        *plan.containers.containers, db)))
    object.__setattr__(plan, "services_started", ("cron.service", "podman-restart.service"))
    assert container_writers(plan) == ("shop_web_1", "cache", "shop_db_1")
    assert writers(plan) == ["cron.service", "podman-restart.service"]
    object.__setattr__(plan, "databases", (
        DatabasePlan("postgresql@podman:shop_db_1", "shop", 100, 3, "shop"),))
    assert container_writers(plan) == ("shop_web_1", "cache")
    assert writers(plan) == ["cron.service"]


def test_dockers_daemon_stays_up_and_its_containers_are_stopped_by_name() -> None:
    """Stopping docker.service would stop every container and leave ``docker stop`` no
    daemon to talk to (seen in the lab: "Cannot connect to the Docker daemon")."""
    plan = _plan()
    object.__setattr__(plan, "containers", replace(plan.containers, engine="docker"))
    object.__setattr__(plan, "services_started", (
        "containerd.service", "cron.service", "docker.service", "docker.socket"))
    assert writers(plan) == ["cron.service"]
    assert container_writers(plan) == ("shop_web_1", "cache")
