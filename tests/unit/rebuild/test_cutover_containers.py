"""The cutover stops the source's running containers (its writers) by name through their
engine's CLI; revert starts them again. A fake ``podman`` on PATH records what it was told."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.plan.containers_model import ContainerPlan, ContainersPlan
from evacuate.plan.model import RebuildPlan
from evacuate.rebuild.cutover import container_writers, revert
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


def test_revert_starts_the_containers_the_cutover_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "podman.log"
    fake = tmp_path / "bin" / "podman"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    started = revert(_plan(), LocalTransport(name="root@web1:22"))
    assert started == ["container shop_web_1", "container cache"]
    assert log.read_text() == "start shop_web_1 cache\n"
