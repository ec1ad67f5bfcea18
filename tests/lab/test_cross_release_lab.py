"""Crossing a release: the doomed server is old (Debian 11 bullseye: PostgreSQL 13,
MariaDB 10.5) and the new host current (Debian 12 bookworm: PostgreSQL 15, MariaDB 10.11).
The plan maps the packages and units to the target's release and warns about what differs;
the run moves the databases through their dumps; verify passes on the target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.lab.lab import Lab, cross_release_lab
from tests.lab.conftest import running_lab
from tests.lab.source_state import changes
from tests.lab.test_run_lab import _source_state, evacuate, write_config

LAB_ID, LAB_INDEX = "evx", 6  # a lab of its own (the roles lab is evr/5)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def old_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = cross_release_lab(LAB_ID, LAB_INDEX, "bullseye", "bookworm")
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("cross-lab"), spec) as lab:
        yield lab


@pytest.fixture(scope="module")
def crossed(old_lab: Lab, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, dict[str, Any], str]:
    folder = tmp_path_factory.mktemp("cross-run")
    config = write_config(old_lab, folder)
    before = _source_state(old_lab)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    ran = evacuate(config, "run")
    assert ran.returncode == 0, (ran.stderr + ran.stdout)[-3000:]
    (folder / "source-unchanged.txt").write_text("\n".join(changes(before, _source_state(old_lab))))
    return config, json.loads(planned.stdout), ran.stderr + ran.stdout


def _target(lab: Lab, command: str) -> str:
    with lab.open("lab-target") as target:
        return target.run(command, timeout=120, check=True).text


def test_the_plan_maps_packages_and_units_to_the_targets_release(
        crossed: tuple[Path, dict[str, Any], str]) -> None:
    _config, plan, _output = crossed
    assert "bullseye" in str(plan["source_os"]) and "bookworm" in str(plan["target_os"])
    renamed = {old: new for old, new in plan["packages_renamed"]}
    assert renamed["libssl1.1"] == "libssl3" and renamed["gcc-10-base"] == "gcc-12-base"
    assert {"libssl3", "gcc-12-base", "postgresql", "mariadb-server", "nginx"} <= \
        set(plan["packages"])
    assert "libssl1.1" not in plan["packages"]
    assert "libpcre3" in plan["packages_missing"]
    assert "postgresql@15-main.service" in plan["services_started"]
    assert not any("/etc/postgresql/13/" in p for p in plan["config_files"])
    warnings = {w["code"]: w["message"] for w in plan["warnings"]}
    assert {"os-release", "package-renamed", "package-missing", "database-upgrade",
            "config-release", "conffile-release", "service-renamed"} <= set(warnings)
    assert "libssl1.1 → libssl3" in warnings["package-renamed"]
    assert "/etc/postgresql/13/main/postgresql.conf" in warnings["config-release"]
    assert "/etc/nginx/nginx.conf" in warnings["conffile-release"]
    upgrades = [w["message"] for w in plan["warnings"]
                if w["code"] == "database-upgrade"]
    assert any(m.startswith("postgresql 13.") for m in upgrades)
    assert any(m.startswith("mariadb 10.5.") and "→ 10.11." in m for m in upgrades)


def test_the_run_verifies_on_the_newer_release(crossed: tuple[Path, dict[str, Any], str]
                                               ) -> None:
    config, _plan, output = crossed
    assert "verify done" in output
    reports = sorted((config.parent / "state" / "reports").glob("verify-*.json"))
    report = json.loads(reports[-1].read_text())
    checks = {f"{c['area']}:{c['name']}": c for c in report["checks"]}
    assert not [name for name, c in checks.items() if c["status"] == "fail"]
    assert checks["packages:libssl1.1"]["found"].startswith("libssl3 ")
    assert checks["services:postgresql@15-main.service"]["status"] == "pass"
    assert checks["packages:nginx"]["detail"].startswith("version differs")


def test_the_databases_moved_into_the_new_servers(old_lab: Lab, crossed: object) -> None:
    clusters = _target(old_lab, "pg_lsclusters --no-header")
    assert clusters.split()[:4] == ["15", "main", "5432", "online"], clusters
    assert "13" not in _target(old_lab, "ls /etc/postgresql")
    assert _target(old_lab, "runuser -u postgres -- psql -XAt -d shop -c "
                            "'select count(*) from orders'").strip() == "5000"
    assert _target(old_lab, "runuser -u postgres -- psql -XAt -c "
                            "\"select count(*) from pg_roles where rolname = 'shop'\"").strip() == "1"
    assert " 10.11." in _target(old_lab, "mariadb --version")
    assert _target(old_lab, "mariadb -N -B -e 'select count(*) from blog.comments'").strip() \
        == "3000"
    assert _target(old_lab, "systemctl is-active postgresql@15-main nginx mariadb notes "
                            "notes-cleanup.timer").split() == ["active"] * 5
    # the changed conffiles came along (the plan warned that they replace bookworm's own)
    assert "max_connections         = 200" in _target(
        old_lab, "cat /etc/mysql/mariadb.conf.d/50-server.cnf")
    assert _target(old_lab, "grep -c '^\\s*server_tokens off;' /etc/nginx/nginx.conf").strip() \
        == "1"


def test_the_old_clusters_configuration_is_carried_into_the_new_one(
        old_lab: Lab, crossed: tuple[Path, dict[str, Any], str]) -> None:
    """13's tuning (max_connections 150) and its access rule reach 15's cluster; 13's own
    paths (data_directory, stats_temp_directory) do not."""
    _config, _plan, output = crossed
    assert "postgresql 13 → 15: carried 13's main configuration into /etc/postgresql/15/main: " \
           "pg_hba.conf, pg_ident.conf" in " ".join(output.split())
    sql = "runuser -u postgres -- psql -XAt -c 'show {}'"
    assert _target(old_lab, sql.format("max_connections")).strip() == "150"
    assert _target(old_lab, sql.format("data_directory")).strip() == "/var/lib/postgresql/15/main"
    assert "shop\treporting\t10.231.0.0/24" in _target(old_lab,
                                                        "cat /etc/postgresql/15/main/pg_hba.conf")
    carried = _target(old_lab, "cat /etc/postgresql/15/main/conf.d/evacuate-from-13.conf")
    assert "max_connections = 150" in carried
    assert "stats_temp_directory" not in carried and "data_directory" not in carried


def test_the_old_source_is_unchanged(crossed: tuple[Path, dict[str, Any], str]) -> None:
    config, _plan, _output = crossed
    assert (config.parent / "source-unchanged.txt").read_text() == ""
