"""Unified diffs of the changed conffiles against the versions their packages ship.

The ``conffiles`` fact only knows *that* a file differs (dpkg's md5). Here a second, read-only
round trip reads each changed file (capped) and, where the host's apt cache still holds the
installed version's .deb, that .deb's copy of the file (``dpkg-deb --fsys-tarfile | tar -xO``).
Optionally the controller then fetches the missing .debs itself over HTTP, from the host's own
repositories or from mirrors the operator names (``--defaults-from``): nothing is downloaded to
or written on the host.

A default is used only when its md5 is the one dpkg recorded for the shipped file, so a mirror
with a different build can never produce a wrong diff. Lines that look like they hold a secret
(``password = …``, ``token: …``) have their value replaced by ``<redacted>`` on both sides
before diffing; binary and oversized files get a note instead of a diff.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import io
import lzma
import re
import secrets
import shlex
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from evacuate.inventory.facts.sources_apt import parse_one_line
from evacuate.inventory.model import ChangedConffile, HostInventory, Repository
from evacuate.inventory.secret_names import SECRET_KEY_LINE
from evacuate.transport.base import Transport

CAP = 256 * 1024
"""Largest file (bytes) that is diffed."""
MAX_DOWNLOAD = 256 * 1024 * 1024
APT_CACHE = "/var/cache/apt/archives"

Fetch = Callable[[str], bytes]
"""Download a URL (raise OSError on failure)."""



@dataclass(frozen=True)
class Wanted:
    """One changed conffile and the package version that shipped it."""

    conffile: ChangedConffile
    version: str
    arch: str

    @property
    def deb_name(self) -> str:
        """The file name apt gives the .deb in its cache (the epoch's ':' as %3a)."""
        return f"{self.conffile.package}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


def wanted(inventory: HostInventory) -> list[Wanted]:
    """The changed (not deleted) conffiles whose package version is known."""
    packages = {p.name: p for p in inventory.packages}
    result = []
    for conffile in inventory.changed_conffiles:
        package = packages.get(conffile.package.split(":", 1)[0])
        if conffile.actual_md5 is not None and package is not None:
            result.append(Wanted(conffile, package.version, package.arch or "all"))
    return result


def host_script(items: Sequence[Wanted], marker: str, cache: str = APT_CACHE) -> str:
    """sh program: for item ``i`` print ``\\n<marker> current i\\n`` and the file's first
    CAP+1 bytes, then, when the apt cache has the .deb, ``\\n<marker> default i\\n`` and the
    shipped copy (first CAP+1 bytes)."""
    lines = ["cache=" + shlex.quote(cache)]
    for index, item in enumerate(items):
        path = shlex.quote(item.conffile.path)
        member = shlex.quote("." + item.conffile.path)
        deb = f'"$cache"/{shlex.quote(item.deb_name)}'
        lines.append(f"if [ -f {path} ] && [ -r {path} ]; then "
                     f"printf '\\n%s current {index}\\n' {marker}; "
                     f"head -c {CAP + 1} -- {path}; fi")
        lines.append(f"if [ -f {deb} ] && command -v dpkg-deb >/dev/null 2>&1; then "
                     f"printf '\\n%s default {index}\\n' {marker}; "
                     f"dpkg-deb --fsys-tarfile {deb} 2>/dev/null | tar -xOf - {member} "
                     f"2>/dev/null | head -c {CAP + 1}; fi")
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def parse_host_output(raw: bytes, marker: str) -> dict[tuple[str, int], bytes]:
    """``{(kind, index): bytes}`` from :func:`host_script`'s output."""
    sections: dict[tuple[str, int], bytes] = {}
    for chunk in raw.split(b"\n" + marker.encode() + b" ")[1:]:
        head, _, body = chunk.partition(b"\n")
        kind, _, index = head.decode("ascii", "replace").partition(" ")
        if kind in ("current", "default") and index.isdigit():
            sections[(kind, int(index))] = body
    return sections


# --- the controller's own download of a .deb ------------------------------------------------

@dataclass(frozen=True)
class Archive:
    """Where to look for a .deb: a Packages index and the base its Filename is relative to."""

    index: str  # URL without the compression suffix
    base: str


def archives(repositories: Iterable[Repository], arch: str) -> list[Archive]:
    """The binary package indexes of apt ``deb`` sources (one-line or deb822; flat
    repositories, whose suite ends in '/', included)."""
    found = []
    for repo in repositories:
        if repo.kind != "deb" or not repo.enabled:
            continue
        for uri in repo.uris:
            root = uri.rstrip("/")
            for suite in repo.suites:
                if suite.endswith("/"):
                    base = f"{root}/{suite.strip('/')}".rstrip("/").removesuffix("/.")
                    found.append(Archive(f"{base}/Packages", base))
                    continue
                for component in repo.components or ("main",):
                    found.append(Archive(f"{root}/dists/{suite}/{component}/binary-{arch}/"
                                         "Packages", root))
    return list(dict.fromkeys(found))


def mirror_repository(text: str) -> Repository:
    """A repository from ``--defaults-from`` text: ``URI SUITE [COMPONENT…]`` (a flat
    repository's suite is ``./``); raise ValueError when it is not one."""
    line = text.strip()
    entries = parse_one_line("--defaults-from", line if line.startswith("deb ") else f"deb {line}")
    if len(entries) != 1 or not re.match(r"^(https?|file)://", entries[0].uris[0]):
        raise ValueError(f"not a mirror (want 'URI SUITE [COMPONENT...]'): {text[:80]!r}")
    return entries[0]


def parse_packages_index(text: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``{(package, version, arch): (Filename, SHA256)}`` from a Packages index."""
    result = {}
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if {"Package", "Version", "Filename"} <= fields.keys():
            key3 = (fields["Package"], fields["Version"], fields.get("Architecture", ""))
            result[key3] = (fields["Filename"], fields.get("SHA256", ""))
    return result


def deb_member(deb: bytes, path: str) -> bytes | None:
    """The content of ``path`` in the .deb's data archive, None when it has no such file;
    raise ValueError when ``deb`` is not a .deb this can read."""
    if not deb.startswith(b"!<arch>\n"):
        raise ValueError("not a .deb (no ar header)")
    offset, data, name = 8, b"", ""
    while offset + 60 <= len(deb):
        header = deb[offset:offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip() or 0)
        if name.startswith("data.tar"):
            data = deb[offset + 60:offset + 60 + size]
            break
        offset += 60 + size + (size & 1)
    if not data:
        raise ValueError("the .deb has no data.tar member")
    tar_bytes = _decompress(data, name)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        for candidate in ("." + path, path.lstrip("/")):
            try:
                member = tar.getmember(candidate)
            except KeyError:
                continue
            stream = tar.extractfile(member)
            return stream.read() if stream is not None else None
    return None


def _decompress(data: bytes, name: str) -> bytes:
    if name.endswith(".xz"):
        return lzma.decompress(data)
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".zst"):
        zstd = shutil.which("zstd")
        if zstd is None:
            raise ValueError("the .deb is zstd-compressed and zstd is not installed here")
        return subprocess.run([zstd, "-dcq"], input=data, capture_output=True, check=True,
                              timeout=120).stdout
    if name == "data.tar":
        return data
    raise ValueError(f"unsupported .deb member {name}")


def http_fetch(url: str, timeout: float = 30) -> bytes:
    """GET ``url`` (at most MAX_DOWNLOAD bytes); raise OSError on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body: bytes = answer.read(MAX_DOWNLOAD + 1)
    except (urllib.error.URLError, ValueError, TimeoutError) as failed:
        raise OSError(f"{url}: {getattr(failed, 'reason', failed)}") from None
    if len(body) > MAX_DOWNLOAD:
        raise OSError(f"{url}: larger than {MAX_DOWNLOAD >> 20} MiB")
    return body


class Downloader:
    """Finds and downloads .debs from a list of archives; each index is read once."""

    def __init__(self, places: Sequence[Archive], fetch: Fetch = http_fetch) -> None:
        self.places = list(places)
        self.fetch = fetch
        self.indexes: dict[Archive, dict[tuple[str, str, str], tuple[str, str]]] = {}
        self.debs: dict[str, bytes] = {}
        self.problems: list[str] = []

    def _index(self, place: Archive) -> dict[tuple[str, str, str], tuple[str, str]]:
        if place not in self.indexes:
            self.indexes[place] = {}
            for suffix, unpack in ((".xz", lzma.decompress), (".gz", gzip.decompress),
                                   ("", lambda b: b)):
                try:
                    raw = unpack(self.fetch(place.index + suffix))
                except (OSError, lzma.LZMAError, EOFError) as failed:
                    if not suffix:
                        self.problems.append(str(failed))
                    continue
                self.indexes[place] = parse_packages_index(raw.decode("utf-8", "replace"))
                break
        return self.indexes[place]

    def deb(self, item: Wanted) -> tuple[bytes, str] | None:
        """The .deb of ``item``'s package version and the URL it came from, or None."""
        for place in self.places:
            hit = self._index(place).get((item.conffile.package, item.version, item.arch))
            if hit is None:
                continue
            # quoted as apt does: a cache-named file's '%3a' is a literal '%'
            url = f"{place.base}/{urllib.parse.quote(hit[0].removeprefix('./'), safe='/~+')}"
            if url not in self.debs:
                try:
                    body = self.fetch(url)
                except OSError as failed:
                    self.problems.append(str(failed))
                    continue
                if hit[1] and hashlib.sha256(body).hexdigest() != hit[1]:
                    self.problems.append(f"{url}: SHA256 differs from its index")
                    continue
                self.debs[url] = body
            return self.debs[url], url
        return None


# --- the diff ---------------------------------------------------------------------------------

def redact(text: str) -> str:
    """``text`` with the value of each secret-looking line replaced by ``<redacted>``."""
    return "\n".join(SECRET_KEY_LINE.sub(r"\1<redacted>", line) for line in text.split("\n"))


def unified_diff(path: str, shipped: bytes, current: bytes, label: str) -> tuple[str | None, str]:
    """(diff, note): the redacted unified diff from the shipped file to the host's, or None
    and why there is none."""
    if len(current) > CAP or len(shipped) > CAP:
        return None, f"larger than {CAP >> 10} KiB: no diff"
    if b"\0" in current or b"\0" in shipped:
        return None, "binary file: no diff"
    old = redact(shipped.decode("utf-8", "replace")).splitlines(keepends=True)
    new = redact(current.decode("utf-8", "replace")).splitlines(keepends=True)
    lines = list(difflib.unified_diff(old, new, f"{path} (shipped)", f"{path} (on the host)"))
    if not lines:
        return "", f"{label}; the changes are all in redacted lines"
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines), label


def collect_diffs(transport: Transport, inventory: HostInventory, *,
                  downloader: Downloader | None = None, timeout: float = 120,
                  cache: str = APT_CACHE) -> HostInventory:
    """``inventory`` with ``diff`` and ``diff_note`` set on its changed conffiles (one more
    read-only round trip; the host's apt cache first, then ``downloader``)."""
    items = wanted(inventory)
    if not items:
        return inventory
    marker = f"--evacuate-conffile-{secrets.token_hex(8)}--"
    result = transport.run(["sh", "-c", host_script(items, marker, cache)], timeout=timeout)
    sections = parse_host_output(result.stdout, marker)
    done: dict[str, ChangedConffile] = {}
    for index, item in enumerate(items):
        conffile = item.conffile
        current = sections.get(("current", index))
        if current is None:
            done[conffile.path] = replace(conffile, diff_note="unreadable on the host")
            continue
        shipped, label = _shipped(item, sections.get(("default", index)), downloader)
        if shipped is None:
            done[conffile.path] = replace(conffile, diff_note=label)
            continue
        diff, note = unified_diff(conffile.path, shipped, current, label)
        done[conffile.path] = replace(conffile, diff=diff, diff_note=note)
    return replace(inventory, changed_conffiles=tuple(
        done.get(c.path, c) for c in inventory.changed_conffiles))


def _shipped(item: Wanted, cached: bytes | None,
             downloader: Downloader | None) -> tuple[bytes | None, str]:
    """The shipped copy whose md5 is dpkg's, and where it came from (or why there is none)."""
    expected = item.conffile.expected_md5
    if cached is not None and hashlib.md5(cached, usedforsecurity=False).hexdigest() == expected:
        return cached, f"shipped version from the host's apt cache ({item.deb_name})"
    if downloader is None:
        return None, (f"no {item.deb_name} in the host's apt cache (--fetch-defaults "
                      "downloads it)")
    found = downloader.deb(item)
    if found is None:
        return None, f"{item.deb_name} is in neither the apt cache nor the repositories asked"
    deb, url = found
    try:
        member = deb_member(deb, item.conffile.path)
    except (ValueError, tarfile.TarError, lzma.LZMAError, OSError,
            subprocess.SubprocessError) as bad:
        return None, f"{url}: {bad}"
    if member is None:
        return None, f"{url} has no {item.conffile.path}"
    if hashlib.md5(member, usedforsecurity=False).hexdigest() != expected:
        return None, f"{url}: its {item.conffile.path} is not the one dpkg recorded"
    return member, f"shipped version from {url}"
