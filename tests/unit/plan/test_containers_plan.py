"""The plan's containers: every container, image and volume with its size, each image's
origin (the store or a registry), and a warning naming what cannot move as it is."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from evacuate.cli.plan_cmds import container_rows
from evacuate.inventory.facts.containers import parse
from evacuate.inventory.model import ContainerImage, Containers
from evacuate.plan.containers import containers_steps, plan_containers
from evacuate.plan.model import StepKind
from evacuate.plan.persist import plan_from_json
from tests.unit.plan.test_persist import _plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/inventory/containers"


def _lab() -> Containers:
    return parse(json.loads((FIXTURES / "podman_compose_lab.json").read_text())["output"])


def test_the_lab_host_is_listed_with_sizes_and_origins() -> None:
    planned, warnings = plan_containers(_lab())
    # each volume a running container writes is named (the worker reads shop_notes-data
    # read-only: not a writer of it); the one container outside Compose exited: it is
    # created on the target, not started
    assert [(w.code, w.message.split(":")[0]) for w in warnings] == [
        ("container-volume-live", "volume shop_notes-data is written by the running "
                                  "container(s) shop_web_1"),
        ("container-volume-live", "volume shop_worker-state is written by the running "
                                  "container(s) shop_worker_1"),
        ("container-not-compose", "container shop-migrate is not part of a Compose project")]
    assert "'run --cutover' stops them before its final copy" in warnings[0].message
    assert warnings[2].message.endswith(
        "; it is exited on the source: created on the target, not started")
    (step,) = containers_steps(planned)
    assert step.kind is StepKind.CONTAINERS and "(shop)" in step.title and "load 3" in step.title
    assert step.title.endswith(", recreate shop-migrate")
    assert (planned.engine, planned.version) == ("podman", "4.3.1")
    assert [(c.name, c.compose_project, c.compose_service) for c in planned.containers] == [
        ("shop-migrate", "", ""), ("shop_web_1", "shop", "web"), ("shop_worker_1", "shop", "worker")]
    assert all(c.size_bytes > 2_000_000 for c in planned.containers)
    assert [(i.tags, i.origin) for i in planned.images] == [
        (("localhost/lab/busybox:1.35",), "store"), (("localhost/shop/web:1",), "store"),
        (("localhost/shop/worker:1",), "store")]
    assert [(v.name, v.size_bytes) for v in planned.volumes] == [
        ("shop_notes-data", 53248), ("shop_worker-state", 8192)]
    (project,) = planned.projects
    assert project.env_files == ("/srv/shop/.env",)
    rows = container_rows(replace(_plan(), containers=planned))
    assert ("image", "localhost/shop/web:1", "2.0 MiB",
            "from the store (built or imported on the source)") in rows
    assert ("volume", "shop_notes-data", "52.0 KiB", "project shop") in rows


def test_a_pullable_image_is_pulled_on_the_target() -> None:
    found = replace(_lab(), images=(ContainerImage("aa", ("docker.io/library/redis:7",),
                                                   ("docker.io/library/redis@sha256:1",), 10, False),))
    planned, warnings = plan_containers(found)
    assert [i.origin for i in planned.images] == ["pull"]
    assert [w.severity for w in warnings if w.code == "container-pull"] == ["info"]
    rows = container_rows(replace(_plan(), containers=planned))
    assert ("image", "docker.io/library/redis:7", "10 B", "pulled on the target") in rows


def test_what_cannot_move_is_a_warning_naming_it() -> None:
    lab = _lab()
    gone = replace(lab, images=lab.images[:1],  # the shop's two images removed
                   named_volumes=(replace(lab.named_volumes[0], size_bytes=None),))
    _, warnings = plan_containers(gone)
    messages = [w.message for w in warnings]
    assert any("shop_web_1" in m and "localhost/shop/web:1 is gone" in m for m in messages)
    assert any("shop_worker_1" in m for m in messages)
    assert any("volume shop_notes-data" in m and "could not be read" in m for m in messages)
    running = replace(lab, containers=tuple(replace(c, state="running") for c in lab.containers))
    _, warnings = plan_containers(running)
    assert [w.message for w in warnings if w.code == "container-not-compose"] == [
        "container shop-migrate is not part of a Compose project: it is recreated on the "
        "target from its inspected configuration (image, environment, mounts, ports, network, "
        "restart policy, command), read at snapshot time"]
    _, warnings = plan_containers(Containers(engine="podman"))
    assert [w.code for w in warnings] == ["container-engine"]
    assert containers_steps(plan_containers(Containers(engine="podman"))[0]) == ()
    assert plan_containers(Containers()) == (plan_containers(Containers())[0], [])


def test_a_plan_with_containers_round_trips_and_older_plans_load() -> None:
    planned, _ = plan_containers(_lab())
    plan = replace(_plan(), containers=planned)
    data = json.loads(json.dumps(asdict(plan)))
    assert plan_from_json(data) == plan
    del data["containers"]
    assert plan_from_json(data).containers.engine == ""


@pytest.mark.parametrize(("package", "offered", "warned"), [
    ("docker.io", {"docker.io": "20.10.24+dfsg1-1+deb12u1"}, ""),
    ("docker.io", {"docker.io": "26.1.5+dfsg1-9+b3"}, ""),  # a newer engine loads older images
    ("docker.io", {"docker.io": "18.09.1+dfsg1-7.1+deb10u3"},
     "docker 20.10.24+dfsg1 on the source; the target's package sources offer docker.io "
     "18.09.1+dfsg1-7.1+deb10u3, an older engine"),
    ("docker-ce", {"docker-ce": None},
     "docker 20.10.24+dfsg1 comes from the package docker-ce, which the target's package "
     "sources do not offer"),
    ("", {}, "docker 20.10.24+dfsg1 on the source belongs to no Debian package"),
    ("docker.io", {}, ""),  # not asked of the target: nothing known
    (None, {"docker.io": None}, ""),  # an inventory that did not ask dpkg
])
def test_an_engine_the_target_cannot_install_is_named(package: str | None,
                                                      offered: dict[str, str | None],
                                                      warned: str) -> None:
    found = replace(_lab(), engine="docker", version="20.10.24+dfsg1", package=package)
    _planned, warnings = plan_containers(found, (), offered)
    named = [w.message for w in warnings if w.code == "container-engine-version"]
    assert len(named) == (1 if warned else 0), named
    assert all(message.startswith(warned) for message in named), named
