"""Verifying across a release change (the target runs a newer Debian than the source did):
what is expected to differ, so that verify names it instead of failing on it.

The expected differences: packages renamed by the new release (``libssl1.1`` →
``libssl3``) or absent from its package sources (which the plan reported); units and
listeners following a server's new version (``postgresql@13-main`` → ``postgresql@15-main``);
the old version's configuration (``/etc/postgresql/13/``), which the new one does not read;
system accounts the new release's packages no longer create; packaged files the admin never
changed (``/etc/sudoers``, ``/etc/crontab``), which are each release's own default; and
directories the new version's packages create under a data root (``/usr/local/lib/python3.11``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from evacuate.inventory.model import HostInventory
from evacuate.plan.release import VersionChange, changes_between, map_package_name, map_unit


def release_of(inventory: HostInventory) -> str:
    return inventory.os.pretty_name or f"{inventory.os.id} {inventory.os.version_id}".strip()


@dataclass(frozen=True)
class Crossing:
    source_release: str
    target_release: str
    changes: tuple[VersionChange, ...]
    target_packages: frozenset[str]
    unavailable: frozenset[str]  # not in the target's package sources under any name
    admin_files: frozenset[str]  # changed conffiles and files no package owns, on the source

    @property
    def label(self) -> str:
        return f"{self.source_release} → {self.target_release}"

    def renamed(self, package: str) -> str | None:
        """The installed package of the target that ``package`` became, or None."""
        mapped = map_package_name(package, self.target_packages)
        return mapped if mapped != package else None

    def unit(self, name: str) -> str:
        return map_unit(name, self.changes)

    def old_version_config(self, path: str) -> VersionChange | None:
        for change in self.changes:
            if path.startswith(f"/etc/{change.family}/{change.old}/"):
                return change
        return None

    def packaged_default(self, path: str) -> bool:
        """Whether ``path`` is a packaged file the admin never changed on the source."""
        return path not in self.admin_files

    def new_version_path(self, path: str) -> bool:
        """Whether ``path`` is made by the new version of a renamed family (python3.11's
        /usr/local/lib/python3.11 and /var/lib/python/python3.11_installed, postgresql 15's
        cluster under /var/lib/postgresql/15)."""
        parts = path.split("/")
        return any(f"/{c.family}/{c.new}/" in f"{path}/"
                   or any(re.fullmatch(rf"{re.escape(c.family + c.new)}([^0-9].*)?", part)
                          for part in parts)
                   for c in self.changes)


def crossing_of(source: HostInventory, target: HostInventory,
                unavailable: Collection[str] = ()) -> Crossing | None:
    """The release change between ``source`` and ``target``, or None on the same release."""
    if (source.os.id, source.os.version_id) == (target.os.id, target.os.version_id):
        return None
    installed = frozenset(p.name for p in target.packages)
    admin = frozenset({c.path for c in source.changed_conffiles}
                      | {f.path for f in source.unowned_files.files})
    return Crossing(release_of(source), release_of(target),
                    changes_between((p.name for p in source.packages), installed), installed,
                    frozenset(unavailable), admin)


def missing_packages(source: HostInventory, target: HostInventory) -> list[str]:
    """The source's manual packages the target has under no name (to ask its sources)."""
    installed = {p.name for p in target.packages}
    return sorted(p.name for p in source.packages if p.manual and p.name not in installed
                  and map_package_name(p.name, installed) is None)
