"""Enable-symlink farms: directories whose symlinks say what is enabled (Apache's and
nginx's *-enabled, systemd's *.wants/*.requires). A package install on the target enables
what its maintainer scripts enable (nginx's default site, Apache's confs, a service):
the farm on the target must end up as the source's, whatever the packages did.

Keyed on the source's snapshot (the symlinks it holds) and inventory (the units it knows):
a web server's farm is mirrored exactly where the source has that directory; a systemd
farm only for the units the source has installed, so the target's own units (network,
cloud agents) keep their state."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from evacuate.inventory import HostInventory
from evacuate.plan.state_model import Farm, FarmLink
from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.scan import decode_path

WEB_FARMS = ("/etc/apache2/conf-enabled", "/etc/apache2/mods-enabled",
             "/etc/apache2/sites-enabled", "/etc/nginx/sites-enabled",
             "/etc/nginx/modules-enabled", "/etc/php/*/*/conf.d")
# Debian's apache2 maintainer state: who enabled or disabled each module, conf and site
# (a2enmod & co. keep empty marker files here; see plan.state_model.Farm)
APACHE_MARKERS = "/var/lib/apache2/*/*_by_*"
# the units' enablement, and (directly in /etc/systemd/system) their aliases and masks
UNIT_FARMS = ("/etc/systemd/system/*.wants", "/etc/systemd/system/*.requires",
              "/etc/systemd/system")
# The target's own plumbing and the operator's access stay as the target has them.
TARGET_UNITS = ("ssh*", "systemd-*", "getty*", "serial-getty*", "console-getty*",
                "networking*", "ifup*", "cloud-*", "qemu-guest-agent*", "*-guest-*",
                "dbus*", "rescue*", "emergency*")


def _text(path: str) -> str:
    return decode_path(path).decode("utf-8", "surrogateescape")


def _target_own(unit: str) -> bool:
    return any(fnmatch.fnmatchcase(unit, p) for p in TARGET_UNITS)


def _links(files: Iterable[FileEntry], pattern: str) -> tuple[FarmLink, ...]:
    depth = pattern.count("/") + 1
    found = []
    for entry in files:
        if entry.kind != "symlink" or entry.path.count("/") != depth:
            continue
        directory, _, name = _text(entry.path).rpartition("/")
        if fnmatch.fnmatchcase(directory, pattern):
            found.append(FarmLink(directory, name, _text(entry.link_target or "")))
    return tuple(sorted(found, key=lambda k: (k.directory, k.name)))


def plan_farms(source: HostInventory, files: Iterable[FileEntry]) -> tuple[Farm, ...]:
    entries = list(files)
    dirs = {e.path for e in entries if e.kind == "dir"}
    # a web farm per directory the source has (the target's package may add its own)
    farms = [Farm(d, _links(entries, d)) for pattern in WEB_FARMS
             for d in sorted(d for d in dirs if fnmatch.fnmatchcase(d, pattern)
                             and d.count("/") == pattern.count("/"))]
    if "/var/lib/apache2" in dirs:
        split = sorted(_text(e.path).rsplit("/", 1) for e in entries
                       if e.kind == "file" and e.path.count("/") == 6)
        markers = tuple(FarmLink(d, name, "") for d, name in split
                        if fnmatch.fnmatchcase(d, APACHE_MARKERS))
        farms.append(Farm(APACHE_MARKERS, markers, markers=True))
    if "/etc/systemd/system" in dirs:
        units = sorted({*(u.name for u in source.services), *(u.name for u in source.timers),
                        *(u.name for u in source.sockets)})
        for pattern in UNIT_FARMS:
            links = tuple(k for k in _links(entries, pattern) if not _target_own(k.name)
                          and not _target_own(k.target.rsplit("/", 1)[-1]))
            units = [u for u in units if not _target_own(u)]
            managed = sorted({*units, *(k.name for k in links)})
            farms.append(Farm(pattern, links, exact=False, managed=tuple(managed)))
    return tuple(farms)
