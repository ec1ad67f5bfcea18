"""A second instance of an engine (a second PostgreSQL cluster, made with
``pg_createcluster 15 second --port 5433``, inventory captured on the lab's lab-source:
tests/fixtures/inventory/postgresql/bookworm_two_clusters.json) is dumped and rebuilt as an
instance of its own, never folded into the first: its dumps are taken on its port and
tagged with it (``postgresql@15-second:5433``), its data directory is left to them, the
restore makes the cluster on the target with its port and carried configuration and loads
into it, and verify, owners and check names read the cluster each dump came from."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from evacuate.engines import (
    engine_for,
    extra_instances,
    owner_of,
    plan_warnings,
    primary_server,
    selected_servers,
    server_of,
    undumped_units,
)
from evacuate.engines.base import LoadResult, base_engine, database_label, instance_of
from evacuate.engines.postgresql import cluster_command
from evacuate.inventory.facts.postgresql import parse
from evacuate.inventory.model import HostInventory
from evacuate.snapshot.databases import jobs_for
from evacuate.snapshot.engine import SnapshotRequest, plan_snapshot
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from evacuate.transport.base import Command, CommandResult
from evacuate.transport.local import LocalTransport
from evacuate.verify.databases import compare_databases, counts_script, parse_counts_output

CAPTURED = Path(__file__).parent.parent / "fixtures" / "inventory" / "postgresql" / \
    "bookworm_two_clusters.json"
SERVERS = parse(json.loads(CAPTURED.read_text())["output"])
SOURCE = HostInventory(host="source", collected_at="", databases=SERVERS)  # type: ignore[call-arg]
SECOND = "postgresql@15-second:5433"
BLOB = BlobRef("0" * 64, 1, 1)


def test_both_clusters_are_found_each_with_its_own_databases() -> None:
    assert [(s.cluster, s.port, s.data_dir) for s in SERVERS] == [
        ("main", 5432, "/var/lib/postgresql/15/main"),
        ("second", 5433, "/var/lib/postgresql/15/second")]
    assert sorted(d.name for d in SERVERS[1].databases) == ["ledger", "postgres", "shop"]


def test_both_clusters_are_dumped_each_on_its_port_and_the_second_tagged() -> None:
    selection = selected_servers(SERVERS, {})
    assert selection.dumped == SERVERS and selection.as_files == () and not selection.warnings
    main = jobs_for(SERVERS[0], SERVERS)
    second = jobs_for(SERVERS[1], SERVERS)
    assert {j.engine for j in main} == {"postgresql"}
    assert all("-p 5432" in j.command and "-p 5433" not in j.command for j in main)
    assert {j.engine for j in second} == {SECOND}
    assert all("-p 5433" in j.command for j in second)
    assert all("-p 5433" in (j.counts_command or "") for j in second if j.counts_command)
    assert {j.database for j in main} == {"*globals*", "postgres", "shop"}
    assert {j.database for j in second} == {"*globals*", "postgres", "ledger", "shop"}
    # the two shops are two dumps, keyed apart
    assert len({(j.engine, j.database) for j in main + second}) == len(main + second)


def test_the_tag_names_version_cluster_and_port() -> None:
    assert base_engine(SECOND) == "postgresql" and instance_of(SECOND) == "15-second:5433"
    assert engine_for(SECOND) is engine_for("postgresql")
    assert database_label(SECOND, "shop") == "15-second:5433/shop"
    assert database_label("postgresql", "shop") == "shop"


def test_both_data_directories_are_left_to_the_dumps() -> None:
    plan = plan_snapshot(SOURCE, SnapshotRequest(host="source"))
    assert plan.database_dirs == ["/var/lib/postgresql/15/main", "/var/lib/postgresql/15/second"]
    for cluster in ("main", "second"):
        assert not plan.exclusion.classify(f"/var/lib/postgresql/15/{cluster}/PG_VERSION",
                                           None, "file").carried


def test_no_warning_and_no_unit_left_to_stop() -> None:
    assert plan_warnings(SOURCE, [("postgresql", "shop"), (SECOND, "ledger")]) == []
    assert extra_instances(SERVERS) == {} and undumped_units(SOURCE) == ()


def test_owners_and_verify_read_each_dumps_own_cluster() -> None:
    assert primary_server(SERVERS, "postgresql") is SERVERS[0]
    assert server_of(SERVERS, SECOND) is SERVERS[1]
    assert server_of(SERVERS, "postgresql@15-third:5434") is None
    assert owner_of(SOURCE, "postgresql", "shop") == "shop"
    assert owner_of(SOURCE, SECOND, "shop") == "postgres"  # the second's own shop
    main = DumpEntry("postgresql", "shop", "custom", BLOB, False, {"public.orders": 3})
    second = DumpEntry(SECOND, "shop", "custom", BLOB, False, {"public.second_only": 1})
    script = counts_script(SOURCE, [main, second])
    first, _, rest = script.partition(f"{SECOND} shop")
    assert "-p 5432" in first and "-p 5433" not in first
    assert "-p 5433" in rest and "-p 5432" not in rest
    output = ("@@evacuate-verify-db postgresql shop\npublic.orders\t3\n@@rc 0\n"
              f"@@evacuate-verify-db {SECOND} shop\npublic.second_only\t1\n@@rc 0\n")
    checks = compare_databases([main, second], parse_counts_output(output))
    assert {c.name: c.status for c in checks} == {
        "shop: public.orders": "pass", "15-second:5433/shop: public.second_only": "pass"}
    wrong = ("@@evacuate-verify-db postgresql shop\npublic.orders\t3\n@@rc 0\n"
             f"@@evacuate-verify-db {SECOND} shop\npublic.second_only\t0\n@@rc 0\n")
    assert [c.status for c in compare_databases([main, second],
                                                parse_counts_output(wrong))] == ["pass", "fail"]


class Recording(LocalTransport):
    """The target: records what ran, answers 'no such database, no tables' to counts."""

    def __init__(self) -> None:
        super().__init__(name="root@target:22")
        self.commands: list[str] = []

    def run(self, command: Command, **kwargs: object) -> CommandResult:  # type: ignore[override]
        assert isinstance(command, str)
        self.commands.append(command)
        return CommandResult(self.name, command, 0, b"0\n", b"", 0.0)


def test_the_restore_makes_the_cluster_and_loads_into_its_port() -> None:
    engine = engine_for(SECOND)
    assert engine is not None
    target, loaded = Recording(), []

    def load(command: str) -> LoadResult:
        loaded.append(command)
        return LoadResult(0, ())

    dump = DumpEntry(SECOND, "ledger", "custom", BLOB, False, {"public.entries": 40})
    assert engine.restore(target, load, dump, "postgres") == "restored"
    # the cluster program (run by the tests below) with this cluster's arguments
    assert target.commands[0] == cluster_command("15-second:5433")
    assert target.commands[0].endswith("' postgresql_cluster /etc/postgresql/15/second 15 "
                                       "second 5433")
    assert all(" -p 5433 " in c for c in target.commands[1:]), target.commands
    assert loaded == ["runuser -u postgres -- pg_restore -p 5433 -d ledger --exit-on-error"]
    engine.drop(target, dump)
    assert target.commands[-1].startswith("runuser -u postgres -- dropdb -p 5433 ")
    # the main cluster's dump: no cluster made, the default port
    target, loaded = Recording(), []
    engine.restore(target, load, DumpEntry("postgresql", "shop", "custom", BLOB, False,
                                           {"public.orders": 3}), "shop")
    assert not any("pg_createcluster" in c or "-p " in c for c in target.commands + loaded)


def _fake_tools(bin_dir: Path, log: Path) -> dict[str, str]:
    """pg_createcluster and systemctl that log their arguments; pg_createcluster writes a
    new configuration and data directory as the real one does."""
    bin_dir.mkdir()
    (bin_dir / "pg_createcluster").write_text(
        "#!/bin/sh\n"
        f"echo \"pg_createcluster $*\" >> {log}\n"
        "d=\"$CONF.data\"; while [ $# -gt 0 ]; do [ \"$1\" = -d ] && d=$2; shift; done\n"
        f"mkdir -p \"$CONF\" \"$d\" && echo new > \"$CONF/postgresql.conf\" && "
        "echo new > \"$CONF/pg_hba.conf\" && echo new > \"$CONF/start.conf\" && "
        "echo 15 > \"$d/PG_VERSION\"\n")
    (bin_dir / "systemctl").write_text(f"#!/bin/sh\necho \"systemctl $*\" >> {log}\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_the_carried_configuration_goes_back_over_the_new_clusters(tmp_path: Path) -> None:
    conf, data, log = tmp_path / "etc" / "15" / "second", tmp_path / "data", tmp_path / "log"
    conf.mkdir(parents=True)
    (conf / "postgresql.conf").write_text(f"port = 5433\ndata_directory = '{data}'\t# set\n")
    (conf / "pg_hba.conf").write_text("host all all 10.0.0.0/8 scram-sha-256\n")
    env = _fake_tools(tmp_path / "bin", log) | {"CONF": str(conf)}
    command = cluster_command("15-second:5433", conf_root=str(tmp_path / "etc"))
    subprocess.run(["sh", "-c", command], env=env, check=True)
    assert log.read_text().splitlines() == [
        f"pg_createcluster 15 second --port 5433 -d {data}",
        "systemctl start postgresql@15-second.service"]
    assert (conf / "pg_hba.conf").read_text() == "host all all 10.0.0.0/8 scram-sha-256\n"
    assert "port = 5433" in (conf / "postgresql.conf").read_text()
    assert (conf / "start.conf").read_text() == "new\n"  # what the source did not carry
    assert not (tmp_path / "etc" / "15" / "second.evacuate").exists()
    # again (a re-run, the next dump): the cluster is there, it is only started
    subprocess.run(["sh", "-c", command], env=env, check=True)
    assert log.read_text().splitlines()[2:] == ["systemctl start postgresql@15-second.service"]


def test_without_a_carried_configuration_the_cluster_is_made_at_its_default(
        tmp_path: Path) -> None:
    log = tmp_path / "log"
    conf = tmp_path / "etc" / "15" / "second"
    env = _fake_tools(tmp_path / "bin", log) | {"CONF": str(conf)}
    subprocess.run(["sh", "-c", cluster_command("15-second:5433",
                                                conf_root=str(tmp_path / "etc"))],
                   env=env, check=True, cwd=tmp_path)
    assert log.read_text().splitlines()[0] == "pg_createcluster 15 second --port 5433"
