"""Rootless Podman: on lab-containers, the account alice runs Podman of its own (seeded by
evacuate/lab/seed/containers/rootless.sh on the booted host: lingering, vfs storage in its
home, two images, a named volume with files owned by its container's root and www-data, a
running container serving it on :8090, one exited, one never started). The inventory reads
alice's storage as files, never as alice (no podman run as her: her storage and runtime
directory stay unchanged); the plan warns that her containers are not rebuilt; the
snapshot carries her storage as files of her home, the volume's owners as the numbers the
host gave them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.config import load_config
from evacuate.inventory import HostInventory
from evacuate.lab.lab import Lab, LabSpec, containers_lab
from evacuate.plan.containers import plan_containers
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.verify.webclient import fetch
from tests.lab.conftest import running_lab
from tests.lab.container_hosts import (
    evacuate,
    inventory_of,
    podman_shop_aside,
    run_on,
    state_of,
)
from tests.lab.source_state import Entry, changes

LAB_ID = os.environ.get("EVACUATE_TEST_ROOTLESS_LAB_ID", "erl")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_ROOTLESS_LAB_INDEX", "31"))
HOST = "lab-containers"
SEED = Path(__file__).resolve().parents[2] / "evacuate/lab/seed/containers/rootless.sh"
STORAGE = "/home/alice/.local/share/containers/storage"
AS_ALICE = "cd /tmp && runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1001 HOME=/home/alice "

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = containers_lab(LAB_ID, LAB_INDEX)
    spec = LabSpec(lab_id=LAB_ID, index=LAB_INDEX, suite=base.suite,
                   hosts=tuple(h for h in base.hosts if h.name == HOST))
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("rootless-lab"), spec) as it:
        with it.open(HOST) as transport:
            transport.put(SEED, "/root/rootless.sh", mode=0o755)
            seeded = transport.run(["sh", "/root/rootless.sh"], timeout=300)
            assert seeded.ok, seeded.error_text + seeded.text
        yield it


@pytest.fixture(scope="module")
def before(lab: Lab) -> dict[bytes, Entry]:
    return state_of(lab, HOST, podman_shop_aside(lab, HOST))


@pytest.fixture(scope="module")
def inventory(lab: Lab, before: dict[bytes, Entry],
              tmp_path_factory: pytest.TempPathFactory) -> HostInventory:
    return inventory_of(lab, HOST, tmp_path_factory.mktemp("inv-state"))


def test_alices_container_serves_its_volume(lab: Lab) -> None:
    answer = fetch(lab.address(HOST), 8090, path="/note.txt", host=HOST, tls=False)
    assert answer.status == 200 and answer.body == b"hello-rootless\n", answer.error
    assert run_on(lab, HOST, AS_ALICE + "podman info --format '{{.Host.Security.Rootless}}'") \
        == "true\n"


def test_the_inventory_sees_alices_rootless_podman(inventory: HostInventory) -> None:
    assert inventory.errors == {}
    found = inventory.containers
    (alice,) = found.rootless
    assert (alice.user, alice.uid, alice.storage_root) == ("alice", 1001, STORAGE)
    assert [(c.name, c.image, c.running) for c in alice.containers] == [
        ("fresh", "localhost/shop/web:1", False), ("once", "localhost/lab/busybox:1.35", False),
        ("web", "localhost/lab/busybox:1.35", True)]
    assert {t for i in alice.images for t in i.tags} == {"localhost/lab/busybox:1.35",
                                                         "localhost/shop/web:1"}
    (notes,) = alice.volumes
    assert notes.name == "notes" and notes.mountpoint == f"{STORAGE}/volumes/notes/_data"
    assert notes.size_bytes is not None and notes.size_bytes >= 512 * 1024
    # root's own engine is seen as before, without alice's containers
    assert {c.name for c in found.containers} >= {"shop_web_1", "shop_db_1"}
    assert not {c.name for c in found.containers} & {"web", "once", "fresh"}
    assert STORAGE not in found.storage_dirs()


def test_the_plan_warns_that_alices_containers_are_not_rebuilt(
        inventory: HostInventory) -> None:
    _, warnings = plan_containers(inventory.containers)
    (warning,) = [w for w in warnings if w.code == "container-rootless"]
    assert warning.message.startswith(
        "user alice runs rootless Podman (3 containers, 1 running: web; 2 images, 1 volumes")
    assert STORAGE in warning.message


def test_the_inventory_changed_nothing_on_the_host(lab: Lab, inventory: HostInventory,
                                                   before: dict[bytes, Entry]) -> None:
    """alice's storage, her runtime directory (/run/user/1001) and everything else."""
    assert changes(before, state_of(lab, HOST, podman_shop_aside(lab, HOST))) == []
    assert run_on(lab, HOST, "ls /run/user/1001/containers") != ""


def test_the_snapshot_carries_alices_storage_as_files_of_her_home(
        lab: Lab, inventory: HostInventory, tmp_path: Path) -> None:
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\n"
                      f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
                      f"hosts:\n  shop:\n    ssh: {lab.ssh_spec(HOST)}\n")
    done = evacuate(config, "snapshot", "shop")
    assert done.returncode == 0, (done.stderr + done.stdout)[-4000:]
    loaded = load_config(config)
    repo = open_repository(loaded, StateDir(loaded.state_dir))
    manifest = repo.load(repo.refs("shop")[-1])
    files = {e.path: e for e in manifest.files}
    data = f"{STORAGE}/volumes/notes/_data"
    assert {f"{data}/note.txt", f"{data}/blob", f"{STORAGE}/vfs-containers/containers.json",
            "/home/alice/.config/containers/storage.conf"} <= set(files)
    assert files[f"{data}/blob"].size == 512 * 1024
    # her container's root is alice (1001); its www-data (33) is 100032 on the host
    assert (files[f"{data}/note.txt"].user, files[f"{data}/sub/y"].user) == ("alice", "100032")
