"""A container host: lab-containers runs rootful Podman with the Compose project ``shop`` (a
web app on :8081 keeping notes in a named volume, a worker summarising them into a second
volume, a PostgreSQL 15 database whose data directory is the volume shop_db-data), a
container outside Compose (shop-cache, podman run -d --restart=always), images
built locally, a one-shot container that exited. The inventory sees exactly that, masks the
tokens, leaves the host as it was, and the plan lists every container, image and volume with
its size and origin; the evacuation recreates all of it on the target (the database dumped
inside its container and loaded into the target's), and a cutover moves the last note with
the source's containers stopped (and the last order through the database's final dump)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.config import load_config
from evacuate.engines.container_cli import container_cli
from evacuate.inventory import HostInventory, to_json
from evacuate.lab.lab import CONTAINER_PROJECT, Lab, containers_lab
from evacuate.plan.containers import plan_containers
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.verify.webclient import fetch
from tests.lab.conftest import running_lab
from tests.lab.container_hosts import (
    DB,
    DB_VOLUME,
    assert_created_not_started,
    evacuate,
    failed_checks,
    inventory_of,
    one_shot,
    podman_shop_aside,
    run_on,
    state_of,
    volume_sums,
    write_config,
)
from tests.lab.source_state import Entry, changes

# a lab of its own; a developer running beside others may pick another id and index
LAB_ID = os.environ.get("EVACUATE_TEST_CONTAINERS_LAB_ID", "hc")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_CONTAINERS_LAB_INDEX", "21"))
HOST = "lab-containers"
CANARY = "canary-compose-token-7f3a"
ALONE_CANARY = "canary-standalone-token-91c2"  # shop-cache's, a container outside Compose

# in the container as evacuate enters it (nsenter): `podman exec` would record its session in
# the source's engine state, and the source-unchanged test would see the test's own writes
IN_DB = container_cli("podman").exec(DB, "postgres")
DB_ROWS = (f"{IN_DB} psql -XAt -d shop -c \"select 'customers', count(*) "
           "from customers union all select 'orders', count(*) from orders union all "
           "select 'stock', sum(count) from stock; select string_agg(item || ':' || amount, ',' "
           "order by id) from orders\"")

pytestmark = pytest.mark.slow


def _set_aside(lab: Lab) -> dict[str, str]:
    return podman_shop_aside(lab, HOST)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("containers-lab"),
                     containers_lab(LAB_ID, LAB_INDEX)) as it:
        yield it


def _run(lab: Lab, command: str) -> str:
    return run_on(lab, HOST, command)


@pytest.fixture(scope="module")
def before(lab: Lab) -> dict[bytes, Entry]:
    return state_of(lab, HOST, _set_aside(lab))


@pytest.fixture(scope="module")
def inventory(lab: Lab, before: dict[bytes, Entry],
              tmp_path_factory: pytest.TempPathFactory) -> HostInventory:
    return inventory_of(lab, HOST, tmp_path_factory.mktemp("inv-state"))


def test_the_shop_answers_from_its_containers(lab: Lab) -> None:
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"Shop notes\n3 notes\norder more paper bags\n" in answer.body
    summary = _run(lab, "cat \"$(podman volume inspect shop_worker-state "
                        "--format '{{.Mountpoint}}')/summary.txt\"")
    assert summary == "notes: 3\n"
    assert _run(lab, DB_ROWS) == ("customers|3\norders|5\nstock|5740\n"
                                  "paper bags:12.50,flyers:80.00,paper bags:6.25,labels:9.99,"
                                  "tape:3.10\n")


def test_the_inventory_sees_exactly_the_engine_containers_images_and_volumes(
        inventory: HostInventory, lab: Lab) -> None:
    assert inventory.errors == {}
    found = inventory.containers
    assert found.engine == "podman" and found.version.startswith("4.3.")
    assert found.package == "podman"  # dpkg-query -S of the CLI
    by_name = {c.name: c for c in found.containers}
    assert set(by_name) == {"shop_web_1", "shop_worker_1", "shop_db_1", "shop-migrate",
                            "shop-cache"}
    alone = by_name["shop-cache"]
    assert (alone.state, alone.restart_policy, alone.network_mode, alone.compose_project) == (
        "running", "always", "host", "")
    assert {"CACHE_TITLE=Shop cache", "CACHE_TOKEN=<masked>"} <= set(alone.env)
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
                           "localhost/shop/worker:1", "localhost/lab/postgres:15"}
    assert all(i.local and i.size_bytes > 1_000_000 for i in found.images)
    assert web.image_id == oneshot.image_id == images["localhost/shop/web:1"].id
    assert worker.image_id == images["localhost/shop/worker:1"].id

    volumes = {v.name: v for v in found.named_volumes}
    assert set(volumes) == {"shop_notes-data", "shop_worker-state", "shop-cache-data",
                            "shop_db-data"}
    du = _run(lab, "du -sk /var/lib/containers/storage/volumes/shop_notes-data/_data").split()[0]
    assert volumes["shop_notes-data"].size_bytes == int(du) * 1024
    assert volumes["shop_notes-data"].compose_project == CONTAINER_PROJECT

    (project,) = found.compose_projects
    assert (project.name, project.working_dir, project.services) == (
        CONTAINER_PROJECT, "/srv/shop", ("db", "web", "worker"))
    assert project.config_files == ("/srv/shop/compose.yaml",)
    assert project.env_files == ("/srv/shop/.env",)
    assert (web.compose_service, worker.compose_service, oneshot.compose_project) == (
        "web", "worker", "")
    # the database container, found by what it runs (postgres on a named volume), listed
    # by itself only when a snapshot dumps it (exec would write the engine's state)
    assert by_name[DB].command[1:2] == ("postgres",)
    assert [(s.engine, s.container, s.container_engine, s.data_dir, s.databases)
            for s in inventory.databases] == [("postgresql", DB, "podman", DB_VOLUME, ())]


def test_the_projects_token_never_reaches_the_inventory(inventory: HostInventory, lab: Lab) -> None:
    assert CANARY in _run(lab, "cat /srv/shop/.env; podman inspect shop_web_1")  # it is there
    assert ALONE_CANARY in _run(lab, "podman inspect shop-cache")
    assert CANARY not in json.dumps(to_json(inventory))
    assert ALONE_CANARY not in json.dumps(to_json(inventory))


def test_the_plan_lists_every_container_image_and_volume(inventory: HostInventory) -> None:
    planned, warnings = plan_containers(inventory.containers, inventory.databases)
    assert [(w.code, w.message.split(" holds ")[0].split(" is ")[0]) for w in warnings] == [
        ("container-volume-live", "volume shop-cache-data"),
        ("container-volume-live", "volume shop_notes-data"),
        ("container-volume-live", "volume shop_worker-state"),
        ("container-engine-data", "volume shop_db-data"),
        ("container-not-compose", "container shop-cache"),
        ("container-not-compose", "container shop-migrate")]
    assert "it is recreated on the target" in warnings[-1].message
    assert warnings[-1].message.endswith("exited on the source: created on the target, not started")
    assert {c.name for c in planned.containers} == {"shop_web_1", "shop_worker_1", "shop_db_1",
                                                    "shop-migrate", "shop-cache"}
    assert {i.origin for i in planned.images} == {"store"} and len(planned.images) == 4
    assert all(v.size_bytes for v in planned.volumes) and len(planned.volumes) == 4


def test_the_inventory_changed_nothing_on_the_host(inventory: HostInventory, lab: Lab,
                                                   before: dict[bytes, Entry]) -> None:
    assert changes(before, state_of(lab, HOST, _set_aside(lab))) == []


VOLUME_SUMS = volume_sums("podman")
PROJECT_FILES = "sha256sum /srv/shop/compose.yaml /srv/shop/.env"
RUNNING = ("podman ps --filter status=running --format "
           "'{{index .Labels \"com.docker.compose.project\"}}/"
           "{{index .Labels \"com.docker.compose.service\"}} {{.Image}}' | sort")


@pytest.fixture(scope="module")
def evacuated(lab: Lab, inventory: HostInventory,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """lab-containers evacuated onto the blank lab-target with the CLI (snapshot, plan, run,
    verify), then snapshotted once more (its images are not saved again)."""
    config = write_config(lab, HOST, tmp_path_factory.mktemp("containers-run"))
    before = {"notes": fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST,
                             tls=False).body,
              "volumes": _run(lab, VOLUME_SUMS), "files": _run(lab, PROJECT_FILES),
              "running": _run(lab, RUNNING), "rows": _run(lab, DB_ROWS)}
    output = []
    for step in (("snapshot", "shop"), ("plan", "shop", "--to", "target", "--json"), ("run",)):
        done = evacuate(config, *step)
        output.append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{step}: {(done.stderr + done.stdout)[-4000:]}"
    verified = evacuate(config, "verify", "shop", "target", "--json")
    again = evacuate(config, "snapshot", "shop")
    assert again.returncode == 0, again.stderr[-3000:]
    return {"config": config, "before": before, "output": "\n".join(output),
            "plan": json.loads(output[1][:output[1].rindex("}") + 1]),
            "verify": verified,
            "report": json.loads(verified.stdout) if verified.stdout.strip() else {}}


def _manifests(config: Path) -> list[Any]:
    loaded = load_config(config)
    repo = open_repository(loaded, StateDir(loaded.state_dir))
    return [repo.load(ref) for ref in repo.refs("shop")]  # oldest first


def test_the_snapshot_saves_each_local_image_once(evacuated: dict[str, Any]) -> None:
    manifests = _manifests(evacuated["config"])
    first, second = manifests[0], manifests[-1]
    assert len(manifests) >= 2
    assert sorted(t for i in first.images for t in i.tags) == [
        "localhost/lab/busybox:1.35", "localhost/lab/postgres:15", "localhost/shop/web:1",
        "localhost/shop/worker:1"]
    assert len({i.id for i in first.images}) == 4 and all(not i.saved_in for i in first.images)
    # the next snapshot refers to the same blobs by image id: nothing is saved again
    assert {i.id: i.blob for i in second.images} == {i.id: i.blob for i in first.images}
    assert {i.saved_in for i in second.images} == {first.id}
    paths = {e.path for e in first.files}
    assert {"/srv/shop/compose.yaml", "/srv/shop/.env", "/usr/local/bin/podman-compose",
            "/etc/containers/storage.conf",
            "/var/lib/containers/storage/volumes/shop_notes-data/_data/notes.txt"} <= paths
    assert not [p for p in paths if p.startswith("/var/lib/containers/storage/")
                and not p.startswith("/var/lib/containers/storage/volumes")]
    rules = {r.rule: r for r in first.rules}
    storage = rules["container-storage"]  # the busybox roots: mostly links
    assert not storage.carried and storage.entries > 1000 and storage.bytes > 5_000_000
    assert rules["container-volumes"].carried and rules["container-volumes"].files >= 4
    # the database's volume moves by its dumps, taken inside its container
    engine_data = rules["container-engine-data"]
    assert not engine_data.carried and engine_data.files > 500
    assert not [p for p in paths if p.startswith(DB_VOLUME)]
    assert sorted((d.engine, d.database) for d in first.dumps) == [
        ("postgresql@podman:shop_db_1", "*globals*"), ("postgresql@podman:shop_db_1", "postgres"),
        ("postgresql@podman:shop_db_1", "shop")]
    shop = next(d for d in first.dumps if d.database == "shop")
    assert shop.tables == {"public.customers": 3, "public.orders": 5, "public.stock": 40}
    assert shop.marker and {f"content {t}" for t in shop.tables} <= set(shop.objects)


def test_the_plan_says_where_each_image_comes_from(evacuated: dict[str, Any]) -> None:
    plan = evacuated["plan"]
    containers = plan.get("containers") or plan.get("plan", {}).get("containers")
    assert containers, sorted(plan)
    assert {i["origin"] for i in containers["images"]} == {"store"}
    assert [s["id"] for s in (plan.get("steps") or plan["plan"]["steps"])][-2:] == [
        "containers", "verify"]
    assert CANARY not in evacuated["output"]


def test_the_same_containers_run_on_the_target(lab: Lab, evacuated: dict[str, Any]) -> None:
    with lab.open("lab-target") as transport:
        running = transport.run(RUNNING, timeout=60, check=True).text
    assert running == evacuated["before"]["running"]
    assert running == ("/ localhost/lab/busybox:1.35\nshop/db localhost/lab/postgres:15\n"
                       "shop/web localhost/shop/web:1\nshop/worker localhost/shop/worker:1\n")


def test_the_database_is_loaded_into_the_targets_container(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """The rows (and the owner) in the target's container are the source's; verify compared
    each table's count and content fingerprint between the two containers."""
    with lab.open("lab-target") as transport:
        rows = transport.run(DB_ROWS, timeout=60, check=True).text
        owner = transport.run(f"podman exec -u postgres {DB} psql -XAt -d postgres -c "
                              "\"select pg_get_userbyid(datdba) from pg_database where "
                              "datname = 'shop'\"", timeout=60, check=True).text
    assert rows == evacuated["before"]["rows"] and "orders|5" in rows
    assert owner == "shop\n"
    assert "postgresql@podman:shop_db_1:shop: restored" in evacuated["output"]
    checks = {c["name"]: c for c in evacuated["report"]["checks"]}
    for table, rows_ in (("customers", 3), ("orders", 5), ("stock", 40)):
        check = checks[f"podman:shop_db_1/shop: public.{table}"]
        assert (check["status"], check["found"], check["detail"]) == (
            "pass", f"{rows_} rows", "same content"), check


ALONE = ("podman inspect shop-cache --format '{{.ImageName}} {{.HostConfig.RestartPolicy.Name}} "
         "{{.HostConfig.NetworkMode}} {{.Config.Cmd}} {{range .Mounts}}{{.Name}}:{{.Destination}}"
         ":{{.RW}}{{end}}'")


def test_the_container_outside_compose_is_recreated_on_the_target(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """shop-cache (podman run -d, restart=always, host network) runs on the target as it was
    created on the source, with its token's real value, which is in no output, plan or log:
    only in the encrypted store."""
    source = _run(lab, ALONE)
    assert source.split()[:3] == ["localhost/lab/busybox:1.35", "always", "host"]
    with lab.open("lab-target") as transport:
        assert transport.run(ALONE, timeout=60, check=True).text == source
        token = transport.run("podman exec shop-cache sh -c 'echo \"$CACHE_TOKEN\"'", timeout=60,
                              check=True).text
    assert token == f"{ALONE_CANARY}\n"
    answer = fetch(lab.address("lab-target"), 8082, path="/", host=HOST, tls=False)
    assert answer.status == 200 and answer.body == b"Shop cache\n", answer.error
    assert ALONE_CANARY not in evacuated["output"] + evacuated["verify"].stdout
    state = evacuated["config"].parent / "state"
    found = subprocess.run(["grep", "-rl", ALONE_CANARY, str(state)], capture_output=True,
                           text=True, check=False)
    assert found.stdout == "" and found.returncode == 1, found.stdout


def test_the_exited_container_outside_compose_is_created_not_started(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """shop-migrate (podman run, then exited; Podman's empty restart policy): see assert_created_not_started."""
    assert_created_not_started(lab, HOST, one_shot("podman", ".ImageName"),
                               "localhost/shop/web:1  migration [/bin/sh -c ")


def test_the_published_port_answers_the_same(lab: Lab, evacuated: dict[str, Any]) -> None:
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert answer.body == evacuated["before"]["notes"]


def test_volume_contents_and_project_files_are_equal(lab: Lab, evacuated: dict[str, Any]) -> None:
    with lab.open("lab-target") as transport:
        volumes = transport.run(VOLUME_SUMS, timeout=60, check=True).text
        files = transport.run(PROJECT_FILES, timeout=60, check=True).text
    assert volumes == evacuated["before"]["volumes"]
    assert "attachments/terms.txt" in volumes
    assert files == evacuated["before"]["files"]


def test_verify_passes(evacuated: dict[str, Any]) -> None:
    report = evacuated["report"]
    assert report, evacuated["verify"].stderr[-3000:]
    failures = failed_checks(report)
    assert not failures, f"{len(failures)} checks failed:\n" + "\n".join(failures)
    status = {c["id"]: c["status"] for c in report["checks"]}
    assert {name: status.get(name) for name in (  # the containers outside Compose
        "containers:container shop-cache", "containers:container shop-migrate")} == {
        "containers:container shop-cache": "pass", "containers:container shop-migrate": "pass"}
    assert not [c for c in report["checks"]
                if c["area"] == "containers" and c["status"] == "unverified"]


def test_the_target_runs_the_project_again_after_its_reboot(lab: Lab,
                                                           evacuated: dict[str, Any]) -> None:
    """podman-restart, enabled on the target as on the source, starts the project at boot."""
    rebooted = evacuate(evacuated["config"], "verify", "shop", "target", "--after-reboot",
                         "--json")
    assert rebooted.returncode == 0, (rebooted.stderr + rebooted.stdout)[-3000:]
    with lab.open("lab-target") as transport:
        running = transport.run(RUNNING, timeout=60, check=True).text
    assert running == evacuated["before"]["running"]
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.body == evacuated["before"]["notes"]


def test_snapshot_plan_and_run_changed_nothing_on_the_source(
        lab: Lab, evacuated: dict[str, Any], before: dict[bytes, Entry]) -> None:
    """The images were saved with their temporary copies in memory (/dev/shm). The dumps
    ran inside the database container through nsenter, not ``podman exec`` (which records
    each session in the engine's state database and the container's userdata)."""
    assert changes(before, state_of(lab, HOST, _set_aside(lab))) == []


LAST_NOTE = "a note written after the first run"
NOTES_SUMS = ("cd \"$(podman volume inspect shop_notes-data --format '{{.Mountpoint}}')\" && "
              "find . -printf '%p %y %m %u:%g\\n' | sort && "
              "find . -type f -print0 | sort -z | xargs -0 sha256sum")
SHOP_RUNNING = "podman ps --filter status=running --format '{{.Names}}' | grep '^shop' | sort"


def test_the_cutover_stops_the_containers_and_moves_the_last_note(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """After the source-unchanged check: a note written through the app on the source after
    the first run is on the target after ``run --cutover``, which stopped the source's
    containers before the final copy (the notes volume equal on both, the source's at rest);
    an order written into the database after the first run is on the target too: the
    database container stayed up on both sides for its final dump and its reload;
    ``revert`` starts them again on the source."""
    _run(lab, "busybox wget -q -O /dev/null --post-data "
              f"'{LAST_NOTE}' http://127.0.0.1:8081/cgi-bin/notes")
    _run(lab, f"{IN_DB} psql -X -q -v ON_ERROR_STOP=1 -d shop -c "
              "\"insert into orders (customer, item, amount) values (2, 'last order', 1.25)\"")
    cut = evacuate(evacuated["config"], "run", "--cutover")
    assert cut.returncode == 0, (cut.stderr + cut.stdout)[-4000:]
    assert "stopping the source's containers: shop-cache, shop_web_1, shop_worker_1" in (
        cut.stdout + cut.stderr)
    assert _run(lab, "podman ps --filter status=running --format '{{.Names}}'").strip() == DB
    with lab.open("lab-target") as transport:
        target_rows = transport.run(DB_ROWS, timeout=60, check=True).text
    assert "orders|6" in target_rows and "last order:1.25" in target_rows
    assert target_rows == _run(lab, DB_ROWS)
    answer = fetch(lab.address("lab-target"), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200, answer.error
    assert b"4 notes" in answer.body and LAST_NOTE.encode() in answer.body
    with lab.open("lab-target") as transport:
        target_notes = transport.run(NOTES_SUMS, timeout=60, check=True).text
        running = transport.run(RUNNING, timeout=60, check=True).text
    assert target_notes == _run(lab, NOTES_SUMS)
    assert running == evacuated["before"]["running"]

    back = evacuate(evacuated["config"], "revert")
    assert back.returncode == 0, (back.stderr + back.stdout)[-4000:]
    assert "container shop_web_1" in back.stdout + back.stderr
    assert _run(lab, SHOP_RUNNING).split() == ["shop-cache", "shop_db_1", "shop_web_1",
                                               "shop_worker_1"]
    assert _run(lab, RUNNING) == evacuated["before"]["running"]
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert b"4 notes" in answer.body and LAST_NOTE.encode() in answer.body


@contextlib.contextmanager
def ssh_agent(key: Path) -> Iterator[str]:
    """An ssh-agent holding ``key``: the evacuate.migrate modules reach the target with the
    job's agent; yield its socket."""
    started = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True)
    env = dict(line.split(";", 1)[0].split("=", 1) for line in started.stdout.splitlines()
               if line.startswith(("SSH_AUTH_SOCK=", "SSH_AGENT_PID=")))
    try:
        subprocess.run(["ssh-add", "-q", str(key)], env={**os.environ, **env}, check=True,
                       capture_output=True)
        yield env["SSH_AUTH_SOCK"]
    finally:
        subprocess.run(["ssh-agent", "-k"], env={**os.environ, **env}, capture_output=True,
                       check=False)


def test_the_projects_data_playbook_brings_the_containers_up_again(
        lab: Lab, evacuated: dict[str, Any]) -> None:
    """The rendered project's data.yml with the ``containers`` tag, run by plain
    ansible-playbook (the evacuate.migrate collection's restore_containers module, from the
    local store; the job's ssh-agent holds the key): on a target whose containers, images and
    database volume are gone, the saved images load again, the project comes up, shop-cache is
    recreated and the first snapshot's rows are loaded into the new database container."""
    with lab.open("lab-target") as transport:
        transport.run("podman rm -af -t 0 >/dev/null && podman volume rm -f shop_db-data "
                      ">/dev/null && podman rmi -af >/dev/null", timeout=300, check=True)
        assert transport.run("podman ps -aq; podman images -q", timeout=60,
                             check=True).text == ""
    state = evacuated["config"].parent / "state"
    bindir = Path(sys.executable).parent
    first = _manifests(evacuated["config"])[0]
    with ssh_agent(lab.key) as agent:
        played = subprocess.run(
            [str(bindir / "ansible-playbook"), "data.yml", "--tags", "containers",
             "--vault-password-file", str(state / "keys" / "vault-pass"),
             "-e", f"evacuate_store_url={state / 'store'}", "-e", f"evacuate_snapshot_id={first.id}",
             "-e", f"evacuate_known_hosts={lab.known_hosts}"],
            cwd=state / "plans" / "shop-to-target" / "project", capture_output=True, text=True,
            timeout=1200, check=False,
            env=dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", SSH_AUTH_SOCK=agent,
                     ANSIBLE_NOCOLOR="1",
                     EVACUATE_STORE_KEY=(state / "keys" / "store.key").read_text().strip()))
    assert played.returncode == 0, (played.stdout + played.stderr)[-4000:]
    assert "TASK [Bring up the containers of the snapshot]" in played.stdout
    assert "Restore the files" not in played.stdout and CANARY not in played.stdout
    with lab.open("lab-target") as transport:
        running = transport.run(RUNNING, timeout=60, check=True).text
        rows = transport.run(DB_ROWS, timeout=60, check=True).text
        token = transport.run("podman exec shop-cache sh -c 'echo \"$CACHE_TOKEN\"'",
                              timeout=60, check=True).text
    assert running == evacuated["before"]["running"]
    assert rows == evacuated["before"]["rows"] and "orders|5" in rows
    assert token == f"{ALONE_CANARY}\n"
    assert ALONE_CANARY not in played.stdout + played.stderr


def test_the_containers_come_back_after_a_reboot(lab: Lab, inventory: HostInventory,
                                                 tmp_path: Path) -> None:
    """Lived-in: the project starts at boot (podman-restart, restart: always)."""
    status = lab.reset(HOST)
    assert status.healthy, status
    running = _run(lab, "podman ps --format '{{.Names}}' | sort").split()
    assert running == ["shop-cache", "shop_db_1", "shop_web_1", "shop_worker_1"]
    answer = fetch(lab.address(HOST), 8081, path="/cgi-bin/notes", host=HOST, tls=False)
    assert answer.status == 200 and b"3 notes" in answer.body
