"""A second instance of an engine (a second PostgreSQL cluster, made with
``pg_createcluster 15 second --port 5433``, inventory captured on the lab's lab-source:
tests/fixtures/inventory/postgresql/bookworm_two_clusters.json) is never folded into the
first: it is not dumped (its databases would load into the target's main cluster), the
plan names it, the cutover stops it, and verify and owners read the dumped cluster."""

from __future__ import annotations

import json
from pathlib import Path

from evacuate.engines import (
    extra_instances,
    owner_of,
    plan_warnings,
    primary_server,
    selected_servers,
    undumped_units,
)
from evacuate.inventory.facts.postgresql import parse
from evacuate.inventory.model import HostInventory
from evacuate.snapshot.databases import jobs_for
from evacuate.snapshot.engine import SnapshotRequest, plan_snapshot
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from evacuate.verify.databases import counts_script

CAPTURED = Path(__file__).parent.parent / "fixtures" / "inventory" / "postgresql" / \
    "bookworm_two_clusters.json"
SERVERS = parse(json.loads(CAPTURED.read_text())["output"])
SOURCE = HostInventory(host="source", collected_at="", databases=SERVERS)  # type: ignore[call-arg]


def test_both_clusters_are_found_each_with_its_own_databases() -> None:
    assert [(s.cluster, s.port, s.data_dir) for s in SERVERS] == [
        ("main", 5432, "/var/lib/postgresql/15/main"),
        ("second", 5433, "/var/lib/postgresql/15/second")]
    assert sorted(d.name for d in SERVERS[1].databases) == ["ledger", "postgres", "shop"]


def test_only_the_first_cluster_is_dumped_and_the_second_is_named() -> None:
    selection = selected_servers(SERVERS, {})
    assert selection.dumped == (SERVERS[0],) and selection.as_files == (SERVERS[1],)
    assert len(selection.warnings) == 1
    warning = selection.warnings[0]
    assert "postgresql 15/second (port 5433, /var/lib/postgresql/15/second)" in warning
    assert "beside postgresql 15/main (port 5432" in warning and "not dumped" in warning
    jobs = [j for s in selection.dumped for j in jobs_for(s)]
    assert all("-p 5432" in j.command for j in jobs)
    assert "ledger" not in {j.database for j in jobs}


def test_its_data_directory_moves_as_files_and_the_main_ones_does_not() -> None:
    plan = plan_snapshot(SOURCE, SnapshotRequest(host="source"))
    assert plan.database_dirs == ["/var/lib/postgresql/15/main"]
    assert plan.exclusion.classify("/var/lib/postgresql/15/second/PG_VERSION", None,
                                   "file").carried
    assert not plan.exclusion.classify("/var/lib/postgresql/15/main/PG_VERSION", None,
                                       "file").carried


def test_the_plan_warns_and_the_cutover_stops_its_unit() -> None:
    warned = plan_warnings(SOURCE, [("postgresql", "shop")])
    assert warned == list(extra_instances(SERVERS).values())
    assert undumped_units(SOURCE) == ("postgresql@15-second.service",)


def test_owners_and_verify_read_the_dumped_cluster() -> None:
    assert primary_server(SERVERS, "postgresql") is SERVERS[0]
    assert owner_of(SOURCE, "postgresql", "shop") == "shop"  # not the second's postgres
    dump = DumpEntry("postgresql", "shop", "custom", BlobRef("0" * 64, 1, 1), False, {"a": 1})
    script = counts_script(SOURCE, [dump])
    assert "-p 5432" in script and "-p 5433" not in script


def test_a_lone_cluster_is_no_second_instance() -> None:
    assert extra_instances(SERVERS[:1]) == {} and undumped_units(
        HostInventory(host="s", collected_at="", databases=SERVERS[:1])) == ()  # type: ignore[call-arg]
