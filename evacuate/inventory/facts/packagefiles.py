"""Fact family ``packagefiles``: files that packages installed and the admin changed since
(content differs from dpkg's md5sums; conffiles are the ``conffiles`` family's), and the
packages that have files but no md5sums (their files cannot be checked: a warning).

Only files changed after their package's installation are hashed (see sh/packagefiles.sh):
a later mtime than the package's file list, or a later ctime than the list's mtime and
ctime (a patch whose old mtime was put back with ``cp -p`` or ``touch -r`` is found by its
ctime). The times come from one ``find`` and one ``awk`` choose: on this controller
(95,000 package files) 2.6 s where the earlier per-file sh loop, which looked at the mtime
only, took 4.4 s; ``dpkg --verify`` reads every file.
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, split_parts, to_int
from evacuate.inventory.model import ChangedPackageFile, PackageFiles


def parse(text: str) -> PackageFiles:
    """Parse ``changed|unreadable<TAB>package<TAB>path`` lines, the ``nomd5`` part's
    package names and ``checked=N``."""
    changed: list[ChangedPackageFile] = []
    unreadable: list[ChangedPackageFile] = []
    without: list[str] = []
    checked = 0
    for part in split_parts(text):
        for line in part.text.splitlines():
            if part.kind == "nomd5" and line.strip():
                without.append(line.strip())
            elif part.kind == "changed" and line.startswith("checked="):
                checked = to_int(line[8:], 0) or 0
            elif part.kind == "changed":
                fields = line.split("\t", 2)
                if len(fields) == 3 and fields[2].startswith("/"):
                    item = ChangedPackageFile(path=fields[2], package=fields[1])
                    (changed if fields[0] == "changed" else unreadable).append(item)
    return PackageFiles(changed=tuple(sorted(changed, key=lambda c: c.path)),
                        unreadable=tuple(sorted(unreadable, key=lambda c: c.path)),
                        without_md5sums=tuple(sorted(set(without))), checked=checked)


FACT = Fact(name="packagefiles", script=snippet("packagefiles"), parse=parse,
            default=PackageFiles, timeout=300)
