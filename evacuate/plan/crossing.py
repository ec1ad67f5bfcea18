"""The plan's part of crossing a release (source on an older Debian than the target): which
names to install instead of the source's, how units and config paths follow the new
versions, and the warnings a sysadmin must read first. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from evacuate.inventory import HostInventory
from evacuate.plan.model import PlanWarning
from evacuate.plan.release import VersionChange, map_packages, map_unit, release_bound

ENGINE_PACKAGES = {"postgresql": "postgresql", "mariadb": "mariadb-server", "mysql": "mariadb-server"}
"""The package whose candidate version tells a database engine's version on the target."""


@dataclass(frozen=True)
class Crossing:
    """``install``: names to install instead of the unavailable ones; ``missing``: what the
    target's release has under no name."""

    install: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    changes: tuple[VersionChange, ...] = ()
    warnings: list[PlanWarning] = field(default_factory=list)


def cross_release(source: HostInventory, unavailable: Iterable[str],
                  target_names: Collection[str] | None, release: str) -> Crossing:
    """Map the manual packages the target does not offer under their own name onto
    ``target_names`` (every package the target's sources offer; None: unknown, nothing is
    mapped). ``release``: the target's release, for the messages."""
    missing = sorted(set(unavailable))
    if not target_names:
        return Crossing(missing=tuple(missing))
    mapping = map_packages(missing, target_names, (p.name for p in source.packages))
    warnings = []
    if mapping.renamed:
        pairs = ", ".join(f"{old} → {new}" for old, new in mapping.renamed)
        warnings.append(PlanWarning("package-renamed", f"renamed in {release}: {pairs} "
                                    "(installed under the new names)", "info"))
    # a name the lists know without a candidate (pinned away) stays missing
    lost = sorted({*mapping.missing, *mapping.kept})
    return Crossing(tuple(sorted({new for _old, new in mapping.renamed})), tuple(lost),
                    mapping.renamed, mapping.changes, warnings)


def map_units(units: Iterable[str], changes: Iterable[VersionChange]) -> list[str]:
    changes = tuple(changes)
    return sorted({map_unit(u, changes) for u in units})


def warn_units(units: Iterable[str], changes: Iterable[VersionChange],
               warnings: list[PlanWarning]) -> None:
    changes = tuple(changes)
    pairs = sorted({(u, map_unit(u, changes)) for u in units if map_unit(u, changes) != u})
    if pairs:
        warnings.append(PlanWarning("service-renamed", "units follow the new versions: "
                                    + ", ".join(f"{a} → {b}" for a, b in pairs), "info"))


def carried_config(paths: Iterable[str], changes: Iterable[VersionChange],
                   warnings: list[PlanWarning]) -> list[str]:
    """``paths`` minus another version's configuration (``/etc/postgresql/13/…`` for a
    PostgreSQL 15 target), which is warned about: the new version starts from its own."""
    changes = tuple(changes)
    kept: list[str] = []
    left_by: dict[VersionChange, list[str]] = {}
    for path in paths:
        change = release_bound(path, changes)
        if change is None:
            kept.append(path)
        else:
            left_by.setdefault(change, []).append(path)
    for change, files in sorted(left_by.items(), key=lambda item: item[0].family):
        if change.family == "postgresql":  # see evacuate.rebuild.pgcarry
            warnings.append(PlanWarning("config-release", f"postgresql {change.old} → "
                                        f"{change.new}: {', '.join(files)} belong to "
                                        f"{change.old}; its pg_hba.conf, pg_ident.conf and the "
                                        f"settings {change.new} knows and has otherwise are "
                                        f"carried into {change.new}'s cluster by the files "
                                        "step (the run lists them)"))
            continue
        warnings.append(PlanWarning("config-release", f"{change.family} {change.old} → "
                                    f"{change.new}: {', '.join(files)} belong to {change.old} and "
                                    f"are not carried over; {change.new} starts from the "
                                    "target's defaults: carry your changes over by hand"))
    return kept


def warn_conffiles(source: HostInventory, carried: Collection[str], source_os: str,
                   target_os: str, warnings: list[PlanWarning]) -> None:
    """Changed conffiles are carried over as they are: the newer packages' defaults may
    differ (new options, removed ones)."""
    paths = sorted(c.path for c in source.changed_conffiles if c.path in carried)
    if paths:
        warnings.append(PlanWarning("conffile-release", f"{len(paths)} configuration files "
                                    f"changed on {source_os} replace {target_os}'s packaged "
                                    f"versions: {', '.join(paths)}; compare them with the "
                                    "new defaults ('evacuate inventory --fetch-defaults' shows "
                                    "what was changed from the old ones)"))


def _engine_version(engine: str, candidate: str | None) -> str:
    if not candidate:
        return ""
    version = candidate.split(":", 1)[-1]
    if engine == "postgresql":  # the metapackage: 15+248
        return version.split("+", 1)[0]
    return re.split(r"[-+~]", version, maxsplit=1)[0]


def _major(version: str, parts: int) -> str:
    return ".".join(version.split(".")[:parts])


def _plain(version: str) -> str:
    """``13.16 (Debian 13.16-0+deb11u1)`` → 13.16, ``10.5.23-MariaDB-0+deb11u1`` → 10.5.23."""
    found = re.match(r"\d+(?:\.\d+)*", version.strip())
    return found.group(0) if found else version


def warn_engines(source: HostInventory, available: Mapping[str, str | None],
                 warnings: list[PlanWarning]) -> None:
    """A database engine whose (major) version differs on the target: its data moves as
    logical dumps, which the newer server loads."""
    for server in source.databases:
        package = ENGINE_PACKAGES.get(server.engine)
        new = _engine_version(server.engine, available.get(package or ""))
        old = _plain(server.version)
        if not old or not new:
            continue
        parts = 1 if server.engine == "postgresql" else 2
        if _major(old, parts) != _major(new, parts):
            warnings.append(PlanWarning("database-upgrade", f"{server.engine} {old} → {new}: "
                                        f"the databases move as dumps from {old}, loaded by "
                                        f"{new}; check extensions and the applications' queries"))
