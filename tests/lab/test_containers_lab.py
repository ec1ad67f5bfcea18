"""A container host: lab-containers runs rootful Podman with the Compose project ``shop`` (a
web app on :8081 keeping notes in a named volume, a worker summarising them into a second
volume), images built locally, a one-shot container that exited. The inventory sees exactly
that, masks the project's token, leaves the host as it was, and the plan lists every
container, image and volume with its size and origin."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.actions.inventory import take_inventory
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.inventory import HostInventory, to_json
from evacuate.lab.lab import CONTAINER_PROJECT, Lab, containers_lab
from evacuate.plan.containers import plan_containers
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from evacuate.verify.webclient import fetch
from tests.lab.conftest import running_lab
from tests.lab.source_state import Entry, changes, file_system_state

# a lab of its own; a developer running beside others may pick another id and index
LAB_ID = os.environ.get("EVACUATE_TEST_CONTAINERS_LAB_ID", "hc")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_CONTAINERS_LAB_INDEX", "21"))
HOST = "lab-containers"
CANARY = "canary-compose-token-7f3a"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("containers-lab"),
                     containers_lab(LAB_ID, LAB_INDEX)) as it:
        yield it


def _run(lab: Lab, command: str) -> str:
    with lab.open(HOST) as transport:
        return transport.run(command, timeout=120, check=True).text


@pytest.fixture(scope="module")
def before(lab: Lab) -> dict[bytes, Entry]:
    with lab.open(HOST) as transport:
        return file_system_state(transport)


@pytest.fixture(scope="module")
def inventory(lab: Lab, before: dict[bytes, Entry],
              tmp_path_factory: pytest.TempPathFactory) -> HostInventory:
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef(HOST, parse_host_spec(lab.ssh_spec(HOST)))
    outcome = take_inventory(ref, options, StateDir(tmp_path_factory.mktemp("inv-state")))
    assert outcome.error is None, outcome.error
    assert outcome.inventory is not None
    return outcome.inventory


def test_the_shop_answers_from_its_containers(lab: Lab) -> None:
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"Shop notes\n3 notes\norder more paper bags\n" in answer.body
    summary = _run(lab, "cat \"$(podman volume inspect shop_worker-state "
                        "--format '{{.Mountpoint}}')/summary.txt\"")
    assert summary == "notes: 3\n"


def test_the_inventory_sees_exactly_the_engine_containers_images_and_volumes(
        inventory: HostInventory, lab: Lab) -> None:
    assert inventory.errors == {}
    found = inventory.containers
    assert found.engine == "podman" and found.version.startswith("4.3.")
    by_name = {c.name: c for c in found.containers}
    assert set(by_name) == {"shop_web_1", "shop_worker_1", "shop-migrate"}
    web, worker, oneshot = by_name["shop_web_1"], by_name["shop_worker_1"], by_name["shop-migrate"]
    assert (web.state, worker.state, oneshot.state) == ("running", "running", "exited")
    assert (web.restart_policy, worker.restart_policy, oneshot.restart_policy) == (
        "always", "always", "no")
    assert web.network_mode == worker.network_mode == "host"
    assert web.published_ports == ()  # host networking: the app's port is the host's own
    assert any(listener.port == 8081 for listener in inventory.listeners)
    assert [(m.kind, m.source, m.destination, m.read_only) for m in web.mounts] == [
        ("volume", "shop_notes-data", "/data", False)]
    assert sorted((m.source, m.destination, m.read_only) for m in worker.mounts) == [
        ("shop_notes-data", "/data", True), ("shop_worker-state", "/state", False)]
    assert {"NOTES_TITLE=Shop notes", "NOTES_PORT=8081", "APP_TOKEN=<masked>"} <= set(web.env)
    assert (web.image, worker.image, oneshot.image) == (
        "localhost/shop/web:1", "localhost/shop/worker:1", "localhost/shop/web:1")
    images = {tag: i for i in found.images for tag in i.tags}
    assert set(images) == {"localhost/lab/busybox:1.35", "localhost/shop/web:1",
                           "localhost/shop/worker:1"}
    assert all(i.local and i.size_bytes > 1_000_000 for i in found.images)
    assert web.image_id == oneshot.image_id == images["localhost/shop/web:1"].id
    assert worker.image_id == images["localhost/shop/worker:1"].id

    volumes = {v.name: v for v in found.named_volumes}
    assert set(volumes) == {"shop_notes-data", "shop_worker-state"}
    du = _run(lab, "du -sk /var/lib/containers/storage/volumes/shop_notes-data/_data").split()[0]
    assert volumes["shop_notes-data"].size_bytes == int(du) * 1024
    assert volumes["shop_notes-data"].compose_project == CONTAINER_PROJECT

    (project,) = found.compose_projects
    assert (project.name, project.working_dir, project.services) == (
        CONTAINER_PROJECT, "/srv/shop", ("web", "worker"))
    assert project.config_files == ("/srv/shop/compose.yaml",)
    assert project.env_files == ("/srv/shop/.env",)
    assert (web.compose_service, worker.compose_service, oneshot.compose_project) == (
        "web", "worker", "")


def test_the_projects_token_never_reaches_the_inventory(inventory: HostInventory, lab: Lab) -> None:
    assert CANARY in _run(lab, "cat /srv/shop/.env; podman inspect shop_web_1")  # it is there
    assert CANARY not in json.dumps(to_json(inventory))


def test_the_plan_lists_every_container_image_and_volume(inventory: HostInventory) -> None:
    planned, warnings = plan_containers(inventory.containers)
    assert [w.code for w in warnings] == ["containers-not-moved"]
    assert {c.name for c in planned.containers} == {"shop_web_1", "shop_worker_1", "shop-migrate"}
    assert {i.origin for i in planned.images} == {"store"} and len(planned.images) == 3
    assert all(v.size_bytes for v in planned.volumes) and len(planned.volumes) == 2


def test_the_inventory_changed_nothing_on_the_host(inventory: HostInventory, lab: Lab,
                                                   before: dict[bytes, Entry]) -> None:
    with lab.open(HOST) as transport:
        after = file_system_state(transport)
    assert changes(before, after) == []


def test_the_containers_come_back_after_a_reboot(lab: Lab, inventory: HostInventory,
                                                 tmp_path: Path) -> None:
    """Lived-in: the project starts at boot (podman-restart, restart: always)."""
    status = lab.reset(HOST)
    assert status.healthy, status
    running = _run(lab, "podman ps --format '{{.Names}}' | sort").split()
    assert running == ["shop_web_1", "shop_worker_1"]
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200 and b"3 notes" in answer.body
