"""Carry the packages no repository offers (installed by hand from a .deb, see the
inventory's host_state) into the snapshot as .debs: the source's own .deb from apt's cache
when it is there, else one rebuilt on the controller from the installed files as
dpkg-repack does (snapshot.debpack). The source is only read."""

from __future__ import annotations

import shlex
import tempfile
from importlib import resources

from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory
from evacuate.inventory.model_state import LocalPackage
from evacuate.snapshot.debpack import CONTROL_MEMBERS, build_deb, parents, split_tar
from evacuate.snapshot.manifest import DebEntry
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

CACHE = "/var/cache/apt/archives"

REPACK = (resources.files("evacuate.snapshot") / "sh" / "repack.sh").read_text(
    encoding="utf-8")


def carry_debs(transport: Transport, blobs: BlobStore, inventory: HostInventory
               ) -> tuple[tuple[DebEntry, ...], list[str]]:
    """Store a .deb of each hand-installed package; return them and warnings."""
    entries: list[DebEntry] = []
    warnings: list[str] = []
    for package in inventory.state.local_packages:
        try:
            if package.cached:
                entries.append(_cached(transport, blobs, package))
            else:
                entries.append(_rebuilt(transport, blobs, package))
        except EvacuateError as failed:
            warnings.append(f"{package.name} {package.version}: no .deb carried: {failed}")
    return tuple(entries), warnings


def _cached(transport: Transport, blobs: BlobStore, package: LocalPackage) -> DebEntry:
    with transport.open_process(f"cat {shlex.quote(CACHE + '/' + package.cached)}") as proc:
        ref = blobs.put_stream(proc.stdout)  # type: ignore[arg-type]
        status = proc.wait(timeout=600)
        if status != 0:
            raise EvacuateError(f"reading {package.cached} failed: {proc.stderr_text().strip()}")
    return DebEntry(package.name, package.version, package.arch, ref, "cache")


def _rebuilt(transport: Transport, blobs: BlobStore, package: LocalPackage) -> DebEntry:
    spec = f"{package.name}:{package.arch}"
    status = transport.run(["dpkg-query", "-s", spec], timeout=60)
    if not status.ok:
        raise EvacuateError(f"dpkg-query -s {spec}: {status.error_text.strip()}")
    listed = transport.run(["dpkg-query", "-L", spec], timeout=60)
    if not listed.ok:
        raise EvacuateError(f"dpkg-query -L {spec}: {listed.error_text.strip()}")
    directories = parents(listed.text.splitlines())
    command = ["sh", "-c", REPACK, "repack", package.name, package.arch, *CONTROL_MEMBERS]
    with transport.open_process(command) as proc, \
            tempfile.SpooledTemporaryFile(max_size=16 << 20) as data:
        prefix = proc.stdout.readline().decode("utf-8", "surrogateescape").strip()
        members = split_tar(proc.stdout, data, prefix, directories)
        code = proc.wait(timeout=1800)
        if code != 0:
            raise EvacuateError(f"reading the files of {spec} failed: "
                                f"{proc.stderr_text().strip()[-200:]}")
        data.seek(0)
        deb = build_deb(status.text, members, data.read())
    return DebEntry(package.name, package.version, package.arch, blobs.put_bytes(deb),
                    "rebuilt")
