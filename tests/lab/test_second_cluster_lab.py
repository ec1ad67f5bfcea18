"""A second PostgreSQL cluster on lab-source (``pg_createcluster 15 second --port 5433``,
with a ledger database and a shop database of its own beside the main cluster's shop, a
setting and a pg_hba.conf line of its own): evacuate dumps it on its port and rebuilds it
on the target as its own cluster, never folded into the main one: the target has a cluster
15/second on 5433 holding ledger with the source's rows and its own shop, its
configuration is the source's, the main cluster has no ledger and its shop is the main
cluster's; verify checks each cluster's databases on its own port, the port answers, and
no check fails."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from evacuate.lab.lab import Lab
from tests.lab.second_instance import Evacuated, evacuated_with, on

AS_PG = "runuser -u postgres -- "
CONF = "/etc/postgresql/15/second"
HBA_LINE = "host ledger postgres 192.0.2.0/24 scram-sha-256"
SECOND = (f"pg_createcluster 15 second --port 5433 >/dev/null && "
          f"echo \"work_mem = '7MB'\" >> {CONF}/postgresql.conf && "
          f"echo '{HBA_LINE}' >> {CONF}/pg_hba.conf && "
          "systemctl start postgresql@15-second && "
          f"{AS_PG}createdb -p 5433 ledger && {AS_PG}psql -Xq -p 5433 -d ledger -c "
          "'create table entries (id int primary key, amount numeric); insert into entries "
          "select g, g * 1.5 from generate_series(1, 40) g' && "
          f"{AS_PG}createdb -p 5433 shop && {AS_PG}psql -Xq -p 5433 -d shop -c "
          "'create table second_only (id int); insert into second_only values (1)'")
LEDGER = f"{AS_PG}psql -XAt -p 5433 -d ledger -c 'select count(*), sum(amount) from entries'"


def databases(port: int) -> str:
    return (f"{AS_PG}psql -XAt -p {port} -d postgres -c "
            "'select datname from pg_database order by 1'")


def shop_tables(port: int) -> str:
    return (f"{AS_PG}psql -XAt -p {port} -d shop -c \"select tablename from pg_tables where "
            "schemaname = 'public' order by 1\"")


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evacuated]:
    yield from evacuated_with(lab, tmp_path_factory, SECOND, "second-cluster")


def test_the_plan_dumps_each_cluster_as_its_own(evacuated: Evacuated) -> None:
    plan, _, _ = evacuated
    assert not [w for w in plan["warnings"] if "second" in w["message"]], plan["warnings"]
    assert plan["undumped_units"] == []
    found = {(d["engine"], d["name"]) for d in plan["databases"]
             if d["engine"].startswith("postgresql")}
    assert found == {("postgresql", n) for n in ("*globals*", "postgres", "shop")} | {
        ("postgresql@15-second:5433", n) for n in ("*globals*", "postgres", "ledger", "shop")}


def test_the_target_has_the_second_cluster_with_its_databases(
        lab: Lab, evacuated: Evacuated) -> None:
    _, ran, _ = evacuated
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-3000:]
    assert "postgresql@15-second:5433:ledger: restored" in output, output[-3000:]
    clusters = on(lab, "lab-target", "pg_lsclusters -h").split("\n")
    assert any(line.split()[:4] == ["15", "second", "5433", "online"] for line in clusters), \
        clusters
    assert on(lab, "lab-target", LEDGER).strip() == on(lab, "lab-source", LEDGER).strip() \
        == "40|1230.0"
    assert "second_only" in on(lab, "lab-target", shop_tables(5433)).split()


def test_nothing_of_it_is_folded_into_the_main_cluster(lab: Lab, evacuated: Evacuated) -> None:
    assert "ledger" not in on(lab, "lab-target", databases(5432)).split()
    tables = on(lab, "lab-target", shop_tables(5432)).split()
    assert tables and "second_only" not in tables


def test_the_second_clusters_configuration_is_the_sources(
        lab: Lab, evacuated: Evacuated) -> None:
    show = f"{AS_PG}psql -XAt -p 5433 -d postgres -c 'show work_mem'"
    assert on(lab, "lab-target", show).strip() == "7MB"
    assert HBA_LINE in on(lab, "lab-target", f"cat {CONF}/pg_hba.conf").splitlines()


def test_verify_checks_each_cluster_on_its_port_and_nothing_fails(
        evacuated: Evacuated) -> None:
    _, _, folder = evacuated
    report = sorted((folder / "state" / "reports").glob("verify-*.json"))[-1]
    checks = {c["id"]: c for c in json.loads(report.read_text())["checks"]}
    failed = {i: c for i, c in checks.items() if c["status"] == "fail"}
    assert failed == {}
    assert checks["databases:15-second:5433/ledger: public.entries"]["status"] == "pass"
    assert checks["databases:15-second:5433/shop: public.second_only"]["status"] == "pass"
    assert checks["databases:shop: public.orders"]["status"] == "pass"
    port = [c["status"] for i, c in checks.items()
            if i.startswith("listeners:tcp") and i.endswith("/5433")]
    assert port and set(port) == {"pass"}, port
