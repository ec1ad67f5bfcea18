"""Verify across a release change, on the real inventories of the bullseye lab-source and
of the bookworm lab-target it was rebuilt on: what differs by the release is named, not
failed; what the rebuild really lost still fails."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

from evacuate.inventory import HostInventory, from_json
from evacuate.verify.crossing import crossing_of, missing_packages
from evacuate.verify.engine import compare_inventories
from evacuate.verify.model import Status

FIXTURES = Path(__file__).parents[1] / "fixtures" / "release"
UNAVAILABLE = ("libpcre3", "lsb-base")  # what the lab's bookworm repository does not offer


def inventory(name: str) -> HostInventory:
    with gzip.open(FIXTURES / f"{name}.inventory.json.gz") as handle:
        return from_json(json.loads(handle.read()))


def hosts() -> tuple[HostInventory, HostInventory]:
    return inventory("bullseye-lab-source"), inventory("bookworm-lab-target-rebuilt")


def test_the_rebuilt_bookworm_target_passes_against_its_bullseye_source() -> None:
    source, target = hosts()
    assert missing_packages(source, target) == list(UNAVAILABLE)
    crossing = crossing_of(source, target, UNAVAILABLE)
    assert crossing is not None
    checks = {c.id: c for c in compare_inventories(source, target, crossing)}
    assert [c.id for c in checks.values() if c.failed] == []
    assert checks["packages:libssl1.1"].found.startswith("libssl3 ")
    assert "renamed: libssl1.1 → libssl3" in checks["packages:libssl1.1"].detail
    assert checks["packages:libpcre3"].status is Status.SKIP
    assert checks["packages:postgresql"].status is Status.PASS  # 13+225 → 15+248: listed
    assert checks["services:postgresql@15-main.service"].status is Status.PASS
    assert "postgresql@13-main.service on the source" in \
        checks["services:postgresql@15-main.service"].detail
    assert checks["listeners:tcp/5432"].status is Status.PASS
    assert checks["users:gnats"].status is Status.SKIP  # bookworm's base-passwd dropped it
    assert checks["sudoers:/etc/sudoers"].status is Status.PASS  # each release's default


def test_without_the_release_crossing_the_same_hosts_fail() -> None:
    source, target = hosts()
    failed = {c.id for c in compare_inventories(source, target) if c.failed}
    assert {"packages:libssl1.1", "services:postgresql@13-main.service", "listeners:tcp/5432",
            "users:gnats", "sudoers:/etc/sudoers"} <= failed


def test_what_the_rebuild_lost_still_fails_across_releases() -> None:
    source, target = hosts()
    broken = replace(
        target, packages=tuple(p for p in target.packages if p.name not in ("nginx", "libssl3")),
        services=tuple(s for s in target.services if not s.name.startswith("postgresql@")),
        users=tuple(u for u in target.users if u.name != "alice"),
        sudoers=tuple(s for s in target.sudoers if s.path != "/etc/sudoers.d/alice-nginx"))
    crossing = crossing_of(source, broken, UNAVAILABLE)
    failed = {c.id for c in compare_inventories(source, broken, crossing) if c.failed}
    assert {"packages:nginx", "packages:libssl1.1", "services:postgresql@15-main.service",
            "users:alice", "sudoers:/etc/sudoers.d/alice-nginx"} <= failed


def test_the_same_release_is_no_crossing() -> None:
    source, _target = hosts()
    assert crossing_of(source, source) is None


def test_the_old_versions_config_and_the_new_versions_directories() -> None:
    crossing = crossing_of(*hosts(), UNAVAILABLE)
    assert crossing is not None
    old = crossing.old_version_config("/etc/postgresql/13/main/pg_hba.conf")
    assert old is not None and (old.old, old.new) == ("13", "15")
    assert crossing.old_version_config("/etc/postgresql/15/main/pg_hba.conf") is None
    assert crossing.new_version_path("/usr/local/lib/python3.11/dist-packages")
    assert crossing.new_version_path("/var/lib/postgresql/15")
    assert crossing.new_version_path("/var/lib/postgresql/15/main/base/1/112")
    assert crossing.new_version_path("/var/lib/python/python3.11_installed")
    assert not crossing.new_version_path("/var/lib/python/python3.110")
    assert not crossing.new_version_path("/var/lib/postgresql/13/main/PG_VERSION")
    assert not crossing.new_version_path("/usr/local/lib/python3.9/dist-packages")
    assert crossing.packaged_default("/etc/sudoers")
    assert not crossing.packaged_default("/etc/nginx/nginx.conf")  # changed on the source


def test_what_the_new_releases_packages_made_is_listed_not_failed() -> None:
    from evacuate.verify.files import TargetFiles, compare_data_trees
    from tests.unit.verify.builders import entry, manifest
    from tests.unit.verify.test_files import scanned

    crossing = crossing_of(*hosts(), UNAVAILABLE)
    # the source's 13/main is a database directory (dumped, not carried); the rest of
    # postgres's home moves; the bookworm target's packages made 15/main and python3.11's
    # marker
    snapshot = replace(manifest(), roots=("/var/lib/postgresql", "/var/lib/python"), files=(
        entry("/var/lib/postgresql", kind="dir"), entry("/var/lib/postgresql/.psql_history"),
        entry("/var/lib/python", kind="dir")))
    entries = {f.path: scanned(f) for f in snapshot.files}
    for path in ("/var/lib/postgresql/15", "/var/lib/postgresql/15/main/PG_VERSION",
                 "/var/lib/python/python3.11_installed"):
        entries[path] = scanned(entry(path))
    checks = {c.name: c for c in compare_data_trees(snapshot, TargetFiles(entries, {}), set(),
                                                     crossing=crossing)}
    assert not [c for c in checks.values() if c.failed], checks
    assert "/var/lib/postgresql/15/main/PG_VERSION" in checks[
        "/var/lib/postgresql (the target release's own)"].detail
    # the same entries on the same release are not the target's own: they fail
    same = compare_data_trees(snapshot, TargetFiles(entries, {}), set())
    assert {c.name for c in same if c.failed} >= {"/var/lib/postgresql/15/main/PG_VERSION",
                                                  "/var/lib/python/python3.11_installed"}
