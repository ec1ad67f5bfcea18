"""Fact family ``conffiles``: dpkg conffiles whose content the admin changed.

The host prints every conffile with its shipped md5 and the md5 of the file on
disk; the comparison happens here. Obsolete conffiles are ignored. Only the list
is collected here; evacuate.inventory.conffile_diffs adds the diffs in a second round trip.
"""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts
from evacuate.inventory.model import ChangedConffile

_MD5_RE = re.compile(r"^[0-9a-f]{32}$")


def parse(text: str) -> tuple[ChangedConffile, ...]:
    """Parse the ``conffiles`` section into the changed or deleted conffiles."""
    parts = split_parts(text)
    actual: dict[str, str] = {}
    for line in first_part(parts, "md5sum").splitlines():
        digest, sep, path = line.partition("  ")
        if sep and _MD5_RE.match(digest):
            actual[path] = digest
    changed = []
    package = ""
    for line in first_part(parts, "conffiles").splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            package = line.strip()
            continue
        fields = line.split()
        if len(fields) < 2 or "obsolete" in fields[2:] or not _MD5_RE.match(fields[1]):
            continue
        path, expected = fields[0], fields[1]
        found = actual.get(path)
        if found != expected:
            changed.append(ChangedConffile(path=path, package=package,
                                           expected_md5=expected, actual_md5=found))
    return tuple(sorted(changed, key=lambda c: c.path))


FACT = Fact(name="conffiles", script=snippet("conffiles"), parse=parse, default=tuple, timeout=90)
