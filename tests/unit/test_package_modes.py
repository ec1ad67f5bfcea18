"""Package files whose mode or owner changed after their package installed them: the
package database as package_db.sh prints it (golden, captured from the lab source's image),
the ctime rule, the snapshot's choice, setting them on a host and verifying them (real sh,
xargs, chown, chmod and stat through LocalTransport)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from evacuate.plan.state_model import StatePlan
from evacuate.plan.state_vars import program_input
from evacuate.rebuild.hoststate import set_package_modes
from evacuate.snapshot.engine import choosers
from evacuate.snapshot.exclusion import PACKAGE_MODE, Exclusion, Tally
from evacuate.snapshot.manifest import PackageMode
from evacuate.snapshot.package_modes import PackageDatabase, parse_package_db
from evacuate.snapshot.scan import ScannedEntry
from evacuate.transport.local import LocalTransport
from evacuate.verify.model import Status
from evacuate.verify.package_modes import STAT, compare_package_modes, parse_stat

FIXTURES = Path(__file__).parents[1] / "fixtures" / "snapshot"
PASSWD_INSTALLED = 1796282600.8833722130  # passwd.list's mtime in the golden


def golden() -> PackageDatabase:
    text = (FIXTURES / "package_db_lab_source.txt").read_text()
    return parse_package_db(text.splitlines())


def scanned(path: str, ctime: float, kind: str = "file", mode: int = 0o755) -> ScannedEntry:
    return ScannedEntry(path.encode(), kind, 10, "1700000000", f"{ctime:.10f}", "1:1", mode,
                        0, 0, "root", "root", 1, 8, None)


def test_the_golden_package_database_names_files_their_install_times_and_swaps() -> None:
    db = golden()
    assert {"/", "/usr/bin/chfn", "/etc/crontab", "/usr/bin/crontab"} <= db.owned
    assert db.installed["/usr/bin/chfn"] == pytest.approx(PASSWD_INSTALLED)
    # /etc/crontab is cron-daemon-common's, a later list than passwd's
    assert db.installed["/etc/crontab"] == pytest.approx(1796282600.9447097910)
    # a directory both lists name has the later of their times
    assert db.installed["/usr/bin"] == pytest.approx(1796282601.0826065330)
    assert db.swaps == ["/swapfile"]


def test_a_list_without_a_time_still_owns_its_files_and_merged_usr_twins_count() -> None:
    db = parse_package_db(["@@EVAC-TIMES@@", "garbage line", "@@EVAC-LISTS@@",
                           "@@EVAC-PKG@@/var/lib/dpkg/info/coreutils.list", "/bin/ls", "/.",
                           "@@EVAC-SWAPS@@"])
    assert {"/bin/ls", "/usr/bin/ls"} <= db.owned and "/." not in db.owned
    assert db.installed == {}
    assert not db.changed_after_install("/bin/ls", scanned("/bin/ls", 2e9))


def test_a_file_changed_after_its_install_is_the_only_one_found() -> None:
    db = golden()
    assert db.changed_after_install("/usr/bin/chfn", scanned("/usr/bin/chfn",
                                                             PASSWD_INSTALLED + 90))
    assert not db.changed_after_install("/usr/bin/chfn", scanned("/usr/bin/chfn",
                                                                 PASSWD_INSTALLED - 1))
    assert not db.changed_after_install("/usr/bin", scanned("/usr/bin", 2e9, kind="dir"))
    assert not db.changed_after_install("/srv/x", scanned("/srv/x", 2e9))  # no package's


def test_the_snapshot_records_the_mode_and_owner_not_the_content() -> None:
    db, tally, modes = golden(), Tally(), []
    choose, _parent = choosers(Exclusion(owned=db.owned), tally, db, modes)
    assert choose(scanned("/usr/bin/chfn", PASSWD_INSTALLED + 90, mode=0o755)) is False
    assert choose(scanned("/usr/bin/chage", PASSWD_INSTALLED - 5, mode=0o2755)) is False
    assert modes == [PackageMode("/usr/bin/chfn", 0o755, "root", "root")]
    rules = {t.rule: t.entries for t in tally.totals()}
    assert rules[PACKAGE_MODE.name] == 1 and rules["package"] == 1


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    for name in ("chfn", "crontab"):
        target = tmp_path / name
        target.write_text("x\n")
        target.chmod(0o4755 if name == "chfn" else 0o644)
    return tmp_path


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another group needs root")
def test_modes_are_set_on_the_hosts_copies_and_verify_compares_them(files: Path) -> None:
    """The host state program (the files step's, the cutover's and the files role's) gives
    the target's copies the source's owner, then mode (a chown clears setuid), leaves what
    is not a regular file there alone; verify's stat then finds them as on the source."""
    modes = (PackageMode(f"{files}/chfn", 0o755, "root", "root"),
             PackageMode(f"{files}/crontab", 0o600, "root", "daemon"),
             PackageMode(f"{files}/gone", 0o600, "root", "root"),
             PackageMode(f"{files}/dir", 0o700, "root", "root"))
    (files / "dir").mkdir(mode=0o755)
    host = LocalTransport()

    def stat_all() -> dict[str, tuple[int, str, str, str]]:
        return parse_stat(host.run(STAT, input=b"".join(m.path.encode() + b"\0"
                                                        for m in modes)).stdout)

    before = compare_package_modes(modes, stat_all())
    assert before[0].status is Status.FAIL
    assert f"{files}/chfn: 0755 root:root → 4755 root:root" in before[0].detail

    changed, warnings = set_package_modes(host, modes)
    assert warnings == [] and f"mode {files}/chfn 755" in changed
    assert f"owner {files}/crontab" in changed
    assert stat.S_IMODE((files / "chfn").stat().st_mode) == 0o755
    assert stat.S_IMODE((files / "crontab").stat().st_mode) == 0o600
    assert (files / "crontab").stat().st_gid != 0
    assert stat.S_IMODE((files / "dir").stat().st_mode) == 0o755  # not a file: left alone
    assert set_package_modes(host, modes) == ([], [])  # again: nothing to do

    after = {c.name: c for c in compare_package_modes(modes, stat_all())}
    assert after["package files' mode and owner"].status is Status.PASS
    absent = after["package files' mode and owner (not on the target)"]
    assert absent.status is Status.UNVERIFIED and f"{files}/gone" in absent.detail


def test_the_plan_hands_the_modes_to_the_files_role() -> None:
    """The rendered project's host state document lists the package files' modes, so a run
    with plain ansible-playbook sets them too."""
    mode = PackageMode("/usr/bin/chfn", 0o755, "root", "root")
    document = program_input(StatePlan(package_modes=(mode,)), "after")
    assert document["files"] == [{"path": "/usr/bin/chfn", "mode": 0o755, "user": "root",
                                  "group": "root"}]
    assert program_input(StatePlan(package_modes=(mode,)), "after", modes=())["files"] == []


def test_the_golden_stat_output_parses_regular_files_and_others() -> None:
    found = parse_stat((FIXTURES / "stat_package_modes.bin").read_bytes())
    assert found["/usr/bin/chfn"] == (0o4755, "root", "root", "regular file")
    assert found["/etc/ssl/private"] == (0o710, "root", "ssl-cert", "directory")
    assert "/nonexistent" not in found
    checks = compare_package_modes((PackageMode("/usr/bin", 0o755, "root", "root"),), found)
    assert [c.status for c in checks] == [Status.UNVERIFIED]  # a directory is not compared
