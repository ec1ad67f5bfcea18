"""Coverage: everything the source's inventory saw (listening ports, enabled units, data
stores, data trees) is covered by a check or reported as not verified with the reason; the
coverage figure; what the reports and the CLI make of it."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.cli.verify_render import render_report
from evacuate.inventory.model import (
    Database,
    DatabaseServer,
    DataCandidate,
    HostInventory,
    Listener,
    Package,
    Service,
    Socket,
)
from evacuate.verify.coverage import NO_CHECK, assess, seen_items
from evacuate.verify.databases import CountResult, compare_databases, counted_dumps
from evacuate.verify.engine import compare_inventories
from evacuate.verify.files import compare_data_trees
from evacuate.verify.html_report import html_report
from evacuate.verify.junit import junit_xml
from evacuate.verify.model import (
    Check,
    Coverage,
    Status,
    VerifyReport,
    failed,
    passed,
    report_to_json,
    skipped,
)
from tests.unit.verify.builders import manifest, source_inventory
from tests.unit.verify.test_files import mirror

REDIS = Listener("tcp", "127.0.0.1", 6379, process="redis-server", unit="redis-server.service")


def busy_source() -> HostInventory:
    """The builders' source with a redis, a PostgreSQL server and data trees."""
    base = source_inventory()
    return replace(
        base,
        packages=(*base.packages, Package("redis-server", "5:7.0.15-1")),
        services=(*base.services, Service("redis-server.service", "enabled", "active")),
        sockets=(Socket("notes.socket", enabled_state="enabled", active_state="active",
                        locally_written=True),),
        listeners=(*base.listeners, REDIS),
        databases=(DatabaseServer("postgresql", "15", "/var/lib/postgresql/15/main", 5432,
                                  databases=(Database("shop"), Database("template0")),
                                  roles=("postgres", "shop")),),
        data_candidates=(DataCandidate("/srv", "srv"),
                         DataCandidate("/var/lib/postgresql", "database"),
                         DataCandidate("/var/lib/wiki", "other")))


def checks_of_an_identical_target(source: HostInventory) -> list[Check]:
    """What the engine's check modules say about a target that is the source's copy."""
    snapshot = manifest(source)
    dumps = counted_dumps(snapshot.dumps)
    found = [CountResult(d.engine, d.database, dict(d.tables)) for d in dumps]
    return (compare_inventories(source, source)
            + compare_data_trees(snapshot, mirror(snapshot.files), set())
            + compare_databases(dumps, found))


def unverified(source: HostInventory, checks: list[Check]) -> dict[str, str]:
    coverage, missing = assess(seen_items(source, manifest(source)), checks)
    assert coverage.not_verified == len(missing)
    assert all(c.status is Status.UNVERIFIED for c in missing)
    return {c.id: c.detail for c in missing}


def test_every_port_unit_data_store_and_data_tree_is_an_item() -> None:
    source = busy_source()
    names = {(i.area, i.name) for i in seen_items(source, manifest(source))}
    assert {("listeners", "tcp/80"), ("listeners", "tcp/8080"), ("listeners", "tcp/5432"),
            ("listeners", "tcp/6379"), ("listeners", "udp/40000"),
            ("services", "nginx.service"), ("services", "notes.service"),
            ("services", "notes-cleanup.timer"), ("services", "notes.socket"),
            ("services", "redis-server.service"),
            ("databases", "postgresql/shop"), ("databases", "postgresql roles"),
            ("redis", "redis data (port 6379)"),
            ("data", "/srv"), ("data", "/var/lib/postgresql"), ("data", "/var/lib/wiki")} == names
    # the machine's own units and an engine's own databases are set aside by rule
    assert not any("getty" in n or "journald" in n or "template0" in n for _a, n in names)


def test_an_identical_target_leaves_unverified_only_what_has_no_check() -> None:
    source = busy_source()
    assert unverified(source, checks_of_an_identical_target(source)) == {
        "redis:redis data (port 6379)": NO_CHECK,
        "listeners:udp/40000": "a port in the ephemeral range (assigned anew at each start) "
                               "and its unit rpc-statd.service has no check",
        "data:/var/lib/wiki": "not in the snapshot: this data tree was not carried",
    }
    coverage, _ = assess(seen_items(source, manifest(source)),
                         checks_of_an_identical_target(source))
    assert coverage == Coverage(seen=16, checked=13)
    assert coverage.summary() == "coverage 13/16 (81%)"


def test_each_item_is_not_verified_when_its_check_is_missing() -> None:
    source = busy_source()
    checks = checks_of_an_identical_target(source)
    always = set(unverified(source, checks))
    for gone, items in (("listeners:tcp/8080", {"listeners:tcp/8080"}),
                        ("services:notes.socket", {"services:notes.socket"}),
                        ("data:/srv", {"data:/srv"}),
                        ("databases:postgresql role ", {"databases:postgresql roles"}),
                        ("databases:shop: ", {"databases:postgresql/shop",
                                              "data:/var/lib/postgresql"})):
        kept = [c for c in checks if not c.id.startswith(gone)]
        assert len(kept) < len(checks), gone
        assert set(unverified(source, kept)) - always == items


def test_a_mail_or_redis_check_covers_its_data_store() -> None:
    source = busy_source()
    checks = [*checks_of_an_identical_target(source), passed("redis", "db0", "1000 keys")]
    assert "redis:redis data (port 6379)" not in unverified(source, checks)
    mail = replace(source, packages=(*source.packages, Package("postfix", "3.7")))
    assert unverified(mail, checks)["mail:mail data"] == NO_CHECK
    assert "mail:mail data" not in unverified(mail, [*checks, passed("mail", "alice INBOX")])


def test_skipped_checks_leave_the_item_not_verified_with_their_reason() -> None:
    source = busy_source()
    checks = [c for c in checks_of_an_identical_target(source) if c.area != "databases"]
    checks.append(skipped("databases", "postgresql/shop", "row counts were not read"))
    assert unverified(source, checks)["databases:postgresql/shop"] == "row counts were not read"
    no_listeners = [c for c in checks if c.area != "listeners"]
    no_listeners.append(skipped("listeners", "*", "the target's listeners are unknown: x"))
    missing = unverified(source, no_listeners)
    assert missing["listeners:tcp/80"] == "the target's listeners are unknown: x"


def test_an_area_that_could_not_be_read_counts_as_checked_and_fails() -> None:
    source = busy_source()
    checks = [c for c in checks_of_an_identical_target(source) if c.area != "data"]
    checks.append(failed("data", "*", "readable", "error", "the scan did not finish"))
    missing = unverified(source, checks)
    assert "data:/srv" not in missing


def test_an_ephemeral_port_of_a_checked_unit_is_covered_by_the_unit() -> None:
    source = busy_source()
    statd = Service("rpc-statd.service", "enabled", "active")
    source = replace(source, services=(*source.services, statd))
    assert "listeners:udp/40000" not in unverified(source, checks_of_an_identical_target(source))


def _report(*checks: Check, seen: int = 3) -> VerifyReport:
    unverified_count = sum(c.status is Status.UNVERIFIED for c in checks)
    return VerifyReport("web1", "web1-new", "snap", "2026-11-23T17:00:00Z", 1.0, checks,
                        coverage=Coverage(seen, seen - unverified_count))


REDIS_GAP = Check("redis", "redis data (port 6379)", Status.UNVERIFIED, detail=NO_CHECK)


def test_not_verified_alone_fails_only_a_strict_verification() -> None:
    report = _report(passed("listeners", "tcp/80"), REDIS_GAP)
    assert report.ok and report.passes() and not report.passes(strict=True)
    assert _report(passed("listeners", "tcp/80")).passes(strict=True)
    assert not _report(failed("listeners", "tcp/80"), REDIS_GAP).passes()


def test_every_report_shows_what_is_not_verified_and_the_coverage() -> None:
    report = _report(passed("listeners", "tcp/80"), failed("users", "alice"), REDIS_GAP)
    data = json.loads(json.dumps(report_to_json(report)))
    assert data["counts"]["unverified"] == 1
    assert data["coverage"] == {"seen": 3, "checked": 2, "not_verified": 1}
    assert data["checks"][2]["status"] == "unverified"

    root = ET.fromstring(junit_xml(report))
    assert root.get("skipped") == "1"
    case = next(c for c in root.iter("testcase") if c.get("name") == "redis data (port 6379)")
    skip = case.find("skipped")
    assert skip is not None
    assert skip.get("message") == "not verified: no check for this data store yet"
    assert root.find("testsuite/properties/property[@name='coverage']").get(  # type: ignore[union-attr]
        "value") == "coverage 2/3 (66%), 1 not verified"

    page = html_report(report)
    assert "1 not verified" in page and "<h2>Not verified</h2>" in page
    assert "redis data (port 6379)" in page and "2/3" in page

    from evacuate.cli.console import make_console

    buffer = io.StringIO()
    wide = make_console(buffer)
    wide.width = 200
    render_report(report, out=wide)
    text = buffer.getvalue()
    assert "not verified: redis data (port 6379): no check for this data store yet" in text
    assert "1 not verified; coverage 2/3 (66%) of what the inventory saw" in text


def test_the_cli_exits_1_on_not_verified_only_with_strict(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import evacuate.cli.verify_cmds as cmds
    from evacuate.cli.app import run_cli

    report = _report(passed("listeners", "tcp/80"), REDIS_GAP)
    monkeypatch.setattr(cmds.actions, "verify_target", lambda *a, **k: report)
    monkeypatch.setattr(cmds, "open_repository", lambda *a, **k: None)
    base = ["verify", "a.example", "b.example", "--state-dir", str(tmp_path / "s")]
    assert run_cli(base) == 0
    assert run_cli([*base, "--strict"]) == 1


def test_a_database_directory_outside_the_usual_places_is_covered_by_its_engines_checks() -> None:
    """redis keeps its data in /var/lib/redis, a plain state directory by its path: the
    inventory's redis server says it is redis's, so redis's checks cover it."""
    source = busy_source()
    source = replace(source, databases=(*source.databases,
                                        DatabaseServer("redis", "7.0", "/var/lib/redis", 6379)),
                     data_candidates=(*source.data_candidates,
                                      DataCandidate("/var/lib/redis", "state")))
    checks = checks_of_an_identical_target(source)
    assert "data:/var/lib/redis" in unverified(source, checks)
    assert "data:/var/lib/redis" not in unverified(
        source, [*checks, passed("redis", "db0", "1000 keys")])
