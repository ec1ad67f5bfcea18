"""A rescued disk's default label, one rule for inventory, snapshot and restore: the
hostname in its /etc/hostname, else the name of its mount point."""

from __future__ import annotations

from pathlib import Path

from evacuate.actions.snapshot import disk_label


def test_the_disks_own_hostname_names_it(tmp_path: Path) -> None:
    root = tmp_path / "mnt-rescued"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("doomed\n")
    assert disk_label(root) == "doomed"


def test_without_a_hostname_the_mount_point_names_it(tmp_path: Path) -> None:
    root = tmp_path / "mnt-rescued"
    (root / "etc").mkdir(parents=True)
    assert disk_label(root) == "mnt-rescued"
    (root / "etc" / "hostname").write_text("  \n")
    assert disk_label(root) == "mnt-rescued"
