"""The target's state program (roles/files/files/host_state.py), run for real on a
temporary tree: farms mirrored, directory modes set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from evacuate.plan.state_model import Farm, FarmLink, StatePlan
from evacuate.plan.state_vars import program_input
from evacuate.rebuild.hoststate import PROGRAM


def _run(document: dict[str, object]) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, str(PROGRAM)], input=json.dumps(document),
                          capture_output=True, text=True, check=True)
    report: dict[str, list[str]] = json.loads(done.stdout)
    return report


def test_farms_end_as_the_sources(tmp_path: Path) -> None:
    sites = tmp_path / "nginx/sites-enabled"
    sites.mkdir(parents=True)
    (sites / "default").symlink_to("../sites-available/default")  # the package enabled it
    (tmp_path / "nginx/sites-available").mkdir()
    (tmp_path / "nginx/sites-available/www").write_text("server {}\n")
    (tmp_path / "x.timer").write_text("[Timer]\n")
    wants = tmp_path / "system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / "rsync.service").symlink_to("/lib/systemd/system/rsync.service")
    (wants / "networkd.service").symlink_to("/lib/systemd/system/networkd.service")
    (tmp_path / "system/mysql.service").symlink_to("/lib/systemd/system/mariadb.service")
    state = StatePlan(farms=(
        Farm(str(tmp_path / "system"), exact=False, managed=("mariadb.service",)),
        Farm(str(sites), (FarmLink(str(sites), "www", "../sites-available/www"),)),
        Farm(str(tmp_path / "system/*.wants"),
             (FarmLink(str(tmp_path / "system/timers.target.wants"), "x.timer",
                       str(tmp_path / "x.timer")),),
             exact=False, managed=("rsync.service", "x.timer")),
    ))
    report = _run(program_input(state, "after"))
    assert sorted(os.listdir(sites)) == ["www"]
    assert os.readlink(sites / "www") == "../sites-available/www"
    # the source knew rsync (disabled there); the target's own unit stays
    assert sorted(os.listdir(wants)) == ["networkd.service"]
    assert os.readlink(tmp_path / "system/timers.target.wants/x.timer") == str(tmp_path / "x.timer")
    # the alias of a unit the source knows (and had disabled) goes with it
    assert not (tmp_path / "system/mysql.service").is_symlink()
    assert f"removed {sites}/default" in report["changed"] and not report["warnings"]
    assert _run(program_input(state, "after"))["changed"] == []  # a second pass: nothing


def test_a_farm_of_markers_holds_exactly_the_sources_files(tmp_path: Path) -> None:
    """The target's apache2 install marked serve-cgi-bin enabled by the maintainer; the
    source's admin had disabled it: the marker goes, the admin's is there."""
    by_maint, by_admin = tmp_path / "conf/enabled_by_maint", tmp_path / "conf/disabled_by_admin"
    by_maint.mkdir(parents=True)
    for name in ("charset", "serve-cgi-bin"):
        (by_maint / name).write_text("")
    (tmp_path / "conf/README").write_text("not a marker directory\n")
    state = StatePlan(farms=(Farm(str(tmp_path / "*/*_by_*"), (
        FarmLink(str(by_maint), "charset", ""), FarmLink(str(by_admin), "serve-cgi-bin", "")),
        markers=True),))
    report = _run(program_input(state, "after"))
    assert sorted(os.listdir(by_maint)) == ["charset"]
    assert sorted(os.listdir(by_admin)) == ["serve-cgi-bin"]
    assert (tmp_path / "conf/README").exists()
    assert f"removed {by_maint}/serve-cgi-bin" in report["changed"] and not report["warnings"]
    assert _run(program_input(state, "after"))["changed"] == []


def test_a_link_to_what_the_target_lacks_is_not_made(tmp_path: Path) -> None:
    # a module of the source's release that the target's does not ship would keep nginx down
    modules = tmp_path / "nginx/modules-enabled"
    modules.mkdir(parents=True)
    state = StatePlan(farms=(Farm(str(modules), (FarmLink(
        str(modules), "50-mod-gone.conf", "/usr/share/nginx/modules-available/gone.conf"),)),))
    report = _run(program_input(state, "after"))
    assert os.listdir(modules) == []
    assert any("50-mod-gone.conf" in w and "not linked" in w for w in report["warnings"])


def test_a_link_to_what_the_target_lacks_restored_with_the_files_is_removed(
        tmp_path: Path) -> None:
    # the files step restores the farm's symlinks as they were (a bullseye nginx's geoip
    # module on a bookworm target without it): the link is right by name and target, and
    # dangles all the same
    modules = tmp_path / "nginx/modules-enabled"
    modules.mkdir(parents=True)
    gone = "/usr/share/nginx/modules-available/gone.conf"
    (modules / "50-mod-gone.conf").symlink_to(gone)
    state = StatePlan(farms=(Farm(str(modules), (FarmLink(str(modules), "50-mod-gone.conf",
                                                         gone),)),))
    report = _run(program_input(state, "after"))
    assert os.listdir(modules) == []
    assert f"removed {modules}/50-mod-gone.conf" in report["changed"]
    assert any("50-mod-gone.conf" in w and "not linked" in w for w in report["warnings"])


def test_directories_get_the_sources_mode(tmp_path: Path) -> None:
    private = tmp_path / "accounts"
    private.mkdir(mode=0o755)
    private.chmod(0o755)
    entry = {"path": str(private), "mode": 0o40700, "uid": os.getuid(), "gid": os.getgid(),
             "user": str(os.getuid()), "group": str(os.getgid())}
    report = _run(program_input(StatePlan(), "after", [entry]))
    assert private.stat().st_mode & 0o7777 == 0o700
    assert report["changed"] == [f"mode {private} 700"]
