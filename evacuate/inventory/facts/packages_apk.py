"""Fact family ``packages_apk``: installed Alpine packages from apk's database
(/lib/apk/db/installed: ``P:`` name, ``V:`` version, ``A:`` arch stanzas);
``manual`` means named in /etc/apk/world."""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts, stanzas
from evacuate.inventory.model import Package

# A world entry is a name with an optional version constraint or @repository tag.
_WORLD_NAME_RE = re.compile(r"^([^<>=~@!]+)")


def parse(text: str) -> tuple[Package, ...]:
    """Parse the ``packages_apk`` section, sorted by name."""
    parts = split_parts(text)
    world = set()
    for entry in first_part(parts, "world").split():
        match = _WORLD_NAME_RE.match(entry)
        if match:
            world.add(match.group(1))
    packages = []
    for block in stanzas(first_part(parts, "installed")):
        fields = {line[:1]: line[2:] for line in block if line[1:2] == ":"}
        if fields.get("P") and fields.get("V"):
            packages.append(Package(name=fields["P"], version=fields["V"],
                                    arch=fields.get("A", ""), manual=fields["P"] in world))
    return tuple(sorted(packages, key=lambda p: p.name))


FACT = Fact(name="packages_apk", script=snippet("packages_apk"), parse=parse, default=tuple, timeout=30)
