"""Fact family ``host_state``: generated locales (/etc/locale.gen, /etc/default/locale),
apt's package files with their release origins and which of them offer ``base-files``
(how the plan tells the distribution's own mirror from third-party repositories),
packages no source offers (installed by hand), and files marked immutable or
append-only (``lsattr``)."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts
from evacuate.inventory.model_state import AptPackageFile, FileAttribute, HostState, LocalPackage


def _package_file(line: str) -> tuple[str, str] | None:
    """``(uri, dist)`` of an ``apt-cache policy`` package-file line, e.g.
    ``500 http://deb.debian.org/debian bookworm/main amd64 Packages``."""
    tokens = line.split()
    if len(tokens) < 3 or tokens[-1] != "Packages" or not tokens[0].lstrip("-").isdigit():
        return None
    if "://" not in tokens[1] and not tokens[1].startswith(("file:", "cdrom:", "copy:")):
        return None
    return tokens[1], tokens[2] if len(tokens) > 3 else ""


def _release(line: str) -> dict[str, str]:
    fields = {}
    for item in line.strip().removeprefix("release").strip().split(","):
        key, _, value = item.partition("=")
        fields[key.strip()] = value.strip()
    return fields


def parse_apt_files(text: str, base_text: str) -> tuple[AptPackageFile, ...]:
    serving = {pf for line in base_text.splitlines() if (pf := _package_file(line))}
    found: list[AptPackageFile] = []
    current: tuple[str, str] | None = None
    release: dict[str, str] = {}

    def flush() -> None:
        if current is not None:
            found.append(AptPackageFile(current[0], current[1], release.get("o", ""),
                                        release.get("l", ""), current in serving))

    for line in text.splitlines():
        if line.startswith("Pinned packages"):
            break
        package_file = _package_file(line)
        if package_file is not None or (line.strip()[:1].isdigit() and "Packages" not in line):
            flush()
            current, release = package_file, {}
        elif line.strip().startswith("release ") and current is not None:
            release = _release(line)
    flush()
    return tuple(dict.fromkeys(found))


def distribution_files(files: tuple[AptPackageFile, ...]) -> set[tuple[str, str]]:
    """The package files of the distribution: those offering base-files, and those of the
    same release Origin (its security and updates suites)."""
    origins = {f.origin for f in files if f.serves_base and f.origin}
    return {(f.uri, f.dist) for f in files if f.serves_base or (f.origin and f.origin in origins)}


def parse_third_party(text: str, files: tuple[AptPackageFile, ...]) -> tuple[str, ...]:
    """Packages of an ``apt-cache policy PKG...`` text that a package file outside the
    distribution offers."""
    own = distribution_files(files)
    found: list[str] = []
    name = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            name = line.rstrip()[:-1]
        elif (package_file := _package_file(line)) is not None and package_file not in own \
                and name and name not in found:
            found.append(name)
    return tuple(found)


def parse_local(text: str, cached: set[str]) -> tuple[LocalPackage, ...]:
    """``apt list --installed`` lines marked ``local``: ``name/now 1.0-1 amd64 [...]``."""
    packages = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or "/" not in fields[0] or "local" not in fields[3]:
            continue
        name, version, arch = fields[0].split("/", 1)[0], fields[1], fields[2]
        deb = f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
        packages.append(LocalPackage(name, version, arch, deb if deb in cached else ""))
    return tuple(packages)


def parse_attributes(text: str) -> tuple[FileAttribute, ...]:
    found = []
    for line in text.splitlines():
        flags, _, path = line.partition(" ")
        path = path.strip()
        kept = "".join(f for f in "ia" if f in flags)
        if kept and path.startswith("/") and not path.endswith(("/.", "/..")):
            found.append(FileAttribute(path, kept))
    return tuple(dict.fromkeys(found))


def parse(text: str) -> HostState:
    """Parse the ``host_state`` section."""
    parts = split_parts(text)
    apt_files = parse_apt_files(first_part(parts, "apt-files"), first_part(parts, "apt-base"))
    cached = set(first_part(parts, "apt-cached").split())
    known = any(f.serves_base for f in apt_files)
    return HostState(
        locales=tuple(" ".join(line.split()) for line in first_part(parts, "locale-gen")
                      .splitlines() if line.strip() and not line.lstrip().startswith("#")),
        locale_settings=tuple(line.strip() for line in first_part(parts, "locale-default")
                              .splitlines() if "=" in line),
        apt_files=apt_files, apt_known=known,
        local_packages=parse_local(first_part(parts, "apt-local"), cached) if known else (),
        third_party=parse_third_party(first_part(parts, "apt-manual"), apt_files),
        attributes=parse_attributes(first_part(parts, "attributes")))


FACT = Fact(name="host_state", script=snippet("host_state"), parse=parse, default=HostState,
            timeout=120)
