"""Mapping package names, units and config paths onto another release, with the package
lists of the real lab images (bullseye lab-source, the bookworm lab repository)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from evacuate.inventory import HostInventory, from_json
from evacuate.plan.crossing import carried_config, cross_release, warn_engines
from evacuate.plan.model import PlanWarning
from evacuate.plan.release import (
    VersionChange,
    map_package_name,
    map_packages,
    map_unit,
    release_bound,
    stem,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "release"


def bullseye_packages() -> list[tuple[str, str, bool]]:
    rows = (line.split() for line in (FIXTURES / "bullseye-lab-source.packages").read_text()
            .splitlines())
    return [(name, version, kind == "manual") for name, version, kind in rows]


def bookworm_names() -> frozenset[str]:
    return frozenset((FIXTURES / "bookworm-lab-repo.names").read_text().split())


def inventory(name: str) -> HostInventory:
    with gzip.open(FIXTURES / f"{name}.inventory.json.gz") as handle:
        return from_json(json.loads(handle.read()))


def test_the_bullseye_sources_manual_packages_on_the_bookworm_repository() -> None:
    packages = bullseye_packages()
    mapping = map_packages([n for n, _v, manual in packages if manual], bookworm_names(),
                           [n for n, _v, _m in packages])
    assert dict(mapping.renamed) == {"gcc-10-base": "gcc-12-base", "gcc-9-base": "gcc-12-base",
                                     "libssl1.1": "libssl3"}
    assert mapping.missing == ("libpcre3", "lsb-base")  # not in the lab's bookworm repository
    assert {"nginx", "postgresql", "mariadb-server", "python3"} <= set(mapping.kept)
    assert "gcc-12-base" in mapping.target_names and "libssl1.1" not in mapping.target_names


def test_versioned_servers_and_soname_bumps_map_by_stem() -> None:
    names = bookworm_names()
    renamed = dict(map_packages([n for n, _v, _m in bullseye_packages()], names).renamed)
    assert renamed["postgresql-13"] == "postgresql-15"
    assert renamed["postgresql-client-13"] == "postgresql-client-15"
    # bookworm ships MariaDB without a version in the package names
    assert renamed["mariadb-server-10.5"] == "mariadb-server"
    assert renamed["mariadb-server-core-10.5"] == "mariadb-server-core"
    assert renamed["libperl5.32"] == "libperl5.36"
    assert renamed["perl-modules-5.32"] == "perl-modules-5.36"
    assert renamed["python3.9"] == "python3.11"  # the same shape of version, not python3
    assert renamed["libldap-2.4-2"] == "libldap-2.5-0"
    assert renamed["libffi7"] == "libffi8"
    assert renamed["libcbor0"] == "libcbor0.8"
    # a rename that keeps no stem is not guessed: reported as missing by the plan
    assert "libprocps8" not in renamed and "libproc2-0" in names


def test_names_are_never_mapped_to_an_older_version_or_another_stem() -> None:
    names = bookworm_names()
    assert map_package_name("postgresql-17", names) is None
    assert map_package_name("libpcre3", names) is None  # libpcre2-8-0 is another library
    assert map_package_name("nginx", names) == "nginx"
    assert stem("gcc-10-base") == "gcc-#-base" and stem("libldap-2.4-2") == "libldap-#-#"


def test_the_64_bit_time_rename_of_trixie() -> None:
    assert map_package_name("libssl3", {"libssl3t64", "libssl-dev"}) == "libssl3t64"


def test_version_changes_move_units_and_mark_the_old_versions_config() -> None:
    packages = bullseye_packages()
    changes = map_packages([], bookworm_names(), [n for n, _v, _m in packages]).changes
    postgresql = VersionChange("postgresql", "13", "15")
    assert postgresql in changes
    assert all(not c.family.startswith("lib") and c.family != "gcc" for c in changes)
    assert map_unit("postgresql@13-main.service", changes) == "postgresql@15-main.service"
    assert map_unit("postgresql.service", changes) == "postgresql.service"
    assert map_unit("nginx.service", changes) == "nginx.service"
    php = (VersionChange("php", "7.4", "8.2"),)
    assert map_unit("php7.4-fpm.service", php) == "php8.2-fpm.service"
    assert map_unit("php7.40-fpm.service", php) == "php7.40-fpm.service"
    assert release_bound("/etc/postgresql/13/main/postgresql.conf", changes) == postgresql
    assert release_bound("/etc/postgresql-common/createcluster.conf", changes) is None
    assert release_bound("/etc/postgresql/15/main/postgresql.conf", changes) is None


def test_the_plans_crossing_of_the_real_lab_source() -> None:
    source = inventory("bullseye-lab-source")
    manual = [p.name for p in source.packages if p.manual]
    names = bookworm_names()
    crossing = cross_release(source, [n for n in manual if n not in names], names,
                             "Debian GNU/Linux 12 (bookworm)")
    assert crossing.install == ("gcc-12-base", "libssl3")
    assert crossing.missing == ("libpcre3", "lsb-base")
    assert [w.code for w in crossing.warnings] == ["package-renamed"]
    assert "libssl1.1 → libssl3" in crossing.warnings[0].message
    warnings: list[PlanWarning] = []
    kept = carried_config(["/etc/nginx/nginx.conf", "/etc/postgresql/13/main/pg_hba.conf"],
                          crossing.changes, warnings)
    assert kept == ["/etc/nginx/nginx.conf"]
    assert warnings[0].code == "config-release" and "pg_hba.conf" in warnings[0].message
    engines: list[PlanWarning] = []
    warn_engines(source, {"postgresql": "15+248+deb12u1", "mariadb-server": "1:10.11.18-0+deb12u1"},
                 engines)
    assert [w.message.split(":")[0] for w in engines] == ["postgresql 13.16 → 15",
                                                         "mariadb 10.5.23 → 10.11.18"]


@pytest.mark.parametrize("names", [frozenset(), None])
def test_without_the_targets_names_nothing_is_mapped(names: frozenset[str] | None) -> None:
    crossing = cross_release(inventory("bullseye-lab-source"), ["libssl1.1"], names, "x")
    assert crossing.missing == ("libssl1.1",) and not crossing.install
