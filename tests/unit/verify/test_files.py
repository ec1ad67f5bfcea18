"""Config files and data trees: the pure comparison, the parser of the remote scan, and the
real remote script run locally (LocalTransport) against a temporary tree."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.scan import RECORD_FORMAT, ScannedEntry
from evacuate.transport.local import LocalTransport
from evacuate.verify.files import (
    TargetFiles,
    choose_sample,
    compare_config_files,
    compare_data_trees,
    config_paths,
    parse_file_facts,
    plan_hashes,
    read_target_files,
)
from evacuate.verify.model import Status
from tests.unit.verify.builders import entry, manifest, source_inventory

KINDS = {"file": "f", "dir": "d", "symlink": "l"}


def scanned(e: FileEntry) -> ScannedEntry:
    return ScannedEntry(e.path.encode(), e.kind, e.size, "0", "0", "1:1", e.mode, 0, 0, e.user,
                        e.group, 1, 8, e.link_target.encode() if e.link_target else None)


def mirror(files: tuple[FileEntry, ...]) -> TargetFiles:
    """What a target that is an exact copy of the manifest would report."""
    hashes = {f.path: f.sha256 for f in files if f.sha256}
    hashes["/srv/data/hard"] = hashes["/srv/data/a.txt"]
    return TargetFiles({f.path: scanned(f) for f in files if f.path.startswith("/srv")},
                       {p: h for p, h in hashes.items() if h})


def test_an_exact_copy_passes() -> None:
    snap = manifest()
    target = mirror(snap.files)
    paths, sampled = plan_hashes(source_inventory(), snap)
    assert "/etc/hostname" not in paths  # host-specific: never compared
    checks = (compare_config_files(source_inventory(), snap, target)
              + compare_data_trees(snap, target, sampled))
    assert [c.id for c in checks if c.status is not Status.PASS] == []
    assert {c.id for c in checks} == {"config:/etc/nginx/nginx.conf", "config:/etc/notes.ini",
                                      "data:/srv"}


def test_owner_mode_content_missing_and_extra_entries_each_fail_by_path() -> None:
    snap = manifest()
    target = mirror(snap.files)
    entries = dict(target.entries)
    entries["/srv/data/a.txt"] = replace(entries["/srv/data/a.txt"], user="bob")
    entries["/srv/data/b.txt"] = replace(entries["/srv/data/b.txt"], mode=0o644)
    entries["/srv/data/link"] = replace(entries["/srv/data/link"], link_target=b"b.txt")
    del entries["/srv/data/hard"]
    entries["/srv/data/new.txt"] = scanned(entry("/srv/data/new.txt"))
    hashes = dict(target.sha256) | {"/srv/data/b.txt": "f" * 64, "/etc/notes.ini": "0" * 64}
    del hashes["/etc/nginx/nginx.conf"]
    broken = TargetFiles(entries, hashes)
    _paths, sampled = plan_hashes(source_inventory(), snap)
    checks = {c.id: c for c in compare_config_files(source_inventory(), snap, broken)
              + compare_data_trees(snap, broken, sampled)}
    failed = {k for k, c in checks.items() if c.status is Status.FAIL}
    assert failed == {"config:/etc/nginx/nginx.conf", "config:/etc/notes.ini", "data:/srv",
                      "data:/srv/data/a.txt", "data:/srv/data/b.txt", "data:/srv/data/link",
                      "data:/srv/data/hard", "data:/srv/data/new.txt"}
    assert "owner alice:alice → bob:alice" in checks["data:/srv/data/a.txt"].detail
    assert "mode 0600 → 0644" in checks["data:/srv/data/b.txt"].detail
    assert "content differs" in checks["data:/srv/data/b.txt"].detail
    assert checks["data:/srv/data/hard"].found == "missing"
    assert checks["data:/srv/data/new.txt"].expected == "absent"
    assert checks["config:/etc/nginx/nginx.conf"].found == "missing or unreadable"


def test_differences_beyond_the_cap_are_counted_in_one_check() -> None:
    files = (entry("/srv", "dir", 0o755),
             *(entry(f"/srv/f{i}", sha=str(i % 10)) for i in range(30)))
    snap = manifest(files=files)
    checks = compare_data_trees(snap, TargetFiles({"/srv": scanned(files[0])}, {}), set(),
                                listed=5)
    names = [c.name for c in checks]
    assert names[0] == "/srv" and len(checks) == 1 + 5 + 1
    assert checks[-1].name == "/srv (more)" and "25 more" in checks[-1].detail


def test_the_sample_is_stable_spread_and_bounded() -> None:
    paths = [f"/srv/{i}" for i in range(5000)]
    sample = choose_sample(paths, 100, full=False)
    assert len(sample) == 100 and sample == choose_sample(list(reversed(paths)), 100, False)
    assert len(choose_sample(paths, 100, full=True)) == 5000
    assert choose_sample(paths[:10], 100, full=False) == paths[:10]


def test_deleted_conffiles_must_stay_deleted() -> None:
    source = source_inventory()
    source = replace(source, changed_conffiles=(replace(source.changed_conffiles[0],
                                                        actual_md5=None),))
    assert "/etc/nginx/nginx.conf" in config_paths(source)
    present = TargetFiles({}, {"/etc/nginx/nginx.conf": "1" * 64})
    check = next(c for c in compare_config_files(source, manifest(source), present)
                 if c.name == "/etc/nginx/nginx.conf")
    assert check.status is Status.FAIL and check.found == "present"


def test_parse_file_facts_reads_scan_records_and_nul_separated_sums() -> None:
    record = b"\0".join([b"f", "/srv/caf\u00e9 x\n.txt".encode(), b"3", b"1.0", b"1.0", b"1:2",
                         b"644", b"0", b"0", b"root", b"root", b"1", b"8", b""]) + b"\0"
    raw = (b"1764639000.1234567890MARK\0" + record + b"MARK\0" + b"a" * 64
           + "  /srv/caf\u00e9 x\n.txt".encode() + b"\0")
    parsed = parse_file_facts(raw, "MARK")
    assert list(parsed.entries) == ["/srv/caf\u00e9 x\n.txt"]
    assert parsed.sha256 == {"/srv/caf\u00e9 x\n.txt": "a" * 64}
    assert parsed.restored_at == "1764639000.1234567890"
    assert parse_file_facts(b"MARK\0" + record + b"MARK\0", "MARK").restored_at is None
    assert RECORD_FORMAT.count("\\0") == 14


def test_the_remote_script_scans_and_hashes_a_real_tree_in_one_call(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "sub dir").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "sub dir" / "b\u00e9.txt").write_bytes(b"beta\n")
    os.chmod(root / "a.txt", 0o640)
    (root / "link").symlink_to("a.txt")
    user = (root / "a.txt").owner()
    group = (root / "a.txt").group()

    def local(path: Path, kind: str = "file", mode: int = 0o644, **more: object) -> FileEntry:
        data = path.read_bytes() if kind == "file" else b""
        sha = hashlib.sha256(data).hexdigest() if kind == "file" else None
        return replace(entry(str(path), kind, mode, user, group, len(data), sha=sha, **more))

    files = (local(root, "dir", root.stat().st_mode & 0o7777),
             local(root / "sub dir", "dir", (root / "sub dir").stat().st_mode & 0o7777),
             local(root / "a.txt", mode=0o640),
             local(root / "sub dir" / "b\u00e9.txt", mode=(root / "sub dir" / "b\u00e9.txt")
                   .stat().st_mode & 0o7777),
             local(root / "link", "symlink", 0o777, link_target="a.txt"))
    snap = replace(manifest(files=files), roots=(str(root),))
    paths, sampled = plan_hashes(replace(source_inventory(), changed_conffiles=(),
                                         unowned_files=replace(source_inventory().unowned_files,
                                                               files=())), snap)
    found = read_target_files(LocalTransport(), snap, paths)
    checks = compare_data_trees(snap, found, sampled)
    assert [c.id for c in checks if c.status is not Status.PASS] == []
    assert "content compared for 2 of 2 files" in checks[0].detail

    (root / "a.txt").write_bytes(b"alphA\n")
    (root / "extra").write_bytes(b"")
    found = read_target_files(LocalTransport(), snap, paths)
    failed = {c.name: c for c in compare_data_trees(snap, found, sampled)
              if c.status is Status.FAIL}
    assert set(failed) == {str(root), str(root / "a.txt"), str(root / "extra")}
    assert failed[str(root / "a.txt")].detail == "content differs"


def test_a_missing_directory_is_one_failure_not_one_per_entry() -> None:
    snap = manifest()
    target = TargetFiles({"/srv": scanned(snap.files[3])}, {})
    failed = [c for c in compare_data_trees(snap, target, set()) if c.failed]
    assert [c.name for c in failed] == ["/srv", "/srv/data"]
    assert "with the 4 entries under it" in failed[1].detail


def test_entries_the_target_wrote_after_its_restore_are_its_own_not_failures() -> None:
    """A cron job on the rebuilt target copies reports into a new directory after the
    restore (ctime after the stamp): listed in one passing check and left out of the totals.
    An extra whose ctime is older than the stamp came with the restore and still fails; a
    snapshot file whose owner changed after the restore still fails, saying so; one whose
    content alone changed after it is not verified (what the restore wrote is gone), left out
    of the totals."""
    snap = manifest()
    target = mirror(snap.files)
    entries = dict(target.entries)
    late = {"ctime": "1764639100.5"}
    entries["/srv/reports"] = replace(scanned(entry("/srv/reports", "dir", 0o755)), **late)
    entries["/srv/reports/r.txt"] = replace(scanned(entry("/srv/reports/r.txt")), **late)
    entries["/srv/data/stale.txt"] = replace(scanned(entry("/srv/data/stale.txt")),
                                             ctime="1764638000")
    entries["/srv/data/a.txt"] = replace(entries["/srv/data/a.txt"], user="nobody", **late)
    checks = {c.id: c for c in compare_data_trees(
        snap, TargetFiles(entries, target.sha256, "1764639000.25"), set())}
    own = checks["data:/srv (written on the target)"]
    assert own.status is Status.PASS and own.found == "2 entries"
    assert "/srv/reports, /srv/reports/r.txt" in own.detail
    assert {k for k, c in checks.items() if c.failed} == {
        "data:/srv", "data:/srv/data/stale.txt", "data:/srv/data/a.txt"}
    assert "changed on the target after the restore" in checks["data:/srv/data/a.txt"].detail

    del entries["/srv/data/stale.txt"]
    entries["/srv/data/a.txt"] = replace(target.entries["/srv/data/a.txt"], size=1, **late)
    checks = {c.id: c for c in compare_data_trees(
        snap, TargetFiles(entries, target.sha256, "1764639000.25"), set())}
    assert [k for k, c in checks.items() if c.failed] == []
    rewritten = checks["data:/srv (rewritten on the target)"]
    assert rewritten.status is Status.UNVERIFIED and "/srv/data/a.txt" in rewritten.detail
    assert "1 rewritten on the target" in checks["data:/srv"].detail
    entries["/srv/data/a.txt"] = replace(entries["/srv/data/a.txt"], ctime="1764638000")
    restored_wrong = {c.id: c for c in compare_data_trees(
        snap, TargetFiles(entries, target.sha256, "1764639000.25"), set())}
    assert restored_wrong["data:/srv/data/a.txt"].failed  # written so by the restore itself
    entries["/srv/data/stale.txt"] = replace(scanned(entry("/srv/data/stale.txt")),
                                             ctime="1764638000")

    del entries["/srv/data/stale.txt"]
    entries["/srv/data/a.txt"] = target.entries["/srv/data/a.txt"]
    checks = {c.id: c for c in compare_data_trees(
        snap, TargetFiles(entries, target.sha256, "1764639000.25"), set())}
    assert [k for k, c in checks.items() if c.failed] == []  # totals without the new entries
    without_stamp = compare_data_trees(snap, TargetFiles(entries, target.sha256), set())
    assert {c.id for c in without_stamp if c.failed} == {
        "data:/srv", "data:/srv/reports", "data:/srv/reports/r.txt"}


def test_sockets_and_what_each_host_generates_are_not_data() -> None:
    """A socket the target's service made (Postfix's private/ sockets) and the chroot
    copies each host's Postfix makes of its own /etc are not compared; any other extra
    entry still fails."""
    snap = manifest()
    target = mirror(snap.files)
    entries = dict(target.entries)
    sock = replace(scanned(entry("/srv/data/sock")), kind="socket", size=0)
    entries["/srv/data/sock"] = sock
    entries["/srv/data/hosts"] = replace(scanned(entry("/srv/data/hosts")), size=99)
    entries["/srv/data/a.txt"] = replace(entries["/srv/data/a.txt"], size=1)
    checks = compare_data_trees(snap, TargetFiles(entries, target.sha256), set(),
                                generated=("/srv/data/hosts", "/srv/data/a.txt"))
    assert [c.id for c in checks if c.failed] == []
    checks = compare_data_trees(snap, TargetFiles(entries, target.sha256), set())
    assert {c.id for c in checks if c.failed} == {"data:/srv", "data:/srv/data/hosts",
                                                  "data:/srv/data/a.txt"}


def test_a_queue_is_compared_by_its_messages_not_by_its_file_names() -> None:
    """Postfix names a queue file by its inode: the restored deferred message (and its
    defer log) has another name on the target. Under the source's queue directories the
    files are left to the mail checks; the queues' own directories and everything else
    under the spool are still compared."""
    spool = "/srv/spool/postfix"
    queued = (entry(f"{spool}/deferred", "dir", 0o700), entry(f"{spool}/deferred/2", "dir", 0o700),
              entry(f"{spool}/deferred/2/23CDB1AE81C", sha="q"),
              entry(f"{spool}/defer/2/23CDB1AE81C", sha="d"), entry(f"{spool}/main.cf", sha="m"))
    snap = replace(manifest(), files=(*manifest().files, *queued))
    target = mirror(snap.files)
    entries = {p: e for p, e in target.entries.items() if "23CDB1AE81C" not in p
               and not p.endswith("/deferred/2")}
    entries[f"{spool}/deferred/8/8F1B2C3D4E5"] = scanned(entry(f"{spool}/deferred/8/8F1B2C3D4E5"))
    entries[f"{spool}/deferred"] = replace(entries[f"{spool}/deferred"], mode=0o755)
    del entries[f"{spool}/main.cf"]
    mail = replace(source_inventory().mail, queued=1, queue_directory=spool)
    queues = mail.queue_files()
    assert f"{spool}/deferred" in queues and f"{spool}/defer" in queues
    checks = compare_data_trees(snap, TargetFiles(entries, target.sha256), set(),
                                as_messages=queues)
    assert {c.id for c in checks if c.failed} == {
        "data:/srv", f"data:{spool}/deferred", f"data:{spool}/main.cf"}
    unnamed = compare_data_trees(snap, TargetFiles(entries, target.sha256), set())
    assert {f"data:{spool}/deferred/2", f"data:{spool}/deferred/8/8F1B2C3D4E5",
            f"data:{spool}/defer/2/23CDB1AE81C"} <= {c.id for c in unnamed if c.failed}
    assert replace(mail, queued=None).queue_files() == ()  # no Postfix: nothing left out


def test_the_engines_storage_is_not_compared_where_the_engine_says_it_is() -> None:
    """Docker's data-root on /srv: the directories above the volumes were carried for their
    mode and owner, the target's engine wrote its own layers there; the volumes' data is
    compared, the rest of the storage is not (where the source's engine said it is)."""
    from evacuate.inventory.model_containers import Containers, ContainerVolume

    files = (entry("/srv", "dir", 0o755), entry("/srv/docker", "dir", 0o710),
             entry("/srv/docker/volumes", "dir", 0o701),
             entry("/srv/docker/volumes/notes", "dir", 0o755),
             entry("/srv/docker/volumes/notes/_data", "dir", 0o755),
             entry("/srv/docker/volumes/notes/_data/n.txt", sha="6"))
    snap = manifest(files=files)
    mine = {"/srv/docker/overlay2/l/ABC": scanned(entry("/srv/docker/overlay2/l/ABC", "dir"))}
    target = TargetFiles({**{f.path: scanned(f) for f in files if f.path != "/srv/docker/volumes"},
                          **mine}, {"/srv/docker/volumes/notes/_data/n.txt": "6" * 64})
    engine = Containers(engine="docker", storage_root="/srv/docker", named_volumes=(
        ContainerVolume("notes", mountpoint="/srv/docker/volumes/notes/_data"),))
    sampled = {"/srv/docker/volumes/notes/_data/n.txt"}
    told = compare_data_trees(snap, target, sampled, containers=engine)
    assert [c.id for c in told if c.failed] == []
    untold = {c.id for c in compare_data_trees(snap, target, sampled) if c.failed}
    assert untold >= {"data:/srv/docker/overlay2/l/ABC", "data:/srv/docker/volumes"}
    # the volume's data still is compared
    lost = TargetFiles({p: e for p, e in target.entries.items() if not p.endswith("n.txt")}, {})
    assert "data:/srv/docker/volumes/notes/_data/n.txt" in {
        c.id for c in compare_data_trees(snap, lost, sampled, containers=engine) if c.failed}
