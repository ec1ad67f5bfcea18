"""Fact family ``packages_deb``: installed dpkg packages, manual vs automatic.

Manual/automatic comes from apt's ``/var/lib/apt/extended_states`` (what
``apt-mark showauto`` reads). ``source_repo`` is not collected for dpkg yet: it
would need ``apt-cache policy`` per package.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts, stanzas
from evacuate.inventory.model import Package

# dpkg states whose files are on disk: installed, and on hold but installed.
_INSTALLED = ("ii", "hi")


def _auto_installed(text: str) -> set[tuple[str, str]]:
    auto: set[tuple[str, str]] = set()
    for block in stanzas(text):
        fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block)}
        if fields.get("Auto-Installed") == "1" and fields.get("Package"):
            auto.add((fields["Package"], fields.get("Architecture", "")))
    return auto


def parse(text: str) -> tuple[Package, ...]:
    """Parse the ``packages_deb`` section into installed packages, sorted by name."""
    parts = split_parts(text)
    auto = _auto_installed(first_part(parts, "extended-states"))
    auto_names = {name for name, _ in auto}
    packages = []
    for line in first_part(parts, "dpkg").splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or fields[0].strip()[:2] not in _INSTALLED:
            continue
        _, name, version, arch = fields
        # extended_states records arch-all packages under the native architecture,
        # so a name match on any architecture counts for them.
        is_auto = (name, arch) in auto or (arch == "all" and name in auto_names)
        packages.append(Package(name=name, version=version, arch=arch, manual=not is_auto))
    return tuple(sorted(packages, key=lambda p: (p.name, p.arch)))


FACT = Fact(name="packages_deb", script=snippet("packages_deb"), parse=parse, default=tuple, timeout=60)
