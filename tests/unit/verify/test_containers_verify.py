"""Verify of a container host: the source's running Compose services run on the target from
the same image, and its named volumes exist there."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evacuate.inventory import HostInventory
from evacuate.inventory.facts.containers import parse
from evacuate.verify.containers import compare_containers

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures/inventory/containers/podman_compose_lab.json"


def _host() -> HostInventory:
    found = parse(json.loads(CAPTURE.read_text())["output"])
    return HostInventory(host="lab-containers", collected_at="", containers=found)


def test_the_same_services_and_volumes_pass() -> None:
    checks = compare_containers(_host(), _host())
    assert {c.name: c.status.value for c in checks} == {
        "shop/web": "pass", "shop/worker": "pass", "volume shop_notes-data": "pass",
        "volume shop_worker-state": "pass"}


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
