"""Fact family ``packages_rpm``: installed rpm packages (RHEL, Fedora, Rocky, Alma).

``manual`` comes from ``dnf repoquery --userinstalled`` (from the local cache,
``-C``); where dnf cannot answer, every package counts as manual, which is the
safe side for a rebuild. ``gpg-pubkey`` pseudo-packages are skipped.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import Package


def parse(text: str) -> tuple[Package, ...]:
    """Parse the ``packages_rpm`` section; version is ``[epoch:]version-release``."""
    rows: list[tuple[str, str, str]] = []
    user_installed: set[str] | None = None
    for part in split_parts(text):
        if part.kind == "rpm":
            for line in part.text.splitlines():
                fields = line.split("\t")
                if len(fields) != 4 or fields[0] == "gpg-pubkey":
                    continue
                name, epoch, version, arch = fields
                if epoch not in ("(none)", "", "0"):
                    version = f"{epoch}:{version}"
                rows.append((name, version, arch))
        elif part.kind == "userinstalled":
            names = {line.strip() for line in part.text.splitlines() if line.strip()}
            user_installed = names or None
    packages = [
        Package(name=name, version=version, arch=arch,
                manual=user_installed is None or name in user_installed)
        for name, version, arch in rows
    ]
    return tuple(sorted(packages, key=lambda p: (p.name, p.arch)))


FACT = Fact(name="packages_rpm", script=snippet("packages_rpm"), parse=parse, default=tuple, timeout=90)
