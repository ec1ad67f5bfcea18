"""Rendering a saved plan as an Ansible project: the roles come from the package, and the
README's ``evacuate export`` command works as printed (run through the CLI, from the
project directory, against a real local store holding a small snapshot)."""

from __future__ import annotations

import io
import json
import shlex
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.actions.plan import cli_options
from evacuate.cli.app import run_cli
from evacuate.plan.model import DatabasePlan, RebuildPlan
from evacuate.plan.persist import plan_from_json
from evacuate.plan.render import PLAYBOOKS, host_vars, render_project
from evacuate.snapshot.manifest import DumpEntry, FileEntry, SnapshotManifest, Totals
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir, write_json

PLAN_FIXTURE = Path(__file__).parents[2] / "fixtures" / "plan" / "doomed.json"


def saved_plan() -> RebuildPlan:
    return plan_from_json(json.loads(PLAN_FIXTURE.read_text()))


def readme_commands(project: Path, verb: str) -> list[list[str]]:
    """The ``evacuate <verb>`` command lines of the README's sh block, as argv."""
    lines = (project / "README.md").read_text().split("```sh\n", 1)[1].split("```")[0]
    return [shlex.split(line, comments=True) for line in lines.splitlines()
            if line.startswith(f"evacuate {verb} ")]


def test_the_project_has_the_roles_from_the_package(tmp_path: Path) -> None:
    project = render_project(saved_plan(), tmp_path / "project", vault_document="vault\n")
    roles = sorted(p.name for p in (project / "roles").iterdir())
    assert roles == sorted(p.name for p in (PLAYBOOKS / "roles").iterdir()) and roles
    assert (project / "site.yml").read_text() == (PLAYBOOKS / "site.yml").read_text()
    assert (project / "host_vars" / "fresh.yml").exists()


def test_the_readme_export_command_works_as_printed(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    state, store = StateDir(tmp_path / "state"), tmp_path / "store"
    repo = open_repository(None, state, str(store), create=True)
    page = b"<h1>shop</h1>\n"
    blob = repo.blobs.put_stream(io.BytesIO(page))
    dump = repo.blobs.put_stream(io.BytesIO(b"PGDMP fake custom dump"))
    owner = {"uid": 0, "gid": 0, "user": "root", "group": "root", "mtime": "1764676800.0"}
    snapshot = "20261202T115500Z-0a0b"
    repo.commit(SnapshotManifest(
        id=snapshot, host="doomed", created="2026-12-02T11:55:00Z", tool_version="t",
        roots=("/srv",), excludes=(), inventory={}, totals=Totals(files=2), dumps=(
            DumpEntry("postgresql", "shop", "custom", dump),),
        files=(FileEntry("/srv/shop", "dir", 0o755, **owner),
               FileEntry("/srv/shop/index.html", "file", 0o644, size=len(page), blob=blob,
                         **owner),
               FileEntry("/srv/other/secret", "file", 0o600, size=len(page), blob=blob,
                         **owner))))
    plan = replace(saved_plan(), snapshot_id=snapshot)
    folder = state.root / "plans" / plan.name
    write_json(folder / "plan.json", json.loads(PLAN_FIXTURE.read_text()) |
               {"snapshot_id": snapshot})
    project = render_project(plan, folder / "project", vault_document="vault\n",
                             export_options=cli_options(state, None, str(store)))

    (command,) = readme_commands(project, "export")
    monkeypatch.chdir(project)  # where the README is read
    assert run_cli(command[1:]) == 0
    with tarfile.open(project / "payload" / "files.tar") as archive:
        assert archive.getnames() == ["srv/shop", "srv/shop/index.html"]
        extracted = archive.extractfile("srv/shop/index.html")
        assert extracted is not None and extracted.read() == page
    assert (project / "payload" / "postgresql-shop.dump").read_bytes() == b"PGDMP fake custom dump"


def test_each_dump_names_the_role_that_restores_it_and_what_that_role_needs() -> None:
    """The engines say (Engine.playbook_vars): a cluster or instance beyond the first with
    its port, a SQLite file with its owner and mode, redis; a server in a container none."""
    databases = (
        DatabasePlan("postgresql", "shop", 1, 1, "shop"),
        DatabasePlan("postgresql@15-second:5433", "*globals*", 1, 0),
        DatabasePlan("postgresql@15-second:5433", "ledger", 1, 1, "postgres"),
        DatabasePlan("mariadb@second:3307", "*users*", 1, 0),
        DatabasePlan("mariadb@second:3307", "ledger", 1, 1),
        DatabasePlan("redis", "keyspace", 1, 2),
        DatabasePlan("sqlite", "/srv/app/app.db", 1, 2, "www-data:www-data:0640"),
        DatabasePlan("postgresql@podman:shop_db_1", "shop", 1, 1, "shop"))
    found = host_vars(replace(saved_plan(), databases=databases))
    entries = {(d["engine"], d["name"]): d for d in found["evacuate_databases"]}
    assert entries[("postgresql", "shop")] == {
        "engine": "postgresql", "name": "shop", "owner": "shop",
        "dump": "postgresql-shop.dump", "role": "postgresql"}
    second = {"version": "15", "name": "second", "port": 5433}
    assert entries[("postgresql@15-second:5433", "ledger")]["cluster"] == second
    assert entries[("mariadb@second:3307", "ledger")]["instance"] == {
        "name": "second", "port": 3307, "unit": "mariadb@second.service"}
    assert entries[("redis", "keyspace")]["role"] == "redis"
    sqlite = entries[("sqlite", "/srv/app/app.db")]
    assert (sqlite["role"], sqlite["file_owner"], sqlite["file_mode"]) == (
        "sqlite", "www-data:www-data", "0640")
    assert entries[("postgresql@podman:shop_db_1", "shop")]["role"] == ""
    accounts = {d["engine"]: d for d in found["evacuate_database_globals"]}
    assert accounts["postgresql@15-second:5433"]["cluster"] == second
    assert accounts["mariadb@second:3307"]["instance"]["name"] == "second"
    assert "cluster" not in entries[("postgresql", "shop")]
