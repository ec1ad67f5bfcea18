"""Verify of a container host: the source's running Compose services run on the target from
the same image, each container outside Compose is there as it was, and its named volumes
exist there."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evacuate.inventory import HostInventory
from evacuate.inventory.facts.containers import parse
from evacuate.inventory.model import Container
from evacuate.verify.containers import compare_containers
from evacuate.verify.coverage import assess, seen_items
from evacuate.verify.model import Check
from tests.unit.verify.builders import manifest

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures/inventory/containers/podman_compose_lab.json"


def _host() -> HostInventory:
    found = parse(json.loads(CAPTURE.read_text())["output"])
    return HostInventory(host="lab-containers", collected_at="", containers=found)


def test_the_same_services_and_volumes_pass() -> None:
    checks = compare_containers(_host(), _host())
    assert {c.name: c.status.value for c in checks} == {
        "shop/web": "pass", "shop/worker": "pass", "container shop-migrate": "pass",
        "volume shop_notes-data": "pass", "volume shop_worker-state": "pass"}


def test_a_missing_service_another_image_and_a_missing_volume_fail() -> None:
    source = _host()
    found = source.containers
    web, worker = (c for c in found.containers if c.compose_project)
    target = replace(source, containers=replace(
        found, containers=(replace(web, image_id="0" * 64), replace(worker, state="exited")),
        named_volumes=found.named_volumes[:1]))
    checks = {c.name: c for c in compare_containers(source, target)}
    assert checks["shop/web"].status.value == "fail" and "image 000000000000" in checks["shop/web"].detail
    assert checks["shop/worker"].found == "not running"
    assert checks["volume shop_worker-state"].status.value == "fail"
    assert checks["volume shop_notes-data"].status.value == "pass"


def _alone(inventory: HostInventory) -> Container:
    return next(c for c in inventory.containers.containers if not c.compose_project)


def _with(inventory: HostInventory, *containers: Container) -> HostInventory:
    kept = tuple(c for c in inventory.containers.containers if c.compose_project)
    return replace(inventory, containers=replace(inventory.containers,
                                                 containers=kept + containers))


def test_a_container_outside_compose_must_be_there_from_its_image_in_its_state() -> None:
    source = _host()
    exited = _alone(source)  # shop-migrate: ran once, exited
    assert (exited.name, exited.state) == ("shop-migrate", "exited")
    name = "container shop-migrate"

    def judged(target: HostInventory) -> Check:
        return {c.name: c for c in compare_containers(source, target)}[name]

    assert judged(_with(source, replace(exited, state="created"))).status.value == "pass"
    started = judged(_with(source, replace(exited, state="running")))
    assert started.status.value == "fail" and "running on the target, exited" in started.detail
    other = judged(_with(source, replace(exited, state="created", image_id="1" * 64)))
    assert other.status.value == "fail" and "image 111111111111 on the target" in other.detail
    gone = judged(_with(source))
    assert (gone.status.value, gone.found) == ("fail", "missing")
    running = replace(exited, state="running")
    assert {c.name: c.status.value for c in compare_containers(
        _with(source, running), _with(source, replace(running, state="exited")))}[name] == "fail"


def test_every_container_the_inventory_saw_is_an_item_a_check_must_cover() -> None:
    source = _host()
    compose_exited = replace(_alone(source), name="shop_job_1", compose_project="shop",
                             compose_service="job")
    source = _with(source, _alone(source), compose_exited)
    items = {i.name: i for i in seen_items(source, manifest(source))
             if i.area == "containers"}
    assert set(items) == {"shop/web", "shop/worker", "shop/job", "container shop-migrate"}
    coverage, missing = assess(list(items.values()), compare_containers(source, source))
    assert [c.name for c in missing] == ["shop/job"]  # an exited Compose service: no check
    assert (coverage.seen, coverage.checked) == (4, 3)
