"""Inventory model, host state that is not a file to copy: generated locales, where the
installed packages come from (apt's package files and their release origins), and file
attributes (re-exported by evacuate.inventory.model)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AptPackageFile:
    """One of apt's package files (``apt-cache policy``): ``uri`` and ``dist`` as apt
    prints them (``http://deb.debian.org/debian`` ``bookworm/main``, or ``./`` for a flat
    repository), the release's Origin (o=) and Label (l=), and whether it offers a
    version of ``base-files``, the distribution's own base package."""

    uri: str
    dist: str
    origin: str = ""
    label: str = ""
    serves_base: bool = False


@dataclass(frozen=True)
class LocalPackage:
    """An installed package whose installed version no package source offers (installed
    by hand from a .deb); ``cached``: the file name of its .deb in apt's cache, if there."""

    name: str
    version: str
    arch: str
    cached: str = ""


@dataclass(frozen=True)
class FileAttribute:
    """A file with attributes that change what even root can do: ``flags`` holds ``i``
    (immutable) and/or ``a`` (append only)."""

    path: str
    flags: str


@dataclass(frozen=True)
class HostState:
    locales: tuple[str, ...] = ()  # enabled /etc/locale.gen lines, e.g. "de_DE.UTF-8 UTF-8"
    locale_settings: tuple[str, ...] = ()  # /etc/default/locale assignments, e.g. LANG=C.UTF-8
    apt_files: tuple[AptPackageFile, ...] = ()
    apt_known: bool = False  # apt had package lists: local_packages can be trusted
    local_packages: tuple[LocalPackage, ...] = ()
    third_party: tuple[str, ...] = ()  # manual packages a third-party repository offers
    attributes: tuple[FileAttribute, ...] = ()
