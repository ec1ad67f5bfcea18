"""packagefiles.sh run for real (sh, find, awk, md5sum of this machine) on a package
database of its own: which package files it reads, and which it reports as changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

from evacuate.inventory.facts import FACTS_BY_NAME
from evacuate.inventory.facts.base import Fact
from evacuate.inventory.model import PackageFiles
from evacuate.inventory.script import build_script, split_sections

FACT = FACTS_BY_NAME["packagefiles"]
DPKG_INFO = "d=/var/lib/dpkg/info"
OLD = 1_600_000_000  # the package's install, long ago


def _run(info: Path) -> PackageFiles:
    assert DPKG_INFO in FACT.script
    fact = Fact(name=FACT.name, script=FACT.script.replace(DPKG_INFO, f"d={info}"),
                parse=FACT.parse, default=FACT.default, timeout=60)
    out = subprocess.run(["sh", "-s"], input=build_script([fact]).encode(),
                         capture_output=True, check=True, timeout=60).stdout.decode()
    return FACT.parse(split_sections(out)[FACT.name].text)


def _tick() -> None:
    time.sleep(0.05)  # past the kernel's coarse clock, so that ctimes are ordered


def test_files_changed_after_the_install_are_found_whatever_their_mtime(tmp_path: Path) -> None:
    info, root = tmp_path / "info", tmp_path / "root"
    info.mkdir()
    root.mkdir()
    names = ("same", "edited", "patched-old-mtime", "chmodded", "spaced name")
    for name in names:
        (root / name).write_text(f"{name} as packaged\n")
    rel = str(root).lstrip("/")
    (info / "tool.md5sums").write_text("".join(
        f"{hashlib.md5((root / n).read_bytes()).hexdigest()}  {rel}/{n}\n" for n in names))
    (info / "tool.list").write_text("".join(f"/{rel}/{n}\n" for n in names))
    for name in names:
        os.utime(root / name, (OLD, OLD))
    os.utime(info / "tool.list", (OLD + 10, OLD + 10))  # dpkg wrote the list after the files
    _tick()
    # after the install: an edit (new mtime), a patch whose mtime was put back (cp -p,
    # touch -r), a chmod; "same" and "spaced name" untouched
    (root / "edited").write_text("edited by the admin\n")
    (root / "patched-old-mtime").write_text("patched, mtime put back\n")
    os.utime(root / "patched-old-mtime", (OLD, OLD))
    (root / "chmodded").chmod(0o600)
    found = _run(info)
    assert found.checked == len(names)
    assert {c.path for c in found.changed} == {f"/{rel}/edited", f"/{rel}/patched-old-mtime"}
    assert {c.package for c in found.changed} == {"tool"}
    assert found.unreadable == () and found.without_md5sums == ()


def test_a_package_without_md5sums_is_named_and_nothing_is_hashed(tmp_path: Path) -> None:
    info, root = tmp_path / "info", tmp_path / "root"
    info.mkdir()
    root.mkdir()
    (root / "bin").write_text("x\n")
    (info / "nosums.list").write_text(f"{root}/bin\n")
    found = _run(info)
    assert found.without_md5sums == ("nosums",)
    assert (found.checked, found.changed) == (0, ())
