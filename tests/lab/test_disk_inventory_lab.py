"""A rescued disk: the doomed server's root filesystem, mounted read-only on the controller,
is inventoried with its own tools (chroot); what needs a running machine is marked so."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab import images
from evacuate.lab.lab import Lab


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
