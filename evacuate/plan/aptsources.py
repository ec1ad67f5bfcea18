"""Which of the source's apt repositories are third-party (carried to the target with
their signing keys) and which are the distribution's own mirror (the target keeps its own).

Decided from what the host says about itself, not from host names: the distribution's
suites are those whose package files offer ``base-files`` (the base package every Debian
system has), and every package file of the same release Origin (e.g. "Debian": also the
security and updates suites). A repository without package lists on the source (never
updated) falls back on its suite and components: the host's codename (or codename-updates,
-security, -backports) with the distribution's own components only."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from evacuate.inventory import HostInventory
from evacuate.inventory.model import Repository
from evacuate.inventory.model_state import AptPackageFile
from evacuate.plan.model import PlanWarning
from evacuate.plan.state_model import AptKey, AptSource

OWN_COMPONENTS = {"main", "contrib", "non-free", "non-free-firmware"}
OWN_SUFFIXES = ("", "-updates", "-security", "-backports", "-proposed-updates", "/updates")
CARRIED_DIR = "/etc/apt/sources.list.d"
LEGACY_KEYRING = "/etc/apt/trusted.gpg"
LEGACY_CARRIED = "/etc/apt/trusted.gpg.d/evacuate-source-trusted.gpg"


def _files_of(repo: Repository, files: tuple[AptPackageFile, ...]) -> list[AptPackageFile]:
    uris = {u.rstrip("/") for u in repo.uris}
    found = []
    for package_file in files:
        if package_file.uri.rstrip("/") not in uris:
            continue
        suite = package_file.dist.split("/", 1)[0] if package_file.dist != "./" else "./"
        if any(s.rstrip("/") == suite.rstrip("/") or s == package_file.dist
               for s in repo.suites) or not repo.suites:
            found.append(package_file)
    return found


def is_own(repo: Repository, source: HostInventory) -> bool:
    """Whether ``repo`` is the distribution's own mirror on ``source``."""
    files = source.state.apt_files
    origins = {f.origin for f in files if f.serves_base and f.origin}
    mine = _files_of(repo, files)
    if mine:
        return any(f.serves_base or (f.origin and f.origin in origins) for f in mine)
    codename = source.os.codename
    return bool(codename) and bool(repo.suites) and all(
        s in {codename + x for x in OWN_SUFFIXES} for s in repo.suites) and \
        set(repo.components) <= OWN_COMPONENTS


def _line(repo: Repository) -> str:
    options = dict(repo.options)
    if repo.signed_by:
        options["signed-by"] = ",".join(repo.signed_by)
    opts = f"[{' '.join(f'{k}={v}' for k, v in options.items())}] " if options else ""
    return f"{repo.kind} {opts}{repo.uris[0]} {' '.join((*repo.suites, *repo.components))}\n"


def carried_sources(source: HostInventory, texts: Mapping[str, str],
                    warnings: list[PlanWarning]) -> tuple[tuple[AptSource, ...],
                                                           tuple[AptKey, ...]]:
    """The third-party repository files and the keys they need. A file that holds only
    third-party entries is carried byte for byte (``texts``: its content from the
    snapshot); a file that mixes them with the distribution's mirror gives its
    third-party one-line entries to ``evacuate-carried.list``."""
    repos = [r for r in source.package_sources.repositories
             if r.enabled and r.kind in ("deb", "deb-src")]
    by_file: dict[str, list[Repository]] = {}
    for repo in repos:
        by_file.setdefault(repo.file, []).append(repo)
    sources: list[AptSource] = []
    mixed: list[str] = []
    needed: set[str] = set()
    for path, entries in sorted(by_file.items()):
        third = [r for r in entries if not is_own(r, source)]
        if not third:
            continue
        needed.update(k for r in third for k in r.signed_by)
        name = posixpath.basename(path)
        if len(third) == len(entries) and path.startswith(CARRIED_DIR + "/") and path in texts:
            sources.append(AptSource(f"{CARRIED_DIR}/{name}", texts[path]))
        elif any("<inline key>" in r.signed_by for r in third):
            warnings.append(PlanWarning("apt-source", f"{path} mixes the distribution's "
                                        "mirror with a third-party repository whose key is "
                                        "inline: add that repository on the target by hand"))
        else:
            mixed.extend(_line(r) for r in third)
    if mixed:
        sources.append(AptSource(f"{CARRIED_DIR}/evacuate-carried.list",
                                 "# third-party entries carried by evacuate from the "
                                 "source's apt sources\n" + "".join(dict.fromkeys(mixed))))
    keys = []
    for keyring in source.package_sources.keyrings:
        unowned = {f.path for f in source.unowned_files.files}
        trusted = keyring.path.startswith("/etc/apt/trusted.gpg.d/") and keyring.path in unowned
        if keyring.path in needed or trusted:
            keys.append(AptKey(keyring.path, keyring.sha256, keyring.data_base64))
        elif keyring.path == LEGACY_KEYRING:  # the target may have its own: one beside it
            keys.append(AptKey(LEGACY_CARRIED, keyring.sha256, keyring.data_base64))
    known = {k.path for k in keys} | {LEGACY_KEYRING}
    for path in sorted(needed - known - {"<inline key>"}):
        warnings.append(PlanWarning("apt-key", f"the signing key {path} of a carried "
                                    "repository was not read on the source: apt on the "
                                    "target will refuse that repository until it is there"))
    return tuple(sources), tuple(keys)
