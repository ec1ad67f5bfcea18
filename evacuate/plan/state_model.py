"""What a rebuild must set on the target besides copying files: the enable-symlink farms,
sysctl files to apply, directories whose mode and owner must be the source's, carried
apt repositories and keys, locales, file attributes, and packages carried as .debs.
Pure data, part of the RebuildPlan (see plan.hoststate for how it is chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evacuate.snapshot.manifest import PackageMode


@dataclass(frozen=True)
class FarmLink:
    directory: str
    name: str
    target: str


@dataclass(frozen=True)
class Farm:
    """A directory of enable symlinks (``pattern`` may be a glob such as
    ``/etc/systemd/system/*.wants``). On the target each one holds exactly ``links``:
    missing ones are created, other symlinks removed: all of them when ``exact``, else
    only those whose name or target's name is in ``managed`` (units the source knows: the
    target's own units, unknown to the source, stay as they are). A farm of ``markers``
    holds empty regular files instead of symlinks (``target`` ""): Debian's apache2
    records in /var/lib/apache2/<kind>/<state>_by_<who>/<name> who enabled or disabled
    what, and a2enmod/a2enconf/a2ensite run by a package's maintainer script
    (``--maintmode``) leave alone what has a ``disabled_by_admin`` marker: the markers go
    with the links."""

    pattern: str
    links: tuple[FarmLink, ...] = ()
    exact: bool = True
    managed: tuple[str, ...] = ()
    markers: bool = False


@dataclass(frozen=True)
class AptSource:
    """A repository file written on the target before the packages are installed:
    ``path`` under /etc/apt/sources.list.d, ``content`` the source's bytes (or the
    third-party lines of a file that also names the distribution's mirror)."""

    path: str
    content: str


@dataclass(frozen=True)
class AptKey:
    path: str
    sha256: str
    data_base64: str


@dataclass(frozen=True)
class CarriedDeb:
    """A package no repository offers, installed on the target from the snapshot's .deb."""

    name: str
    version: str
    arch: str


@dataclass(frozen=True)
class StatePlan:
    farms: tuple[Farm, ...] = ()
    sysctl_files: tuple[str, ...] = ()
    apt_sources: tuple[AptSource, ...] = ()
    apt_keys: tuple[AptKey, ...] = ()
    locales: tuple[str, ...] = ()
    locale_settings: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()  # (path, flags "i"/"a")
    debs: tuple[CarriedDeb, ...] = ()
    # package files whose mode or owner changed after their install (snapshot.package_modes)
    package_modes: tuple[PackageMode, ...] = ()


def state_from_json(data: dict[str, Any] | None) -> StatePlan:
    if not data:
        return StatePlan()
    return StatePlan(
        farms=tuple(Farm(f["pattern"], tuple(FarmLink(**k) for k in f["links"]), f["exact"],
                         tuple(f["managed"]), f.get("markers", False))
                    for f in data.get("farms", ())),
        sysctl_files=tuple(data.get("sysctl_files", ())),
        apt_sources=tuple(AptSource(**s) for s in data.get("apt_sources", ())),
        apt_keys=tuple(AptKey(**k) for k in data.get("apt_keys", ())),
        locales=tuple(data.get("locales", ())),
        locale_settings=tuple(data.get("locale_settings", ())),
        attributes=tuple((a[0], a[1]) for a in data.get("attributes", ())),
        debs=tuple(CarriedDeb(**d) for d in data.get("debs", ())),
        package_modes=tuple(PackageMode(**m) for m in data.get("package_modes", ())))
