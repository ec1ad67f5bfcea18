"""A rescued disk: the doomed server's root filesystem, mounted read-only on the controller,
is inventoried with its own tools (chroot); what needs a running machine is marked so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab import images
from evacuate.lab.lab import Lab
from tests.lab.test_lab import openssh


@pytest.fixture
def rescued_disk(lab: Lab, tmp_path: Path) -> Iterator[Path]:
    rootfs = images.ensure_image(images.source_image()).rootfs
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "--bind", "-o", "ro", str(rootfs), str(mount)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_inventory_of_a_read_only_rescued_disk(rescued_disk: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "evacuate", "inventory", "--root",
                           str(rescued_disk), "doomed", "--json", "--state-dir",
                           str(tmp_path / "state")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert inv["os"]["id"] == "debian" and inv["os"]["timezone"] == "Europe/Berlin"
    assert {p["name"] for p in inv["packages"]} >= {"nginx", "postgresql", "mariadb-server"}
    users = {u["name"]: u for u in inv["users"]}
    assert len(users["alice"]["authorized_keys"]) == 2 and users["alice"]["has_password"]
    names = {n for v in inv["web"] for n in v["server_names"]}
    assert {"www.example.test", "shop.example.test"} <= names
    units = {s["name"]: s for s in inv["services"]}
    assert units["notes.service"]["enabled_state"] == "enabled"
    assert inv["listeners"] == [] and "listeners" in inv["errors"]
    assert "canary" not in proc.stdout and "$6$" not in proc.stdout


def test_restore_from_a_rescued_disk_onto_a_blank_target(
        lab: Lab, rescued_disk: Path, tmp_path: Path) -> None:
    """The machine was carried back to the office: its disk (lab-source's stopped root
    filesystem, mounted read-only) is restored onto a blank lab-target, databases included,
    and the target verifies against what the disk held."""
    config = tmp_path / "evacuate.yml"
    config.write_text(
        f"state_dir: {tmp_path / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n"
        f"store:\n  url: {tmp_path / 'store'}\n")
    lab.reset("lab-target")
    try:
        proc = subprocess.run([sys.executable, "-m", "evacuate", "restore", "doomed",
                               "--from-root", str(rescued_disk), "--to", "target", "-c",
                               str(config)], capture_output=True, text=True, timeout=900,
                              check=False, env=dict(os.environ, COLUMNS="250"))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "restored doomed (rescued disk" in proc.stdout and "verified" in proc.stdout
        print(proc.stdout.strip().splitlines()[-1])
        # The databases came from servers started on a copy of the disk, not from files.
        listing = subprocess.run([sys.executable, "-m", "evacuate", "snapshots", "doomed",
                                  "--json", "-c", str(config)], capture_output=True, text=True,
                                 timeout=120, check=True)
        assert json.loads(listing.stdout)[0]["totals"]["dumps"] >= 4
        # The plan says its source is a disk: a run reads only the snapshot, never cuts over.
        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "evacuate", "run", *args, "-c",
                                   str(config)], capture_output=True, text=True, timeout=300,
                                  check=False)
        refused = run("--cutover")
        assert refused.returncode == 2 and "rescued disk has no source" in refused.stderr
        dry = run("--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr[-2000:]
        snapshot_id = json.loads(listing.stdout)[0]["id"]
        assert json.loads(dry.stdout)["snapshot"] == f"snapshot {snapshot_id}"
        rows = openssh(lab, "lab-target", "mariadb -N -B -e 'select count(*) from blog.posts'; "
                       "runuser -u postgres -- psql -At -d shop -c 'select count(*) from orders'")
        assert rows.returncode == 0, rows.stderr
        assert [int(n) for n in rows.stdout.split()] == [1000, 5000]  # as seeded
        active = openssh(lab, "lab-target", "systemctl is-active nginx notes mariadb")
        assert active.stdout.split() == ["active"] * 3
        # Nothing was left mounted or running from the overlay the servers ran on.
        mounts = Path("/proc/mounts").read_text()
        assert "evacuate-rescue-" not in mounts
    finally:
        lab.reset("lab-target")
