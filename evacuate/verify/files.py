"""Files on the target against the snapshot's manifest: configuration files under /etc
(content) and the data trees (count, size, type, mode, owner and group by name, link
targets, and content for a sample).

The target is read in one round trip: the snapshot's own ``find -printf`` scan of the data
roots, then ``sha256sum -z`` over a NUL-separated list of paths sent on stdin. Everything
else here is pure.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fnmatch import fnmatchcase

from evacuate.inventory.model import HostInventory
from evacuate.inventory.model_containers import Containers
from evacuate.plan.selection import DATA_DENY, ETC_DENY, denied
from evacuate.snapshot.exclusion import engine_storage as engine_storage_of
from evacuate.snapshot.manifest import FileEntry, SnapshotManifest
from evacuate.snapshot.restore import RESTORED_STAMP
from evacuate.snapshot.scan import (
    ScannedEntry,
    decode_path,
    encode_path,
    parse_scan,
    scan_command,
)
from evacuate.transport.base import Transport
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, failed, judged, not_verified, passed, skipped

CONFIG_IGNORED = (
    "/etc/hostname", "/etc/hosts", "/etc/machine-id", "/etc/fstab",
    "/etc/mtab", "/etc/resolv.conf", "/etc/adjtime", "/etc/ld.so.cache", "/etc/.pwd.lock",
    "/etc/ssh/ssh_host_*",  # a rebuilt host has its own host keys
    "/etc/ssl/certs/ssl-cert-snakeoil.pem", "/etc/ssl/private/ssl-cert-snakeoil.key",
    "/etc/mysql/debian.cnf",  # a maintenance password generated per installation
    "/etc/apt/sources.list", "/etc/apt/sources.list.d/*",  # the new hoster's mirror
    "/etc/passwd*", "/etc/shadow*", "/etc/group*", "/etc/gshadow*",  # compared as accounts
    "/etc/subuid*", "/etc/subgid*", "/etc/security/opasswd",
)
"""Files under /etc that belong to the machine, never compared by content."""

DEFAULT_SAMPLE = 2000
MAX_LISTED = 20  # differing files reported one by one per data root; the rest are counted


@dataclass(frozen=True)
class TargetFiles:
    """What the target has: scanned entries by path (text, see scan.encode_path) and the
    SHA-256 of each path that was asked for and could be read."""

    entries: dict[str, ScannedEntry] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    restored_at: str | None = None  # mtime of RESTORED_STAMP (find's %T@), None without one

    def written_since_restore(self, entry: ScannedEntry) -> bool:
        """Whether ``entry`` last changed (ctime, which a restore cannot set) after the
        target's data restore finished."""
        if not self.restored_at:
            return False
        try:
            return Decimal(entry.ctime) > Decimal(self.restored_at)
        except ArithmeticError:
            return False


def not_restored(path: str) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in DATA_DENY)


def config_ignored(path: str) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in CONFIG_IGNORED)


def config_paths(source: HostInventory, manifest: SnapshotManifest | None = None) -> list[str]:
    """The configuration files to compare: changed conffiles and unowned files under /etc;
    for a snapshot chosen by exclusion also every carried file outside its data trees
    (changed package files, unowned files under /usr...), compared by content alike."""
    paths = {c.path for c in source.changed_conffiles}
    paths |= {f.path for f in source.unowned_files.files if f.path.startswith("/etc/")}
    if manifest is not None and manifest.rules:
        roots = data_roots(manifest)
        paths |= {e.path for e in manifest.files if e.kind == "file" and not e.hardlink_to
                  and not e.path.startswith("/etc/") and not any(under(e.path, r) for r in roots)
                  and not denied(e.path, ETC_DENY)}
    return sorted(p for p in paths if not config_ignored(p))


def data_roots(manifest: SnapshotManifest) -> list[str]:
    """The snapshot's roots except /etc (whose files are compared as configuration)."""
    return [r for r in manifest.roots if r != "/etc" and not r.startswith("/etc/")]


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def content_hashes(manifest: SnapshotManifest) -> dict[str, str]:
    """path → sha256 for every regular file of the manifest (hard links resolved)."""
    hashes = {f.path: f.sha256 for f in manifest.files if f.sha256}
    for entry in manifest.files:
        if entry.hardlink_to and entry.hardlink_to in hashes:
            hashes[entry.path] = hashes[entry.hardlink_to]
    return hashes


def choose_sample(paths: Sequence[str], size: int, full: bool) -> list[str]:
    """All ``paths`` when ``full`` or when they are at most ``size``; otherwise ``size`` of
    them, spread over the trees by a stable hash of the path (same sample every run)."""
    if full or len(paths) <= size:
        return list(paths)
    return sorted(sorted(paths, key=lambda p: hashlib.sha256(decode_path(p)).digest())[:size])


def file_facts_script(roots: Sequence[str], excludes: Sequence[str], marker: str) -> str:
    """sh program: print the mtime of RESTORED_STAMP (if any), ``marker`` and NUL; scan
    ``roots`` (records as scan.parse_scan reads them), ``marker`` and NUL again; then
    ``sha256sum -z`` every NUL-separated path on stdin (unreadable ones are left out)."""
    return (f"find {RESTORED_STAMP} -maxdepth 0 -printf '%T@' 2>/dev/null\n"
            f"printf '%s\\0' {marker}\n"
            f"{scan_command(roots, excludes)}\nprintf '%s\\0' {marker}\n"
            "xargs -0 -r sha256sum -z -- 2>/dev/null\nexit 0\n")


def parse_file_facts(raw: bytes, marker: str) -> TargetFiles:
    """Parse the output of :func:`file_facts_script`; raise ValueError if it is cut short."""
    stamp, sep, rest = raw.partition(marker.encode() + b"\0")
    scan, sep2, sums = rest.partition(marker.encode() + b"\0")
    if not (sep and sep2):
        raise ValueError("the file scan did not finish (no end marker)")
    entries = {e.name: e for e in parse_scan(scan)}
    hashes = {}
    for record in sums.split(b"\0"):
        if len(record) > 66 and record[64:66] == b"  ":
            hashes[encode_path(record[66:])] = record[:64].decode()
    return TargetFiles(entries, hashes, stamp.decode().strip() or None)


def read_target_files(transport: Transport, manifest: SnapshotManifest, hash_paths: Sequence[str],
                      timeout: float = 1800) -> TargetFiles:
    """Scan the data roots on the target and hash ``hash_paths``, in one round trip."""
    marker = f"--evacuate-verify-{secrets.token_hex(8)}--"
    script = file_facts_script(data_roots(manifest), manifest.excludes, marker)
    paths = b"".join(decode_path(p) + b"\0" for p in hash_paths)
    result = transport.run(["sh", "-c", script], input=paths, timeout=timeout, check=True)
    return parse_file_facts(result.stdout, marker)


def _other_release(check: Check, crossing: Crossing | None) -> Check:
    """Across releases: the old version's configuration (not carried over, as the plan
    warned) and files the rebuild never restores (the target's own) are listed."""
    if crossing is None or not check.failed:
        return check
    change = crossing.old_version_config(check.name)
    if change is not None:
        return skipped("config", check.name, f"{change.family} {change.old}'s configuration: "
                       f"not carried over to {change.new}, as the plan warned")
    if denied(check.name, ETC_DENY):
        return skipped("config", check.name, f"the target's own ({crossing.target_release}'s "
                       f"packages), never restored: {check.detail}")
    return check


def compare_config_files(source: HostInventory, manifest: SnapshotManifest,
                         target: TargetFiles, crossing: Crossing | None = None) -> list[Check]:
    """Each configuration file has the content the snapshot recorded (a conffile deleted
    on the source must be absent on the target)."""
    checks = [_other_release(c, crossing) for c in _config_checks(source, manifest, target)]
    return checks


def _config_checks(source: HostInventory, manifest: SnapshotManifest,
                   target: TargetFiles) -> list[Check]:
    hashes = content_hashes(manifest)
    deleted = {c.path for c in source.changed_conffiles if c.actual_md5 is None}
    checks = []
    for path in config_paths(source, manifest):
        have = target.sha256.get(path)
        if path in deleted:
            checks.append(judged(have is None, "config", path, "absent",
                                 "present" if have else "absent",
                                 "deleted on the source, present on the target" if have else ""))
            continue
        want = hashes.get(path)
        if want is None:
            checks.append(skipped("config", path, "not in the snapshot (excluded or unreadable)"))
        elif have is None:
            checks.append(failed("config", path, f"sha256 {want[:16]}", "missing or unreadable",
                                 "configuration file missing"))
        else:
            checks.append(judged(want == have, "config", path, f"sha256 {want[:16]}",
                                 f"sha256 {have[:16]}",
                                 "" if want == have else "content differs from the snapshot"))
    return checks


def _describe(kind: str, mode: int, user: str, group: str, size: int, link: str | None,
              sha: str | None) -> str:
    if kind == "symlink":
        return f"symlink → {link}"
    text = f"{kind} {mode:04o} {user}:{group}"
    if kind == "file":
        text += f" {size} B" + (f" sha256 {sha[:16]}" if sha else "")
    return text


REWRITES = ("size ", "content differs")  # the problems a rewrite of a file's content makes


def _totals(files: Sequence[FileEntry] | Sequence[ScannedEntry]) -> tuple[int, int]:
    return len(files), sum(e.size for e in files)


def _entry_problems(want: FileEntry, have: ScannedEntry, want_sha: str | None,
                    have_sha: str | None) -> list[str]:
    if want.kind != have.kind:
        return [f"type {want.kind} → {have.kind}"]
    problems = []
    if want.kind == "symlink":
        target = have.link_target.decode("utf-8", "replace") if have.link_target else ""
        if (want.link_target or "") != target:
            problems.append("link target differs")
        return problems
    if want.mode != have.mode:
        problems.append(f"mode {want.mode:04o} → {have.mode:04o}")
    if (want.user, want.group) != (have.user, have.group):
        problems.append(f"owner {want.user}:{want.group} → {have.user}:{have.group}")
    if want.kind == "file":
        if want.size != have.size:
            problems.append(f"size {want.size} → {have.size}")
        if want_sha and have_sha and want_sha != have_sha:
            problems.append("content differs")
    return problems


def compare_data_trees(manifest: SnapshotManifest, target: TargetFiles, sampled: set[str],
                       listed: int = MAX_LISTED, crossing: Crossing | None = None,
                       own: Sequence[str] = (), generated: Sequence[str] = (),
                       as_messages: Sequence[str] = (),
                       containers: Containers | None = None) -> list[Check]:
    """Per data root: one check of file count and total size, one check per differing
    entry (missing, extra, type, mode, owner, size, link target, content of sampled files)
    up to ``listed`` per root, and one for the rest. Across releases, directories the new
    versions' packages make (/usr/local/lib/python3.11) are not extras, and neither is
    what is in or under ``own`` (the homes of the target's own accounts): listed. What
    each host generates itself (``generated``: Postfix's chroot copies of /etc/hosts) and
    sockets (runtime state, recreated by their services) are not data: not compared; nor
    are the files under ``as_messages`` (Postfix's queues, named by queue ids that change
    with the inode on restore: the mail checks compare their messages instead), nor the
    storage of the source's container engine (``containers``: where it said it is)."""
    hashes = content_hashes(manifest)
    made = set(generated)
    # a container engine's own storage, where the source's engine said it is
    engine_storage = engine_storage_of(*((containers.storage_dirs(), containers.volume_dirs())
                                         if containers else ((), ())))
    checks = []
    for root in data_roots(manifest):
        # what a rebuild deliberately does not restore (the operator's own access) is not
        # compared: see evacuate.plan.selection.DATA_DENY
        # a container engine's own storage is the target engine's (only the named volumes'
        # data in it moved): not compared
        want = [e for e in manifest.files if under(e.path, root) and not not_restored(e.path)
                and e.path not in made and e.kind != "socket" and not engine_storage(e.path)
                and not _queued(e.path, as_messages)]
        have = {p: e for p, e in target.entries.items()
                if under(p, root) and not not_restored(p) and p not in made
                and e.kind != "socket" and not engine_storage(p)
                and not _queued(p, as_messages)}
        # across releases, what the new versions' packages made (postgresql 15's cluster,
        # python3.11's directories) is the target's own: listed, not compared
        known = {e.path for e in want}
        newer = sorted(p for p in have if crossing and p not in known
                       and crossing.new_version_path(p))
        for path in newer:
            del have[path]
        if not want and not have:
            continue
        files = [e for e in want if e.kind == "file"]
        extras = sorted(set(have) - known)
        # entries the running target made after its restore (a cron job's output, a service's
        # new files) are its own: listed in one passing check, left out of the totals
        theirs = [p for p in extras if any(under(p, home) for home in own)]
        mine = set(theirs)
        own_written = [p for p in extras if p not in mine and target.written_since_restore(have[p])]
        mine.update(own_written)
        have_files = [e for p, e in have.items() if e.kind == "file" and p not in mine]
        summary_want = f"{len(files)} files, {sum(e.size for e in files)} B"
        summary_have = f"{len(have_files)} files, {sum(e.size for e in have_files)} B"
        differences: list[Check] = []
        rewritten: list[str] = []  # files whose content the target changed after the restore
        gone: dict[str, int] = {}  # missing directories → entries missing under them
        for entry in sorted(want, key=lambda e: e.path):
            there = have.get(entry.path)
            want_sha = hashes.get(entry.path)
            expected = _describe(entry.kind, entry.mode, entry.user, entry.group, entry.size,
                                 entry.link_target, want_sha)
            if there is None:
                parent = next((d for d in gone if under(entry.path, d)), None)
                if parent is not None:  # one check for a missing directory, not one per entry
                    gone[parent] += 1
                    continue
                if entry.kind == "dir":
                    gone[entry.path] = 0
                differences.append(failed("data", entry.path, expected, "missing",
                                          f"missing on the target (under {root})"))
                continue
            have_sha = target.sha256.get(entry.path) if entry.path in sampled else None
            problems = _entry_problems(entry, there, want_sha, have_sha)
            if problems and target.written_since_restore(there):
                if all(p.startswith(REWRITES) for p in problems):
                    # its own software rewrote it after the restore (a worker's summary, a
                    # counter): what the restore wrote cannot be compared any more
                    rewritten.append(entry.path)
                    continue
                problems.append("changed on the target after the restore")
            if problems:
                link = there.link_target.decode("utf-8", "replace") if there.link_target else None
                differences.append(failed("data", entry.path, expected, _describe(
                    there.kind, there.mode, there.user, there.group, there.size, link, have_sha),
                    "; ".join(problems)))
        differences = [replace(c, detail=f"missing on the target, with the {gone[c.name]} "
                                         "entries under it") if gone.get(c.name) else c
                       for c in differences]
        for path in extras:
            extra = have[path]
            if path not in mine:
                differences.append(failed("data", path, "absent", _describe(
                    extra.kind, extra.mode, extra.user, extra.group, extra.size, None, None),
                    f"on the target but not in the snapshot (under {root})"))
        hashed = sum(1 for e in files if e.path in sampled and e.path in target.sha256
                     and e.path not in rewritten)
        same_totals = summary_want == summary_have
        if rewritten:  # the totals are compared without them, on both sides
            left = set(rewritten)
            same_totals = _totals([e for e in files if e.path not in left]) == _totals(
                [e for p, e in have.items() if e.kind == "file" and p not in mine | left])
        checks.append(judged(same_totals and not differences, "data", root, summary_want,
                             summary_have, f"{len(differences)} entries differ; " * bool(differences)
                             + f"content compared for {hashed} of {len(files)} files"
                             + (f"; {len(rewritten)} rewritten on the target, left out of "
                                "the totals" if rewritten else "")))
        if rewritten:
            checks.append(not_verified(
                "data", f"{root} (rewritten on the target)",
                f"{len(rewritten)} files whose content changed on the target after the "
                "restore (same type, mode and owner; its own services rewrote them): what "
                "the restore wrote cannot be compared: " + _shown(rewritten)))
        if own_written:
            checks.append(passed("data", f"{root} (written on the target)", "absent",
                                 f"{len(own_written)} entries", "new since the restore, not in "
                                 "the snapshot (the target's own jobs and services): "
                                 + _shown(own_written)))
        if newer:
            checks.append(passed("data", f"{root} (the target release's own)", "absent",
                                 f"{len(newer)} entries", "made by the packages of "
                                 f"{crossing.target_release if crossing else 'the target'}"
                                 ": " + _shown(newer)))
        if theirs:
            homes = sorted({h for h in own for p in theirs if under(p, h)})
            checks.append(passed("data", f"{root} (the target's own)", "absent",
                                 f"{len(theirs)} entries", "the homes of the target's own "
                                 f"accounts ({', '.join(homes)}), not the source's: "
                                 + _shown(theirs)))
        checks.extend(differences[:listed])
        if len(differences) > listed:
            checks.append(failed("data", f"{root} (more)", "", f"{len(differences) - listed} more",
                                 f"{len(differences) - listed} more entries under {root} differ"))
    return checks


def _queued(path: str, queues: Sequence[str]) -> bool:
    """What is in a queue (its hash directories, made as Postfix needs them, and its
    files); the queues' own directories stay compared for their mode and owner."""
    return any(path.startswith(q.rstrip("/") + "/") for q in queues)


def _shown(paths: Sequence[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def plan_hashes(source: HostInventory, manifest: SnapshotManifest, sample: int = DEFAULT_SAMPLE,
                full: bool = False) -> tuple[list[str], set[str]]:
    """The paths to hash on the target (config files + sampled data files) and the sample."""
    roots = data_roots(manifest)
    data_files = [e.path for e in manifest.files if e.kind == "file"
                  and any(under(e.path, r) for r in roots)]
    sampled = set(choose_sample(data_files, sample, full))
    return sorted(set(config_paths(source, manifest)) | sampled), sampled

