"""Build a .deb on the controller from an installed package, as dpkg-repack does: the
control file from dpkg's status entry (minus the fields that describe the installation),
the maintainer scripts, md5sums and conffiles from /var/lib/dpkg/info, the data from the
package's installed files (a tar stream read from the host). Pure: bytes in, bytes out.

A .deb is an ar archive of ``debian-binary`` ("2.0\\n"), ``control.tar.gz`` and
``data.tar.xz`` (deb(5))."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterable
from typing import IO

STATUS_ONLY = ("status", "config-version", "conffiles")
CONTROL_MEMBERS = ("preinst", "postinst", "prerm", "postrm", "config", "templates",
                   "triggers", "shlibs", "symbols", "md5sums", "conffiles")
SCRIPTS = ("preinst", "postinst", "prerm", "postrm", "config")


def control_text(status: str) -> str:
    """The control file of a ``dpkg-query -s`` stanza: its fields without Status,
    Config-Version and Conffiles (with their continuation lines)."""
    kept: list[str] = []
    skipping = False
    for line in status.strip("\n").splitlines():
        if line[:1] in (" ", "\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(":", 1)[0].strip().lower() in STATUS_ONLY
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    info.uname = info.gname = "root"
    archive.addfile(info, io.BytesIO(data))


def control_tar(control: str, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as archive:
        root = tarfile.TarInfo(".")
        root.type, root.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(root)
        _add(archive, "./control", control.encode(), 0o644)
        for name in CONTROL_MEMBERS:
            if name in members:
                _add(archive, f"./{name}", members[name], 0o755 if name in SCRIPTS else 0o644)
    return buffer.getvalue()


def parents(listed: Iterable[str]) -> set[str]:
    """The paths of a package's file list (``dpkg-query -L``) that have entries below them:
    directories of the package, even where the host has a symlink (merged /usr: /bin)."""
    found = set()
    for path in listed:
        parent = path.rstrip("/").rsplit("/", 1)[0]
        while parent and parent not in found:
            found.add(parent)
            parent = parent.rsplit("/", 1)[0]
    return {p.lstrip("/") for p in found}


def split_tar(installed: IO[bytes], out: IO[bytes], info_prefix: str,
              directories: frozenset[str] | set[str] = frozenset()) -> dict[str, bytes]:
    """Read the host's tar of a package's info files and installed files (absolute names):
    write the installed ones as the data member (``./usr/bin/x``, xz) into ``out``; return
    the info files (names starting with ``info_prefix``, e.g. ``var/lib/dpkg/info/x.``)
    by suffix. A symlink named in ``directories`` (see parents) goes in as a directory."""
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=installed, mode="r|*") as source, \
            tarfile.open(fileobj=out, mode="w:xz", format=tarfile.GNU_FORMAT) as archive:
        for member in source:
            bare = member.name.lstrip("/").removeprefix("./")
            if member.isreg() and bare.startswith(info_prefix):
                content = source.extractfile(member)
                members[bare[len(info_prefix):]] = content.read() if content else b""
                continue
            if not bare or bare == ".":
                continue
            member.name = "./" + bare
            if member.issym() and bare in directories:
                member.type, member.linkname, member.mode = tarfile.DIRTYPE, "", 0o755
            if member.islnk():
                member.linkname = "./" + member.linkname.lstrip("/").removeprefix("./")
            archive.addfile(member, source.extractfile(member) if member.isreg() else None)
    return members


def ar_archive(members: Iterable[tuple[str, bytes]]) -> bytes:
    """An ar archive as dpkg-deb writes it (names padded, no trailing slash)."""
    out = io.BytesIO()
    out.write(b"!<arch>\n")
    now = int(time.time())
    for name, data in members:
        header = (f"{name:<16}{now:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n").encode()
        assert len(header) == 60
        out.write(header)
        out.write(data)
        if len(data) % 2:
            out.write(b"\n")
    return out.getvalue()


def build_deb(status: str, members: dict[str, bytes], data: bytes) -> bytes:
    """The .deb of an installed package: ``status`` its dpkg-query -s stanza, ``members``
    its /var/lib/dpkg/info files by suffix (postinst, md5sums, ...), ``data`` the
    data.tar.xz that split_tar wrote."""
    return ar_archive([("debian-binary", b"2.0\n"),
                       ("control.tar.gz", control_tar(control_text(status), members)),
                       ("data.tar.xz", data)])
