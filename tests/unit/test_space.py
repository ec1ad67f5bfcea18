"""Disk space checks on the target, on the controller itself as a real host (LocalTransport)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.errors import RemoteCommandError
from evacuate.rebuild.space import (
    MARGIN,
    Mount,
    NotEnoughSpace,
    check_space,
    explain_no_space,
    mount_points,
    mounts_of,
    needed_by_root,
    parse_df,
    parse_mount_points,
)
from evacuate.snapshot.manifest import FileEntry
from evacuate.transport.local import LocalTransport

# captured on lab-target (Debian 12, systemd-nspawn) with a 20 MiB tmpfs on /srv:
# sh -c "$_DF_NEAREST" df-nearest /srv/data /etc /var/lib/postgresql /home /opt/notes /
# (/srv/data, /var/lib/postgresql and /opt/notes did not exist yet)
CAPTURED_DF = (
    "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
    "tmpfs                20480        0     20480       0% /srv\n"
    "overlay          264212084 29755676  76635236      28% /\n"
    "overlay          264212084 29755676  76635236      28% /\n"
    "overlay          264212084 29755676  76635236      28% /\n"
    "overlay          264212084 29755676  76635236      28% /\n"
    "overlay          264212084 29755676  76635236      28% /\n")


def test_parse_df_from_captured_output() -> None:
    mounts = parse_df(CAPTURED_DF)
    assert mounts[0] == Mount("/srv", 20480 * 1024)
    assert mounts[1:] == [Mount("/", 76635236 * 1024)] * 5
    assert parse_df("Filesystem     1024-blocks     Used Available Capacity Mounted on\n") == []
    spaced = "/dev/sdb1 1000 10 990 2% /mnt/my disk\n"
    assert parse_df(spaced) == [Mount("/mnt/my disk", 990 * 1024)]


def test_mounts_of_paths_that_do_not_exist_yet_are_their_parents(tmp_path: Path) -> None:
    local = LocalTransport(name="new-host")
    missing = str(tmp_path / "not" / "yet" / "there")
    mounts = mounts_of(local, [str(tmp_path), missing, "/"])
    assert set(mounts) == {str(tmp_path), missing, "/"}
    assert mounts[missing] == mounts[str(tmp_path)]
    assert mounts["/"].mount_point == "/" and mounts["/"].available > 0
    assert mounts_of(local, []) == {}


def _file(path: str, size: int, **extra: object) -> FileEntry:
    return FileEntry(path=path, kind="file", mode=0o644, uid=0, gid=0, user="root",
                     group="root", mtime="0", size=size, **extra)  # type: ignore[arg-type]


def test_needed_bytes_are_summed_per_root_sparse_files_in_full() -> None:
    entries = [
        _file("/srv/data/a", 100), _file("/srv/data/sparse.img", 64 * 2**20, sparse=True),
        _file("/srv/data/link-to-a", 100, hardlink_to="/srv/data/a"),
        _file("/srv/data/www/x", 5), _file("/etc/nginx/nginx.conf", 7),
        _file("/usr/local/bin/tool", 3),
        FileEntry(path="/srv/data/dir", kind="dir", mode=0o755, uid=0, gid=0, user="root",
                  group="root", mtime="0", size=4096)]
    needed = needed_by_root(entries, ["/srv/data", "/srv/data/www", "/etc", "/home"])
    assert needed == {"/srv/data": 100 + 64 * 2**20, "/srv/data/www": 5, "/etc": 7,
                      "/usr/local/bin": 3}


# /proc/self/mounts of lab-target with a 20 MiB tmpfs on /srv (trimmed), plus a mount point
# with a space (octal-escaped there)
CAPTURED_MOUNTS = (
    "overlay / overlay rw,relatime,lowerdir=/var/cache/l,upperdir=/u,workdir=/w 0 0\n"
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    "tmpfs /srv tmpfs rw,relatime,size=20480k,mode=755 0 0\n"
    "/dev/sdb1 /mnt/my\\040disk ext4 rw,relatime 0 0\n")


def test_parse_mount_points_from_captured_mounts() -> None:
    assert parse_mount_points(CAPTURED_MOUNTS) == ["/", "/proc", "/srv", "/mnt/my disk"]
    assert parse_mount_points("") == []


def test_a_tree_by_exclusion_is_summed_per_mount_point_of_the_target() -> None:
    """A snapshot carried by exclusion has the one tree /: the target's /srv, its own file
    system, gets what lands under it (the 64 MiB sparse file), not /."""
    entries = [_file("/srv/data/sparse.img", 64 * 2**20, sparse=True),
               _file("/srv/data/a", 100), _file("/usr/local/bin/tool", 3),
               _file("/etc/nginx/nginx.conf", 7)]
    needed = needed_by_root(entries, ["/", "/etc", *parse_mount_points(CAPTURED_MOUNTS)])
    assert needed == {"/srv": 64 * 2**20 + 100, "/": 3, "/etc": 7}


def test_mount_points_of_a_real_host_hold_the_root() -> None:
    assert "/" in mount_points(LocalTransport(name="new-host"))


def test_check_space_names_the_target_the_mount_and_the_sizes(tmp_path: Path) -> None:
    local = LocalTransport(name="new-host")
    check_space(local, {str(tmp_path): 1024, "/": 1024}, "the files")  # fits
    with pytest.raises(NotEnoughSpace) as refused:
        check_space(local, {str(tmp_path / "srv"): 2**60, "/": 1024}, "the files")
    message = str(refused.value)
    mount = mounts_of(local, [str(tmp_path)])[str(tmp_path)].mount_point
    assert message.startswith(f"new-host: not enough disk space for the files on {mount}: "
                              f"needs about {2**60 * MARGIN / 2**20:.0f} MiB, ")
    assert message.endswith(" MiB free") and "\n" not in message
    assert refused.value.hint and "--resume" in refused.value.hint
    with pytest.raises(NotEnoughSpace) as labelled:
        check_space(local, {"/": 2**60}, "the files", label="target")
    assert str(labelled.value).startswith("target (new-host): not enough disk space")


def test_the_needs_of_paths_on_one_file_system_add_up(tmp_path: Path) -> None:
    local = LocalTransport(name="new-host")
    free = mounts_of(local, [str(tmp_path)])[str(tmp_path)].available
    half = int(free / MARGIN * 0.6)  # each fits alone (whatever else writes meanwhile), not both
    check_space(local, {str(tmp_path / "a"): half}, "the files")
    with pytest.raises(NotEnoughSpace):
        check_space(local, {str(tmp_path / "a"): half, str(tmp_path / "b"): half}, "the files")


def test_a_full_disk_during_restore_is_explained(tmp_path: Path) -> None:
    local = LocalTransport(name="new-host")
    failure = RemoteCommandError("new-host: restoring into / failed (exit 2): tar: srv/a: "
                                 "Cannot write: No space left on device")
    explained = explain_no_space(local, failure, {str(tmp_path): 5 * 2**20})
    mount = mounts_of(local, [str(tmp_path)])[str(tmp_path)].mount_point
    assert isinstance(explained, NotEnoughSpace)
    assert str(explained).startswith(f"new-host: ran out of disk space restoring files on "
                                     f"{mount}: needs about 5.5 MiB, ")
    other = RemoteCommandError("new-host: restoring into / failed (exit 2): tar: bad")
    assert explain_no_space(local, other, {"/": 1}) is other
