"""A Docker host: lab-docker runs Debian's docker.io with the Compose project ``shop`` under
Debian's docker-compose 1.29 (lab-containers' web app on the project's bridge network with
its port 8081 published, a worker summarising the notes into a second volume), a container
outside Compose (shop-cache, docker run -d --restart=always -p 8082:8082), images built
locally, a one-shot container that exited. The inventory sees Docker's containers, ports,
volumes and project and masks the tokens; the evacuation onto a blank target installs
docker.io, loads the images, recreates the volumes with their data and brings the project
up under its name with docker-compose; the same containers run there, the published ports
answer the same, verify passes and the source is unchanged. Both hosts boot with a
container engine's privileges (evacuate/lab/hosts.py NESTED_ENGINE_ARGS)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from evacuate.config import load_config
from evacuate.inventory import HostInventory, to_json
from evacuate.lab.lab import CONTAINER_PROJECT, Lab, docker_lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.verify.webclient import fetch
from tests.lab.conftest import running_lab
from tests.lab.container_hosts import (
    assert_created_not_started,
    evacuate,
    failed_checks,
    inventory_of,
    one_shot,
    run_on,
    state_of,
    volume_sums,
    write_config,
)
from tests.lab.source_state import Entry, changes, file_system_state

# a lab of its own; a developer running beside others may pick another id and index
LAB_ID = os.environ.get("EVACUATE_TEST_DOCKER_LAB_ID", "hk")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_DOCKER_LAB_INDEX", "22"))
HOST = "lab-docker"
CANARY = "canary-compose-token-7f3a"
ALONE_CANARY = "canary-standalone-token-91c2"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("docker-lab"),
                     docker_lab(LAB_ID, LAB_INDEX)) as it:
        yield it


@pytest.fixture(scope="module")
def before(lab: Lab) -> dict[bytes, Entry]:
    return state_of(lab, HOST)


@pytest.fixture(scope="module")
def inventory(lab: Lab, before: dict[bytes, Entry],
              tmp_path_factory: pytest.TempPathFactory) -> HostInventory:
    return inventory_of(lab, HOST, tmp_path_factory.mktemp("inv-state"))


def test_the_shop_answers_from_its_docker_containers(lab: Lab) -> None:
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"Shop notes\n3 notes\norder more paper bags\n" in answer.body
    assert run_on(lab, HOST, "docker info --format '{{.Driver}} {{.CgroupVersion}}'").split() == [
        "vfs", "2"]


def test_the_inventory_sees_dockers_containers_ports_volumes_and_project(
        inventory: HostInventory) -> None:
    assert inventory.errors == {}
    found = inventory.containers
    assert found.engine == "docker" and found.version.startswith("20.10.")
    assert found.package == "docker.io"  # dpkg-query -S of the CLI: Debian's package
    # the seed moved Docker's data-root to /srv (daemon.json): the engine says where it is
    assert found.storage_root == "/srv/docker"
    assert {v.mountpoint for v in found.named_volumes} == {
        f"/srv/docker/volumes/{name}/_data"
        for name in ("shop_notes-data", "shop_worker-state", "shop-cache-data")}
    by_name = {c.name: c for c in found.containers}
    assert set(by_name) == {"shop_web_1", "shop_worker_1", "shop-migrate", "shop-cache"}
    web, worker, alone = by_name["shop_web_1"], by_name["shop_worker_1"], by_name["shop-cache"]
    assert (web.state, worker.state, by_name["shop-migrate"].state, alone.state) == (
        "running", "running", "exited", "running")
    assert (web.restart_policy, alone.restart_policy) == ("always", "always")
    assert web.network_mode != "host" and alone.network_mode == "default"
    assert {p.host_port for p in web.published_ports} == {"8081"}
    assert {p.host_port for p in alone.published_ports} == {"8082"}
    assert {"NOTES_PORT=8081", "APP_TOKEN=<masked>"} <= set(web.env)
    assert "CACHE_TOKEN=<masked>" in alone.env
    assert [(m.kind, m.source, m.destination) for m in web.mounts] == [
        ("volume", "shop_notes-data", "/data")]
    images = {tag: i for i in found.images for tag in i.tags}
    assert {"localhost/lab/busybox:1.35", "localhost/shop/web:1",
            "localhost/shop/worker:1"} <= set(images)
    assert all(i.local for i in found.images)
    assert {v.name for v in found.named_volumes} == {"shop_notes-data", "shop_worker-state",
                                                     "shop-cache-data"}
    (project,) = found.compose_projects
    assert (project.name, project.working_dir, project.services) == (
        CONTAINER_PROJECT, "/srv/shop", ("web", "worker"))
    assert project.config_files == ("/srv/shop/docker-compose.yml",)
    assert CANARY not in json.dumps(to_json(inventory))
    assert ALONE_CANARY not in json.dumps(to_json(inventory))


VOLUME_SUMS = volume_sums("docker")
RUNNING = ("docker ps --filter status=running --format "
           "'{{.Label \"com.docker.compose.project\"}}/"
           "{{.Label \"com.docker.compose.service\"}} {{.Image}} {{.Ports}}' | sort")
ALONE = ("docker inspect shop-cache --format '{{.Config.Image}} "
         "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.PortBindings}} {{.Config.Cmd}} "
         "{{range .Mounts}}{{.Name}}:{{.Destination}}:{{.RW}}{{end}}'")


@pytest.fixture(scope="module")
def evacuated(lab: Lab, inventory: HostInventory,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """lab-docker evacuated onto the blank lab-target with the CLI (snapshot, plan, run,
    verify)."""
    config = write_config(lab, HOST, tmp_path_factory.mktemp("docker-run"))
    before = {"notes": fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST,
                             tls=False).body,
              "volumes": run_on(lab, HOST, VOLUME_SUMS), "running": run_on(lab, HOST, RUNNING),
              "alone": run_on(lab, HOST, ALONE)}
    output = []
    for step in (("snapshot", "shop"), ("plan", "shop", "--to", "target"), ("run",)):
        done = evacuate(config, *step)
        output.append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{step}: {(done.stderr + done.stdout)[-4000:]}"
    verified = evacuate(config, "verify", "shop", "target", "--json")
    return {"config": config, "before": before, "output": "\n".join(output),
            "verify": verified,
            "report": json.loads(verified.stdout) if verified.stdout.strip() else {}}


def test_the_same_containers_run_on_the_target_and_answer_the_same(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    running = run_on(lab, "lab-target", RUNNING)
    assert running == evacuated["before"]["running"]
    assert "shop/web localhost/shop/web:1 0.0.0.0:8081->8081/tcp" in running
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert answer.body == evacuated["before"]["notes"]
    cache = fetch(lab.address("lab-target"), 8082, path="/", host=HOST, tls=False)
    assert cache.status == 200 and cache.body == b"Shop cache\n", cache.error


def test_the_container_outside_compose_and_the_volumes_are_the_same(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    assert run_on(lab, "lab-target", ALONE) == evacuated["before"]["alone"]
    token = run_on(lab, "lab-target", "docker exec shop-cache sh -c 'echo \"$CACHE_TOKEN\"'")
    assert token == f"{ALONE_CANARY}\n"
    volumes = run_on(lab, "lab-target", VOLUME_SUMS)
    assert volumes == evacuated["before"]["volumes"] and "attachments/terms.txt" in volumes
    assert ALONE_CANARY not in evacuated["output"] + evacuated["verify"].stdout
    assert CANARY not in evacuated["output"] + evacuated["verify"].stdout


def test_the_moved_data_root_moves_its_volumes_not_its_layers(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """Docker's data-root is /srv/docker, inside a data tree: the snapshot carried the
    volumes' data from there and left the engine's own storage (layers, containers, its
    databases) by the rule container-storage; the target's Docker runs from the same
    data-root (the carried daemon.json), its volumes there."""
    loaded = load_config(evacuated["config"])
    repo = open_repository(loaded, StateDir(loaded.state_dir))
    manifest = repo.load(repo.refs("shop")[-1])  # the one the run restored
    paths = {e.path for e in manifest.files}
    assert {"/etc/docker/daemon.json",
            "/srv/docker/volumes/shop_notes-data/_data/notes.txt"} <= paths
    assert not [p for p in paths if p.startswith("/srv/docker/")
                and not p.startswith("/srv/docker/volumes")]
    rules = {r.rule: r for r in manifest.rules}
    storage = rules["container-storage"]  # busybox roots, one per layer and container (vfs)
    assert not storage.carried and storage.entries > 1000
    assert rules["container-volumes"].carried and rules["container-volumes"].files >= 3
    assert run_on(lab, "lab-target", "docker info --format '{{.DockerRootDir}}'") == \
        "/srv/docker\n"
    assert run_on(lab, "lab-target", "docker volume inspect shop_notes-data "
                  "--format '{{.Mountpoint}}'") == "/srv/docker/volumes/shop_notes-data/_data\n"


def test_the_exited_container_outside_compose_is_created_not_started(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """shop-migrate (docker run, then exited; Docker's restart policy 'no'): see assert_created_not_started."""
    assert_created_not_started(lab, HOST, one_shot("docker", ".Config.Image"),
                               "localhost/shop/web:1 no migration [/bin/sh -c ")


def test_verify_passes_on_the_docker_target(evacuated: dict[str, Any]) -> None:
    report = evacuated["report"]
    assert report, evacuated["verify"].stderr[-3000:]
    failures = failed_checks(report)
    assert not failures, f"{len(failures)} checks failed:\n" + "\n".join(failures)
    assert evacuated["verify"].returncode == 0
    status = {c["id"]: c["status"] for c in report["checks"]}
    # the containers outside Compose, and the HTTP answers of the published ports (GET /,
    # asked of the running source and of the target alike)
    assert {name: status.get(name) for name in (
        "containers:container shop-cache", "containers:container shop-migrate",
        "containers:shop/web http :8081", "containers:container shop-cache http :8082")} == {
        "containers:container shop-cache": "pass", "containers:container shop-migrate": "pass",
        "containers:shop/web http :8081": "pass",
        "containers:container shop-cache http :8082": "pass"}
    assert not [c for c in report["checks"]
                if c["area"] == "containers" and c["status"] == "unverified"]


def test_the_docker_target_runs_the_same_containers_after_its_reboot(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """docker.service, enabled on the target as on the source, brings the restart=always
    containers back at boot: the project and the container outside Compose run again, from
    the same images, and the published ports answer the same (``verify --after-reboot``
    reboots the target and verifies it again)."""
    rebooted = evacuate(evacuated["config"], "verify", "shop", "target", "--after-reboot",
                         "--json")
    assert rebooted.returncode == 0, (rebooted.stderr + rebooted.stdout)[-3000:]
    report = json.loads(rebooted.stdout)
    assert not failed_checks(report)
    rebooted_at = report["after_reboot"]
    assert rebooted_at["boot_id_before"] != rebooted_at["boot_id_after"]
    assert rebooted_at["lost_on_reboot"] == [] and rebooted_at["after_ok"]
    assert run_on(lab, "lab-target", RUNNING) == evacuated["before"]["running"]
    assert run_on(lab, "lab-target", "docker ps --filter status=running --format "
                  "'{{.Names}}' | sort").split() == ["shop-cache", "shop_web_1", "shop_worker_1"]
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.body == evacuated["before"]["notes"]


DOCKER_TMP = "/srv/docker/tmp"  # the seed moved the data-root (daemon.json)


def test_the_docker_source_is_unchanged(lab: Lab, evacuated: dict[str, Any],
                                        before: dict[bytes, Entry]) -> None:
    """Everything as it was, but for one thing evacuate cannot avoid with Docker: ``docker
    save`` runs in the daemon, which makes its export directory in its own TMPDIR
    (/srv/docker/tmp: the lab's data-root) and removes it, so that directory's mtime and ctime move (nothing
    in it is left; Podman's client saves in /dev/shm instead)."""
    with lab.open(HOST) as transport:
        after = file_system_state(transport)
    found = changes(before, after)
    assert [c for c in found if not c.startswith(f"changed {DOCKER_TMP}: ")] == []
    for change in found:
        assert [part.split()[0] for part in change.split(": ", 1)[1].split(", ")] == [
            "mtime", "ctime"], change
    assert not [p for p in after if p.startswith(f"{DOCKER_TMP}/".encode())]


LAST_NOTE = "a note written after the first run"
SOURCE_RUNNING = "docker ps --filter status=running --format '{{.Names}}' | sort"


def test_the_cutover_stops_the_containers_and_moves_the_last_note(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """After the source-unchanged check: a note written through the app on the source after
    the first run is on the target after ``run --cutover``, which stopped the source's
    running containers (by name, Docker's daemon left running) before the final copy; the
    volumes are equal on both sides; ``revert`` starts the containers again on the source."""
    run_on(lab, HOST, f"busybox wget -q -O /dev/null --post-data '{LAST_NOTE}' "
                   "http://127.0.0.1:8081/cgi-bin/notes")
    # the worker summarises it within its 5 s (the transport's timeout is the deadline): the
    # volumes compare at rest on the source, and the target's worker writes the same line
    run_on(lab, HOST, "until grep -qx 'notes: 4' \"$(docker volume inspect shop_worker-state "
                   "--format '{{.Mountpoint}}')/summary.txt\"; do sleep 0.2; done")
    cut = evacuate(evacuated["config"], "run", "--cutover")
    assert cut.returncode == 0, (cut.stderr + cut.stdout)[-4000:]
    assert "stopping the source's containers: shop-cache, shop_web_1, shop_worker_1" in (
        cut.stdout + cut.stderr)
    assert run_on(lab, HOST, SOURCE_RUNNING) == ""
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"4 notes" in answer.body and LAST_NOTE.encode() in answer.body
    assert run_on(lab, "lab-target", VOLUME_SUMS) == run_on(lab, HOST, VOLUME_SUMS)
    assert run_on(lab, "lab-target", RUNNING) == evacuated["before"]["running"]

    back = evacuate(evacuated["config"], "revert")
    assert back.returncode == 0, (back.stderr + back.stdout)[-4000:]
    assert "container shop_web_1" in back.stdout + back.stderr
    assert run_on(lab, HOST, SOURCE_RUNNING).split() == ["shop-cache", "shop_web_1",
                                                      "shop_worker_1"]
    assert run_on(lab, HOST, RUNNING) == evacuated["before"]["running"]
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"4 notes" in answer.body and LAST_NOTE.encode() in answer.body
