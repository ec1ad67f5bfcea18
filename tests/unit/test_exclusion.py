"""The exclusion rules, pure: a listing goes in, each entry's rule comes out; and the plan's
rules for what a rebuild restores."""

from __future__ import annotations

import io

import pytest

from evacuate.inventory.model import (
    ChangedPackageFile,
    DatabaseServer,
    Hardware,
    HostInventory,
    Mount,
    PackageFiles,
)
from evacuate.inventory.model_apps import MailServer
from evacuate.plan.selection import file_selector, plan_totals
from evacuate.snapshot.engine import SnapshotRequest, plan_snapshot
from evacuate.snapshot.exclusion import Exclusion, Tally, roots_of, state_tree
from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.package_modes import parse_package_db
from evacuate.snapshot.scan import RECORD_FORMAT, parse_scan, stream_scan

OWNED = parse_package_db(["@@EVAC-LISTS@@", "/.", "/usr", "/usr/bin", "/bin/ls",
                          "/usr/share/doc/cron/README", "/etc/nginx/nginx.conf",
                          "/var/lib/nginx", "/usr/local"]).owned


# Postfix and Dovecot as lab-mail's postconf and doveconf say (Debian's defaults)
LAB_MAIL = MailServer(queued=1, queue_directory="/var/spool/postfix",
                      postfix_data_directory="/var/lib/postfix",
                      dovecot_state_dir="/var/lib/dovecot")


def _exclusion(**extra: object) -> Exclusion:
    values: dict[str, object] = {
        "owned": OWNED, "changed": frozenset({"/usr/share/doc/cron/README"}),
        "database_dirs": ("/var/lib/postgresql/15/main", "/var/lib/mysql/"),
        "other_mounts": ("/proc", "/run", "/mnt/nfs"),
        "daemon_state": LAB_MAIL.daemon_state()}
    values.update(extra)
    return Exclusion(**values)  # type: ignore[arg-type]


LISTING = {
    # what the old inclusion list lost
    "/var/lib/wiki": "data", "/var/lib/wiki/pages/Home.txt": "data",
    "/var/lib/redis/dump.rdb": "data",
    "/srv/data/.cache/keep.txt": "data", "/home/alice/.cache/x": "data",
    "/usr/share/doc/cron/README": "changed",
    "/usr/local/lib/site/tool.so": "data",
    "/usr/lib/custom/plugin.so": "unowned",
    # what stays, each by its rule
    "/usr/bin/ls": "package", "/bin/ls": "package", "/usr": "package", "/": "package",
    "/etc/nginx/nginx.conf": "package",
    "/proc": "virtual", "/mnt/nfs": "virtual",
    "/tmp/x": "runtime", "/var/lib/php/tmp/sess": "runtime",
    "/lost+found": "filesystem",
    "/var/lib/postgresql/15/main/base/1/1255": "database", "/var/lib/mysql": "database",
    "/var/lib/postgresql/.psql_history": "data",
    "/var/log/syslog": "logs", "/var/lib/logrotate/status": "logs",
    "/var/cache/apt/pkgcache.bin": "caches",
    "/var/lib/dpkg/status": "package-manager", "/etc/alternatives/editor": "package-manager",
    "/boot/vmlinuz": "boot", "/var/lib/systemd/random-seed": "identity",
    "/etc/machine-id": "identity",
    "/usr/lib/python3/dist-packages/__pycache__/x.pyc": "generated",
    "/etc/ssl/certs/ca-certificates.crt": "generated",
    "/etc/ssl/certs/shop.example.test.crt": "unowned",
    "/swapfile": "swap",
    # a container engine: the named volumes' data moves, the rest of its storage does not
    "/var/lib/containers/storage/volumes/shop_notes-data/_data/notes.txt": "container-volumes",
    "/var/lib/containers/storage/volumes/shop_notes-data/_data": "container-volumes",
    "/var/lib/docker/volumes/app_pgdata/_data/PG_VERSION": "container-volumes",
    "/var/lib/containers/storage/volumes/shop_notes-data": "container-storage",
    "/var/lib/containers/storage/vfs/dir/0123/bin/busybox": "container-storage",
    "/var/lib/containers/storage/libpod/bolt_state.db": "container-storage",
    "/var/lib/docker/overlay2/abc/diff/etc/passwd": "container-storage",
    "/var/lib/containers": "container-storage",
    "/var/lib/containersfoo/x": "data",
    # what a daemon rewrites when it starts or rebuilds from the data it serves
    "/var/lib/postfix/master.lock": "daemon-state", "/var/lib/postfix/prng_exch": "daemon-state",
    "/var/lib/postfix/smtp_scache.db": "daemon-state",
    "/var/spool/postfix/pid/master.pid": "daemon-state",
    "/var/lib/dovecot/instances": "daemon-state",
    "/home/anna/Maildir/dovecot.index.log": "daemon-state",
    "/home/anna/Maildir/.Archive/dovecot.index.cache": "daemon-state",
    "/home/anna/Maildir/dovecot.list.index.log": "daemon-state",
    # ... but not the mail, its UIDs and keywords, the queue or Postfix's other state
    "/home/anna/Maildir/dovecot-uidlist": "data", "/home/anna/Maildir/dovecot-keywords": "data",
    "/home/anna/Maildir/cur/1700000000.M1P1.mail:2,S": "data",
    "/var/spool/postfix/deferred/2/23CDB1AE81C": "data", "/var/lib/postfix/aliases.db": "data",
}


@pytest.mark.parametrize("path", sorted(LISTING))
def test_each_entry_is_decided_by_a_named_rule(path: str) -> None:
    rule = _exclusion(swap_files=("/swapfile",)).classify(path)
    assert rule.name == LISTING[path]
    assert rule.carried == (rule.name in ("data", "changed", "unowned", "container-volumes"))
    assert rule.reason


def test_links_are_judged_by_their_targets() -> None:
    rules = _exclusion()
    assert rules.classify("/usr/bin/editor", "/etc/alternatives/editor").name == \
        "package-manager"
    assert rules.classify("/etc/ssl/certs/ACCV.pem", "/usr/share/ca-certificates/m/A.crt"
                          ).name == "generated"
    assert rules.classify("/etc/ssl/certs/3513523f.0", "ACCV.pem").name == "generated"
    assert rules.classify("/etc/ssl/certs/mine.pem", "/etc/letsencrypt/x.pem").name == "unowned"


def test_logs_move_with_logs_and_the_config_decides_first() -> None:
    rules = _exclusion(with_logs=True, includes=("/var/cache/myapp",),
                       excludes=("/srv/scratch", "*.swp"))
    assert (rules.classify("/var/log/syslog").name, rules.classify("/var/log/syslog").carried
            ) == ("logs", True)
    assert rules.classify("/var/cache/myapp/index").name == "include"
    assert rules.classify("/srv/scratch/big.bin").name == "exclude"
    assert rules.classify("/home/alice/.notes.swp").name == "exclude"
    assert "/var/log" not in rules.find_excludes()
    assert "/var/log" in _exclusion().find_excludes()
    assert {"/var/lib/postfix/master.lock", "*/dovecot.index.*"} <= set(rules.find_excludes())


def test_daemon_state_is_where_the_daemons_own_configuration_keeps_it() -> None:
    # a Postfix whose data_directory and queue_directory are not Debian's, a Dovecot whose
    # state_dir is elsewhere: their runtime state is left there, and the same names under
    # Debian's default directories (nothing says a daemon keeps state there) are data
    moved = MailServer(queued=0, queue_directory="/srv/mailq",
                       postfix_data_directory="/srv/postfix-state",
                       dovecot_state_dir="/opt/dovecot/state")
    rules = _exclusion(daemon_state=moved.daemon_state())
    for path in ("/srv/postfix-state/master.lock", "/srv/postfix-state/prng_exch",
                 "/srv/postfix-state/smtpd_scache.db", "/srv/mailq/pid/master.pid",
                 "/opt/dovecot/state/instances"):
        assert rules.classify(path).name == "daemon-state", path
    for path in ("/var/lib/postfix/master.lock", "/var/spool/postfix/pid/master.pid",
                 "/var/lib/dovecot/instances", "/srv/mailq/deferred/2/23CDB1AE81C",
                 "/srv/postfix-state/aliases.db"):
        assert rules.classify(path).name == "data", path
    assert {"/srv/postfix-state/master.lock", "/opt/dovecot/state/instances"} <= set(
        rules.find_excludes())
    # no Postfix (queued None), no Dovecot: nothing but Dovecot's index file names
    assert MailServer().daemon_state() == ()
    assert MailServer(queue_directory="/var/spool/postfix").daemon_state() == ()


def test_trees_and_roots() -> None:
    assert state_tree("/var/lib/wiki/a/b") == "/var/lib/wiki"
    assert state_tree("/var/lib") is None
    assert state_tree("/srv/x") == "/srv"
    assert roots_of(["/var/lib/wiki/a", "/srv/x", "/usr/lib/custom/p.so"]) == [
        "/etc", "/srv", "/var/lib/wiki"]


def test_the_tally_counts_entries_files_and_bytes_per_rule() -> None:
    tally = Tally()
    rules = _exclusion()
    for path, kind, size in (("/var/log", "dir", 0), ("/var/log/a", "file", 10),
                             ("/var/log/b", "file", 5), ("/srv/x", "file", 7)):
        tally.add(rules.classify(path), path, kind, size)
    totals = {t.rule: t for t in tally.totals()}
    assert (totals["logs"].entries, totals["logs"].files, totals["logs"].bytes) == (3, 2, 15)
    assert totals["logs"].examples == ("/var/log",)
    assert totals["data"].carried and not totals["logs"].carried
    assert next(iter(tally.totals())).carried  # what moves is listed first


def test_plan_snapshot_decides_from_the_mount_table_and_the_database_facts() -> None:
    inventory = HostInventory(
        host="h", collected_at="now",
        hardware=Hardware(mounts=(
            Mount("overlay", "/", "overlay"), Mount("proc", "/proc", "proc"),
            Mount("tmpfs", "/run", "tmpfs"), Mount("/dev/vda", "/run/host/incoming", "ext4"),
            Mount("/dev/vdb1", "/srv", "ext4"), Mount("nas:/x", "/mnt/nas", "nfs4"))),
        databases=(DatabaseServer(engine="postgresql", version="15", running=True,
                                  data_dir="/data/pg/15/main"),
                   DatabaseServer(engine="mysql", version="10", running=False,
                                  data_dir="/var/lib/mysql")),
        package_files=PackageFiles(changed=(ChangedPackageFile("/usr/bin/x", "x"),)))
    plan = plan_snapshot(inventory, SnapshotRequest("h", include=["/mnt/nas/share"]), OWNED)
    assert plan.roots == ["/", "/mnt/nas/share", "/srv"]
    assert plan.exclusion.classify("/run").name == "virtual"
    assert plan.exclusion.classify("/data/pg/15/main/PG_VERSION").name == "database"
    # a stopped server's data directory is copied as files (it cannot be dumped)
    assert plan.exclusion.classify("/var/lib/mysql/ibdata1").name == "data"
    assert plan.exclusion.classify("/usr/bin/x").name == "changed"
    assert plan.exclusion.classify("/mnt/nas/share/a").name == "include"


def test_stream_scan_reads_records_cut_anywhere() -> None:
    names = [b"/srv/a", b"/srv/new\nline", b"/srv/\xff\xfe", b"/srv/-x"]
    raw = b"".join(b"\0".join([b"f", n, b"3", b"1.5", b"1.5", b"1:2", b"644", b"0", b"0",
                                b"root", b"root", b"1", b"8", b""]) + b"\0" for n in names)
    assert RECORD_FORMAT.count("\\0") == 14
    for chunk in (1, 7, 64, 1 << 20):
        assert [e.path for e in stream_scan(io.BytesIO(raw), chunk)] == names
    assert list(stream_scan(io.BytesIO(raw), 5)) == list(parse_scan(raw))
    with pytest.raises(ValueError, match="truncated"):
        list(stream_scan(io.BytesIO(raw[:-9]), 8))


def _entry(path: str, kind: str = "file") -> FileEntry:
    return FileEntry(path=path, kind=kind, mode=0o644, uid=0, gid=0, user="root",
                     group="root", mtime="1", size=4)


def test_the_plan_restores_a_snapshot_by_exclusion_but_the_targets_own() -> None:
    entries = [_entry(p) for p in ("/etc/myapp.conf", "/etc/fstab", "/etc/apt/sources.list",
                                   "/etc/sudoers.d/alice", "/etc/shadow", "/root/.ssh/id",
                                   "/usr/lib/custom/p.so", "/var/lib/wiki/a",
                                   "/etc/postgresql/13/main/postgresql.conf")]
    entries.append(_entry("/etc/systemd/system/multi-user.target.wants/x.service", "symlink"))
    config = ["/etc/myapp.conf"]  # the old release's postgresql.conf was dropped by the plan
    select = file_selector(config, ["/var/lib/wiki"], exclusion=True)
    assert [e.path for e in entries if select(e)] == [
        "/etc/myapp.conf", "/usr/lib/custom/p.so", "/var/lib/wiki/a"]
    totals = {t.rule: t.entries for t in plan_totals(entries, config, ["/var/lib/wiki"], True)}
    assert totals == {"target-identity": 1, "apt-sources": 1, "sudoers": 1, "accounts": 1,
                      "operator-access": 1, "other-release": 1, "enable-state": 1}
    assert all(t.stage == "plan" for t in plan_totals(entries, config, [], True))


def test_nothing_of_a_version_the_target_lacks_is_restored_not_even_its_directories() -> None:
    # an empty /etc/postgresql/13/main on a PostgreSQL 15 target is a cluster to
    # postgresql-common (pg_lsclusters lists it, the generator makes it a unit)
    entries = [_entry("/etc/postgresql", "dir"), _entry("/etc/postgresql/13", "dir"),
               _entry("/etc/postgresql/13/main", "dir"),
               _entry("/etc/postgresql/13/main/environment"),
               _entry("/etc/postgresql/13/main/log", "symlink"),
               _entry("/etc/postgresql/15/main/conf.d", "dir"), _entry("/etc/postgresql-x", "dir")]
    for exclusion in (True, False):
        select = file_selector([], [], exclusion, other_release=["/etc/postgresql/13"])
        assert [e.path for e in entries if select(e) and e.kind == "dir"] == [
            "/etc/postgresql", "/etc/postgresql/15/main/conf.d", "/etc/postgresql-x"][
            :3 if exclusion else 0]
        totals = {t.rule: t.entries for t in plan_totals(entries, [], [], exclusion,
                                                         ["/etc/postgresql/13"])}
        assert totals["other-release"] == 4


def test_an_unreadable_file_is_named_with_tars_reason() -> None:
    from evacuate.snapshot.files import _tar_reasons

    reasons = _tar_reasons(["tar: srv/locked.db: Cannot open: Permission denied",
                            "tar: Exiting with failure status due to previous errors"])
    assert reasons == {b"srv/locked.db": "cannot open: Permission denied"}


def test_packages_without_md5sums_are_named_in_a_warning() -> None:
    from evacuate.plan.builder import _package_warnings as plan_warnings
    from evacuate.snapshot.engine import _package_warnings as snapshot_warnings

    inventory = HostInventory(host="h", collected_at="now", package_files=PackageFiles(
        without_md5sums=("libfoo-local", "mytool"),
        unreadable=(ChangedPackageFile("/usr/lib/x.so", "x"),)))
    notes = snapshot_warnings(inventory)
    assert "2 packages have no md5sums" in notes[0] and "libfoo-local, mytool" in notes[0]
    assert notes[1].startswith("/usr/lib/x.so (package x) could not be read")
    [warning] = plan_warnings(inventory)
    assert warning.code == "no-md5sums" and "libfoo-local, mytool" in warning.message
    assert snapshot_warnings(HostInventory(host="h", collected_at="now")) == []


def test_the_streamed_scan_keeps_the_directories_above_what_it_keeps(tmp_path) -> None:
    from evacuate.snapshot.files import scan_tree
    from evacuate.transport.local import LocalTransport

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "keep.txt").write_text("x")
    (tmp_path / "a" / "drop.txt").write_text("y")
    (tmp_path / "other").mkdir()
    parents: list[str] = []
    kept, complaints = scan_tree(
        LocalTransport(), [str(tmp_path)], (), choose=lambda e: e.name.endswith("keep.txt"),
        on_parent=lambda e: parents.append(e.name))
    names = [e.name[len(str(tmp_path)):] for e in kept]
    assert names == ["", "/a", "/a/b", "/a/b/keep.txt"] and complaints == []
    assert parents == [str(tmp_path), f"{tmp_path}/a", f"{tmp_path}/a/b"]


def test_each_configured_pattern_is_counted_on_its_own() -> None:
    rules = _exclusion(excludes=("/srv/scratch", "*.swp"), includes=("/var/cache/myapp",))
    tally = Tally()
    for path in ("/srv/scratch/a", "/srv/scratch/b", "/home/x.swp", "/var/cache/myapp/i"):
        tally.add(rules.classify(path), path, "file", 1)
    assert {(t.rule, t.reason, t.entries) for t in tally.totals()} == {
        ("exclude", "evacuate.yml excludes /srv/scratch", 2),
        ("exclude", "evacuate.yml excludes *.swp", 1),
        ("include", "evacuate.yml includes /var/cache/myapp", 1)}


@pytest.mark.parametrize(("path", "own"), [
    ("/var/lib/containers", True), ("/var/lib/containers/storage/libpod/bolt_state.db", True),
    ("/var/lib/containers/storage/volumes/shop_notes-data", True),
    ("/var/lib/docker/overlay2/x", True),
    ("/var/lib/containers/storage/volumes/shop_notes-data/_data", False),
    ("/var/lib/containers/storage/volumes/shop_notes-data/_data/notes.txt", False),
    ("/var/lib/containersx", False), ("/srv/shop/compose.yaml", False),
])
def test_the_engines_own_storage_is_told_from_its_volumes(path: str, own: bool) -> None:
    from evacuate.snapshot.exclusion import engine_storage
    assert engine_storage()(path) is own


# Docker's data-root moved to the data disk (daemon.json "data-root": "/srv/docker"), a
# volume whose engine says it lives elsewhere: where the engine says, not the defaults
MOVED = {
    "/srv/docker": "container-storage",
    "/srv/docker/overlay2/abc/diff/etc/passwd": "container-storage",
    "/srv/docker/image/overlay2/repositories.json": "container-storage",
    "/srv/docker/volumes/shop_notes-data": "container-storage",
    "/srv/docker/volumes/shop_notes-data/_data/notes.txt": "container-volumes",
    "/srv/docker/volumes/made-later/_data/x": "container-volumes",
    "/data/volumes/odd/x": "container-volumes",
    "/srv/dockerx/a": "data", "/srv/shop/docker-compose.yml": "data",
    "/var/lib/docker/overlay2/left-over": "container-storage",
}


@pytest.mark.parametrize("path", sorted(MOVED))
def test_the_engines_storage_is_where_the_engine_says(path: str) -> None:
    from evacuate.snapshot.exclusion import engine_storage
    rules = _exclusion(engine_storage=("/srv/docker/",), volume_dirs=("/data/volumes/odd",))
    assert rules.classify(path).name == MOVED[path]
    inside = engine_storage(("/srv/docker",), ("/data/volumes/odd",))
    assert inside(path) is (MOVED[path] == "container-storage")
