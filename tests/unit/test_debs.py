"""Hand-installed packages carried as .debs: rebuilt from this machine's installed files
(read only) the way dpkg-repack does, and checked with dpkg-deb itself."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from evacuate.inventory.model import HostInventory, HostState, LocalPackage
from evacuate.snapshot.debpack import control_text
from evacuate.snapshot.debs import carry_debs
from evacuate.snapshot.store import BlobStore, MemoryStore
from evacuate.transport.local import LocalTransport

PACKAGE = "hostname"

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None or
                                not Path(f"/var/lib/dpkg/info/{PACKAGE}.list").exists(),
                                reason=f"needs dpkg and the {PACKAGE} package")


def test_control_drops_the_installation_fields() -> None:
    status = ("Package: x\nStatus: install ok installed\nVersion: 1\nConffiles:\n /etc/x abc\n"
              " /etc/y def\nDescription: a tool\n more text\n")
    assert control_text(status) == "Package: x\nVersion: 1\nDescription: a tool\n more text\n"


@needs_dpkg
def test_an_installed_package_is_rebuilt_as_a_valid_deb(tmp_path: Path) -> None:
    version, arch = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version} ${Architecture}", PACKAGE], capture_output=True,
        text=True, check=True).stdout.split()
    inventory = HostInventory(host="here", collected_at="now", state=HostState(
        apt_known=True, local_packages=(LocalPackage(PACKAGE, version, arch),)))
    blobs = BlobStore(MemoryStore(), None)
    entries, warnings = carry_debs(LocalTransport(), blobs, inventory)
    assert not warnings and [(e.name, e.how) for e in entries] == [(PACKAGE, "rebuilt")]
    deb = tmp_path / "x.deb"
    deb.write_bytes(blobs.read_blob(entries[0].blob))
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True,
                            check=True).stdout
    assert f"Package: {PACKAGE}\n" in fields and f"Version: {version}\n" in fields
    assert "Status:" not in fields
    # every file dpkg recorded, with the content dpkg recorded
    out = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
    sums = Path(f"/var/lib/dpkg/info/{PACKAGE}.md5sums").read_text().splitlines()
    assert sums
    for line in sums:
        digest, name = line.split(None, 1)
        assert hashlib.md5((out / name).read_bytes()).hexdigest() == digest
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(control)) as archive:
        assert "./md5sums" in archive.getnames()
