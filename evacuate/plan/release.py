"""Crossing a release: map the source's package names, unit names and release-bound config
paths onto what the target's release calls them. Pure: no I/O.

Debian puts versions into names where two of them may be installed side by side
(``postgresql-13``, ``mariadb-server-10.5``, ``php7.4-fpm``) and where a library's ABI
changed (``libssl1.1``, ``libperl5.32``, ``gcc-10-base``). A name the target's release does
not have is looked up there by its *stem* (the name with each version number replaced):
the highest version of the same stem not older than the source's wins, preferring the same
number of version parts (``python3.9`` → ``python3.11``, not ``python3``); then the
unversioned name (``mariadb-server-10.5`` → ``mariadb-server``, which bookworm ships
unversioned, where the release has no versioned sibling); then the 64-bit-time rename
of trixie (``libssl3`` → ``libssl3t64``).
A renamed server package carries its version into unit names and /etc paths
(``postgresql@13-main`` → ``postgresql@15-main``; ``/etc/postgresql/13/`` is the old
cluster's configuration, which the new major version does not read).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_VERSION_SUFFIX = re.compile(r"-?\d+(?:\.\d+)*$")


def stem(name: str) -> str:
    """``name`` with each version number replaced by ``#`` (``gcc-10-base`` → ``gcc-#-base``)."""
    return _NUMBER.sub("#", name)


def _numbers(name: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(part) for part in match.split(".")) for match in _NUMBER.findall(name))


def _shape(numbers: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    return tuple(len(n) for n in numbers)


def map_package_name(name: str, target_names: Collection[str]) -> str | None:
    """The name ``name`` has in the release whose package names are ``target_names``:
    itself when it is there, a renamed one (see the module's rules), or None."""
    if name in target_names:
        return name
    wanted = _numbers(name)
    if wanted:
        key = stem(name)
        siblings = [c for c in target_names if stem(c) == key]
        same_stem = [c for c in siblings if _numbers(c) >= wanted]
        same_shape = [c for c in same_stem if _shape(_numbers(c)) == _shape(wanted)]
        choice = same_shape or same_stem
        if choice:
            return max(choice, key=_numbers)
        unversioned = _VERSION_SUFFIX.sub("", name)
        # only where the release has no versioned sibling at all (an older one would be
        # what the unversioned name installs: never a downgrade)
        if not siblings and unversioned != name and unversioned in target_names:
            return unversioned
    if f"{name}t64" in target_names:
        return f"{name}t64"
    return None


@dataclass(frozen=True)
class VersionChange:
    """A versioned family whose version differs on the target, e.g. postgresql 13 → 15."""

    family: str  # the name before its version: postgresql, php
    old: str
    new: str


@dataclass(frozen=True)
class ReleaseMapping:
    """How the source's packages are called on the target's release."""

    kept: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (source name, target name)
    missing: tuple[str, ...] = ()
    changes: tuple[VersionChange, ...] = field(default=())

    @property
    def target_names(self) -> list[str]:
        """The packages to install on the target, in order, without duplicates."""
        names = [*self.kept, *(new for _old, new in self.renamed)]
        return sorted(set(names))


def map_packages(names: Iterable[str], target_names: Collection[str],
                 installed: Iterable[str] = ()) -> ReleaseMapping:
    """Map ``names`` (the packages to carry over) onto ``target_names``. ``installed``:
    every package of the source (also those installed as dependencies), whose renames
    reveal the version changes of server families (``postgresql-13`` → ``postgresql-15``)
    that unit names and config paths follow."""
    kept, renamed, missing = [], [], []
    for name in sorted(set(names)):
        mapped = map_package_name(name, target_names)
        if mapped is None:
            missing.append(name)
        elif mapped == name:
            kept.append(name)
        else:
            renamed.append((name, mapped))
    changes: dict[str, VersionChange] = {}
    for name in sorted({*installed, *names}):
        if name in target_names:
            continue
        mapped = map_package_name(name, target_names)
        change = _version_change(name, mapped) if mapped else None
        if change is not None and change.family not in changes:
            changes[change.family] = change
    return ReleaseMapping(tuple(kept), tuple(renamed), tuple(missing),
                          tuple(changes[f] for f in sorted(changes)))


_FAMILY = re.compile(r"^([a-z][a-z-]*?)-?(\d+(?:\.\d+)*)$")


def _version_change(old: str, new: str) -> VersionChange | None:
    """A server family's version change: only names that are ``family[-]VERSION`` exactly
    (postgresql-13, php7.4), not libraries with a version inside (libperl5.32)."""
    before, after = _FAMILY.match(old), _FAMILY.match(new)
    if not before or not after or before.group(1) != after.group(1):
        return None
    family = before.group(1)
    if family.startswith("lib") or family.endswith("-base") or before.group(2) == after.group(2):
        return None
    return VersionChange(family, before.group(2), after.group(2))


def map_unit(unit: str, changes: Iterable[VersionChange]) -> str:
    """The unit's name on the target: ``postgresql@13-main.service`` → ``postgresql@15-main
    .service`` when postgresql went 13 → 15, ``php7.4-fpm.service`` → ``php8.2-fpm.service``."""
    for change in changes:
        pattern = re.compile(rf"^({re.escape(change.family)}[@-]?){re.escape(change.old)}(?=\D|$)")
        found = pattern.match(unit)
        if found:
            return found.group(1) + change.new + unit[found.end():]
    return unit


def release_bound(path: str, changes: Iterable[VersionChange]) -> VersionChange | None:
    """The version change that makes ``path`` another version's configuration (e.g.
    /etc/postgresql/13/main/postgresql.conf when postgresql went 13 → 15), or None."""
    for change in changes:
        if path.startswith(f"/etc/{change.family}/{change.old}/"):
            return change
    return None


def changes_between(source_installed: Iterable[str], target_installed: Collection[str]
                    ) -> tuple[VersionChange, ...]:
    """The version changes between two hosts' installed packages (for verify)."""
    return map_packages((), target_installed, source_installed).changes
