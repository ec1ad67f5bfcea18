"""A second PostgreSQL cluster on lab-source (``pg_createcluster 15 second --port 5433``,
with a ledger database and a shop database of its own beside the main cluster's shop):
evacuate dumps and rebuilds the main cluster only, and the second one is never folded into
it: the plan names it (and the cutover's list of units to stop holds its unit), the target's
main cluster has no ledger and its shop is the main cluster's, not the second's; verify does
not pass what was not carried: the second cluster's databases are not verified."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import evacuate, write_config

AS_PG = "runuser -u postgres -- "
Evacuated = tuple[dict[str, Any], subprocess.CompletedProcess[str], Path]
SECOND = (f"pg_createcluster 15 second --port 5433 --start >/dev/null && "
          f"{AS_PG}createdb -p 5433 ledger && {AS_PG}psql -Xq -p 5433 -d ledger -c "
          "'create table entries (id int primary key, amount numeric); insert into entries "
          "select g, g * 1.5 from generate_series(1, 40) g' && "
          f"{AS_PG}createdb -p 5433 shop && {AS_PG}psql -Xq -p 5433 -d shop -c "
          "'create table second_only (id int); insert into second_only values (1)'")
DATABASES = f"{AS_PG}psql -XAt -p 5432 -d postgres -c 'select datname from pg_database order by 1'"
SHOP_TABLES = (f"{AS_PG}psql -XAt -p 5432 -d shop -c \"select tablename from pg_tables where "
               "schemaname = 'public' order by 1\"")


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[dict[str, Any], subprocess.CompletedProcess[str], Path]]:
    lab.reset("lab-source")
    lab.reset("lab-target")
    with lab.open("lab-source") as source:
        source.run(SECOND, timeout=300, check=True)
    try:
        folder = tmp_path_factory.mktemp("second-cluster")
        config = write_config(lab, folder)
        planned = evacuate(config, "plan", "source", "--to", "target", "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        ran = evacuate(config, "run")
        yield json.loads(planned.stdout), ran, folder
    finally:  # the other modules get a lab-source with one cluster
        lab.reset("lab-source")
        lab.reset("lab-target")


def _target(lab: Lab, command: str) -> str:
    with lab.open("lab-target") as target:
        return target.run(command, timeout=120, check=True).text


def test_the_plan_names_the_second_cluster_and_stops_it_at_cutover(
        evacuated: Evacuated) -> None:
    plan, _, _ = evacuated
    named = [w["message"] for w in plan["warnings"]
             if "postgresql 15/second (port 5433, /var/lib/postgresql/15/second)" in w["message"]]
    assert len(named) == 1 and "not dumped" in named[0], plan["warnings"]
    assert "beside postgresql 15/main (port 5432" in named[0]
    assert plan["undumped_units"] == ["postgresql@15-second.service"]
    # the main cluster's databases only (its postgres database too), never the second's ledger
    assert {d["name"] for d in plan["databases"] if d["engine"] == "postgresql"} == {
        "*globals*", "postgres", "shop"}


def test_the_second_clusters_databases_are_not_folded_into_the_main_one(
        lab: Lab, evacuated: Evacuated) -> None:
    _, ran, _ = evacuated
    output = ran.stdout + ran.stderr
    assert "postgresql:shop: restored" in output, output[-3000:]
    assert "ledger" not in _target(lab, DATABASES).split()
    tables = _target(lab, SHOP_TABLES).split()
    assert tables and "second_only" not in tables


def test_verify_counts_the_second_clusters_databases_as_not_verified(
        evacuated: Evacuated) -> None:
    _, _, folder = evacuated
    report = sorted((folder / "state" / "reports").glob("verify-*.json"))[-1]
    checks = {c["id"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks["databases:postgresql/ledger"]["status"] == "unverified"
    assert checks["databases:shop: public.orders"]["status"] == "pass"
