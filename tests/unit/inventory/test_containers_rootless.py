"""Rootless Podman: the containers snippet reads each account's own containers/storage as
files (never running podman as that user), the parser makes one RootlessPodman per account,
the plan warns that its containers are not rebuilt, verify counts each as not verified, and
the SQLite files inside that storage are not taken for the host's databases.

The snippet runs against a home laid out as containers/storage lays it out (its
containers.json and images.json in the shape Podman 4.3 writes them), with a fake
``getent``, ``pgrep`` and ``podman`` on PATH."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from evacuate.engines.in_containers import without_engine_files
from evacuate.inventory.facts.containers import FACT, parse
from evacuate.inventory.model import Database, DatabaseServer, HostInventory
from evacuate.inventory.script import build_script, split_sections
from evacuate.plan.containers import plan_containers
from evacuate.verify.coverage import assess, seen_items
from evacuate.verify.model import Status
from tests.unit.verify.builders import manifest

WEB, ONCE, IMAGE = "a1" * 32, "b2" * 32, "c3" * 32


def _storage(root: Path) -> None:
    """A rootless vfs storage: a running container ``web`` with a volume, an exited ``once``."""
    meta = json.dumps({"image-name": "localhost/lab/busybox:1.35", "image-id": IMAGE,
                       "name": "web", "created-at": 1796000000})
    (root / "vfs-containers").mkdir(parents=True)
    (root / "vfs-containers" / "containers.json").write_text(json.dumps([
        {"id": WEB, "names": ["web"], "image": IMAGE, "layer": "d4" * 32, "metadata": meta,
         "created": "2026-12-06T10:00:00Z", "flags": {"MountLabel": "", "ProcessLabel": ""}},
        {"id": ONCE, "names": ["once"], "image": IMAGE, "layer": "e5" * 32,
         "metadata": json.dumps({"image-name": "", "name": "once"}),
         "created": "2026-12-06T10:01:00Z"}]))
    (root / "vfs-images").mkdir()
    (root / "vfs-images" / "images.json").write_text(json.dumps([
        {"id": IMAGE, "digest": "sha256:" + "f6" * 32, "names": ["localhost/lab/busybox:1.35"],
         "layer": "07" * 32, "metadata": "{}", "big-data-names": ["manifest"],
         "created": "2026-11-01T00:00:00Z"}]))
    data = root / "volumes" / "notes" / "_data"
    data.mkdir(parents=True)
    (data / "notes.txt").write_text("x" * 5000)


def _fakes(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two accounts with rootless storage (alice at the default place, bob where his
    storage.conf says), one without; a fake getent, pgrep and podman on PATH."""
    alice, bob, carol = (tmp_path / "home" / n for n in ("alice", "bob", "carol"))
    _storage(alice / ".local/share/containers/storage")
    _storage(tmp_path / "data" / "bob-storage")
    (bob / ".config/containers").mkdir(parents=True)
    (bob / ".config/containers/storage.conf").write_text(
        '[storage]\ndriver = "vfs"\n  graphroot = "%s"\n' % (tmp_path / "data" / "bob-storage"))
    carol.mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "getent": f"""printf '%s\\n' 'root:x:0:0:root:/root:/bin/sh' \
'alice:x:4242:4242::{alice}:/bin/sh' 'bob:x:4243:4243::{bob}:/bin/sh' \
'carol:x:4244:4244::{carol}:/bin/sh' 'nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin'""",
        "pgrep": f"""[ "$*" = "-a -x -u 4242 conmon" ] && \
echo '812 /usr/bin/conmon --api-version 1 -c {WEB} -u {WEB} -r /usr/bin/crun -b x'
exit 0""",
        "podman": """case "$*" in version*) echo 4.3.1 ;; esac""",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir, alice, tmp_path / "data" / "bob-storage"


def _inventory_text(tmp_path: Path) -> str:
    bin_dir, _, _ = _fakes(tmp_path)
    script = build_script([FACT]).replace(
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"PATH={bin_dir}:/usr/bin:/bin")
    out = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True,
                         check=True, env={"PATH": os.environ["PATH"]}).stdout
    return split_sections(out)["containers"].text


def test_each_accounts_rootless_storage_is_read_where_containers_storage_keeps_it(
        tmp_path: Path) -> None:
    text = _inventory_text(tmp_path)
    found = parse(text)
    assert found.engine == "podman" and found.containers == ()
    alice, bob = found.rootless
    assert (alice.user, alice.uid, bob.user, bob.uid) == ("alice", 4242, "bob", 4243)
    assert alice.storage_root == f"{tmp_path}/home/alice/.local/share/containers/storage"
    assert bob.storage_root == f"{tmp_path}/data/bob-storage"  # as his storage.conf says
    assert [(c.name, c.image, c.image_id, c.running) for c in alice.containers] == [
        ("once", "localhost/lab/busybox:1.35", IMAGE, False),
        ("web", "localhost/lab/busybox:1.35", IMAGE, True)]  # conmon of uid 4242 runs web
    assert [c.running for c in bob.containers] == [False, False]
    (image,) = alice.images
    assert image.tags == ("localhost/lab/busybox:1.35",) and image.id == IMAGE
    (volume,) = alice.volumes
    assert volume.name == "notes" and volume.mountpoint == f"{alice.storage_root}/volumes/notes/_data"
    assert volume.size_bytes is not None and volume.size_bytes >= 4096
    # the storage stays outside the engine's own (it moves as files of the home)
    assert found.storage_dirs() == () and found.volume_dirs() == ()


def test_no_rootless_part_without_a_storage_and_an_older_capture_parses() -> None:
    assert parse("@@-- engine podman@@\n4.3.1\n@@-- containers@@\n").rootless == ()
    broken = ("@@-- engine podman@@\n4.3.1\n@@-- rootless alice x /home/alice/s@@\n"
              "@@-- rootless bob 1001 /s@@\n@@-- rootless_containers bob@@\nnot json\n")
    (bob,) = parse(broken).rootless
    assert (bob.user, bob.uid, bob.containers) == ("bob", 1001, ())


def test_the_plan_warns_that_rootless_containers_are_not_rebuilt(tmp_path: Path) -> None:
    found = parse(_inventory_text(tmp_path))
    _, warnings = plan_containers(found)
    rootless = [w for w in warnings if w.code == "container-rootless"]
    assert len(rootless) == 2
    assert "user alice runs rootless Podman (2 containers, 1 running: web; 1 images, " \
           "1 volumes" in rootless[0].message
    assert "does not recreate, start or verify" in rootless[0].message


def test_verify_counts_each_rootless_container_as_not_verified(tmp_path: Path) -> None:
    found = parse(_inventory_text(tmp_path))
    source = HostInventory(host="h", collected_at="now", containers=found)
    items = [i for i in seen_items(source, manifest(source)) if i.area == "containers"]
    assert [i.name for i in items] == ["rootless alice/once", "rootless alice/web",
                                       "rootless bob/once", "rootless bob/web"]
    coverage, missing = assess(items, [])
    assert (coverage.seen, coverage.checked) == (4, 0)
    assert {c.status for c in missing} == {Status.UNVERIFIED}


def test_sqlite_files_inside_a_rootless_storage_are_not_the_hosts_databases(
        tmp_path: Path) -> None:
    found = parse(_inventory_text(tmp_path))
    root = found.rootless[0].storage_root
    files = (f"{root}/db.sql", f"{root}/vfs/dir/07/var/lib/app.db",
             f"{root}/volumes/notes/_data/notes.db", "/srv/app/app.db")
    sqlite = DatabaseServer("sqlite", "sqlite3 3.40.1", databases=tuple(Database(f) for f in files))
    inventory = HostInventory(host="h", collected_at="now", containers=found, databases=(sqlite,))
    (kept,) = without_engine_files(inventory).databases
    assert [d.name for d in kept.databases] == list(files[2:])
