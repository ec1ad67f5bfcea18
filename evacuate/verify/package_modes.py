"""Verify the package files whose mode or owner the source's admin changed (the snapshot's
``package_modes``, see evacuate.snapshot.package_modes): each has the source's mode, user
and group on the target. One ``stat`` over all of them."""

from __future__ import annotations

from evacuate.snapshot.manifest import PackageMode, SnapshotManifest
from evacuate.snapshot.scan import decode_path, encode_path
from evacuate.transport.base import Transport
from evacuate.verify.model import Check, judged, not_verified

# mode in octal (with setuid/setgid/sticky), owner and group names, file type, name
STAT = ["xargs", "-0", "-r", "stat", "--printf", "%a\\t%U\\t%G\\t%F\\t%n\\0", "--"]
REGULAR = ("regular file", "regular empty file")
NAME = "package files' mode and owner"
SHOWN = 10


def _describe(mode: int, user: str, group: str) -> str:
    return f"{mode:04o} {user}:{group}"


def parse_stat(raw: bytes) -> dict[str, tuple[int, str, str, str]]:
    """STAT's records by path (text, as scan.encode_path gives it): mode, user, group and
    file type."""
    found: dict[str, tuple[int, str, str, str]] = {}
    for record in raw.split(b"\0"):
        fields = record.split(b"\t", 4)
        if len(fields) != 5:
            continue
        try:
            mode = int(fields[0], 8)
        except ValueError:
            continue
        found[encode_path(fields[4])] = (mode, fields[1].decode(errors="replace"),
                                         fields[2].decode(errors="replace"),
                                         fields[3].decode(errors="replace"))
    return found


def compare_package_modes(modes: tuple[PackageMode, ...],
                          found: dict[str, tuple[int, str, str, str]]) -> list[Check]:
    """One check over ``modes`` against the target's ``found``: passes when every file
    there has the source's mode, user and group; the files the target does not have as
    regular files (its release's package does not install them) are *not verified*."""
    if not modes:
        return []
    differ: list[str] = []
    absent: list[str] = []
    for want in modes:
        have = found.get(want.path)
        if have is None or have[3] not in REGULAR:
            absent.append(want.path)
        elif have[:3] != (want.mode, want.user, want.group):
            differ.append(f"{want.path}: {_describe(want.mode, want.user, want.group)} → "
                          f"{_describe(*have[:3])}")
    compared = len(modes) - len(absent)
    checks = [judged(not differ, "config", NAME, f"{compared} files as on the source",
                     f"{compared - len(differ)} as on the source",
                     ("; ".join(differ[:SHOWN]) + (f"; and {len(differ) - SHOWN} more"
                                                   if len(differ) > SHOWN else ""))
                     if differ else "package files whose mode or owner the source's admin "
                     "changed after installing them")] if compared else []
    if absent:
        checks.append(not_verified("config", f"{NAME} (not on the target)",
                                   f"{len(absent)} package files of the source are not regular "
                                   "files on the target (its packages do not install them): "
                                   + ", ".join(absent[:SHOWN])))
    return checks


def check_package_modes(manifest: SnapshotManifest, target: Transport) -> list[Check]:
    """Read the target's mode and owner of the snapshot's ``package_modes`` and compare."""
    if not manifest.package_modes:
        return []
    listing = b"".join(decode_path(m.path) + b"\0" for m in manifest.package_modes)
    result = target.run(STAT, input=listing, timeout=300)  # 123: some are missing
    return compare_package_modes(manifest.package_modes, parse_stat(result.stdout))
