"""base.sh, the base role's time zone and locales in one call, on a tree of its own
(BASE_ROOT) with a fake `locale` and `locale-gen`: it leaves the files as the role's file,
copy and lineinfile tasks did, runs locale-gen only when needed, and prints each change
(the role's changed_when)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from evacuate.rebuild import __file__ as REBUILD

SCRIPT = Path(REBUILD).parent / "sh" / "base.sh"
ROLE_FILE = Path(REBUILD).parents[2] / "playbooks" / "roles" / "base" / "files" / "base.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="base.sh gives its files to root")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    tree = tmp_path / "root"
    (tree / "usr/share/zoneinfo/Europe").mkdir(parents=True)
    (tree / "usr/share/zoneinfo/Europe/Berlin").write_bytes(b"TZif2 Berlin")
    (tree / "etc/default").mkdir(parents=True)
    (tree / "etc/locale.gen").write_text("# en_US.UTF-8 UTF-8\n#  de_DE.UTF-8 UTF-8  \n"
                                         "# fr_FR.UTF-8 UTF-8\n")
    os.symlink("/usr/share/zoneinfo/Etc/UTC", tree / "etc/localtime")
    (tree / "etc/timezone").write_text("Etc/UTC\n")
    (tree / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")  # a file ".." reaches
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, body in {"locale": 'cat "$STATE/generated"',
                       "locale-gen": 'echo run >> "$STATE/gen-calls"; '
                                     'echo de_DE.utf8 >> "$STATE/generated"'}.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    (tmp_path / "generated").write_text("C\nC.utf8\nPOSIX\n")
    return tree


def _base(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    state = root.parent
    env = dict(os.environ, BASE_ROOT=str(root), STATE=str(state),
               PATH=f"{state / 'bin'}:{os.environ['PATH']}")
    return subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, check=False)


def _gen_calls(root: Path) -> int:
    calls = root.parent / "gen-calls"
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_the_role_runs_the_controllers_program() -> None:
    assert ROLE_FILE.resolve() == SCRIPT.resolve()


def test_time_zone_locales_and_default_locale_are_set_and_a_second_call_changes_nothing(
        root: Path) -> None:
    args = ("-z", "Europe/Berlin", "-l", "de_DE.UTF-8 UTF-8", "-s", "LANG=de_DE.UTF-8",
            "-s", "LC_TIME=C.UTF-8")
    first = _base(root, *args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "/etc/localtime Europe/Berlin", "/etc/timezone Europe/Berlin", "/etc/locale.gen",
        "locale-gen", f"{root}/etc/default/locale", f"{root}/etc/default/locale"]
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Europe/Berlin"
    assert (root / "etc/timezone").read_text() == "Europe/Berlin\n"
    # the commented line that is the locale became it; the others are left as they are
    assert (root / "etc/locale.gen").read_text() == ("# en_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\n"
                                                     "# fr_FR.UTF-8 UTF-8\n")
    assert (root / "etc/default/locale").read_text() == "LANG=de_DE.UTF-8\nLC_TIME=C.UTF-8\n"
    for name in ("etc/timezone", "etc/locale.gen", "etc/default/locale"):
        info = (root / name).stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 0, 0o644), name
    assert _gen_calls(root) == 1

    second = _base(root, *args)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "" and _gen_calls(root) == 1


def test_a_setting_replaces_the_last_line_of_its_key_and_modes_are_put_right(root: Path) -> None:
    (root / "etc/default/locale").write_text("LANG=C\n  LANG=en_US.UTF-8\nLANGUAGE=en\n")
    (root / "etc/default/locale").chmod(0o600)
    done = _base(root, "-s", "LANG=de_DE.UTF-8")
    assert done.returncode == 0, done.stderr
    assert (root / "etc/default/locale").read_text() == "LANG=C\nLANG=de_DE.UTF-8\nLANGUAGE=en\n"
    assert done.stdout.splitlines() == [f"{root}/etc/default/locale",
                                        f"mode {root}/etc/default/locale"]
    assert (root / "etc/default/locale").stat().st_mode & 0o777 == 0o644


def test_a_missing_locale_is_generated_though_its_line_is_there(root: Path) -> None:
    (root / "etc/locale.gen").write_text("de_DE.UTF-8 UTF-8\n")
    done = _base(root, "-l", "de_DE.UTF-8 UTF-8")
    assert done.stdout.splitlines() == ["locale-gen"] and _gen_calls(root) == 1
    assert _base(root, "-l", "de_DE.UTF-8 UTF-8").stdout == ""  # `locale -a` has it now
    # a locale that is not in the file is appended
    done = _base(root, "-l", "sv_SE.UTF-8 UTF-8")
    assert (root / "etc/locale.gen").read_text() == "de_DE.UTF-8 UTF-8\nsv_SE.UTF-8 UTF-8\n"
    assert "/etc/locale.gen" in done.stdout.splitlines()


def test_an_unknown_time_zone_is_refused_and_nothing_changes(root: Path) -> None:
    for zone in ("Mars/Olympus_Mons", "../../../etc/passwd", "Europe"):
        done = _base(root, "-z", zone)
        assert done.returncode == 3 and f"unknown time zone {zone}" in done.stderr, zone
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Etc/UTC"
    assert (root / "etc/timezone").read_text() == "Etc/UTC\n"
